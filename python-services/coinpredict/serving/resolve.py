"""Resolving what a request needs: which loaded models, whether they can answer it, how much history."""

from __future__ import annotations

from dataclasses import replace

from ..data.timeframes import default_horizons
from ..errors import BadRequest, NotFound, Unavailable
from ..features.datasets import min_history
from ..models.ensemble import METHODS
from ..models.registry import ENSEMBLE_ID, MODEL_IDS, unknown_model
from .model_store import LoadedModel, ModelStore
from .requests import Plan, PredictRequest


def not_trained(store: ModelStore, what: str, field: str) -> NotFound:
    """A 404 that lists what is trained: asking again will not help, asking for something else may."""
    return NotFound(f"{what} is not trained", field=field, code="not_trained",
                    details={"details": {"trained": store.trained()}})


def default_horizon(timeframe: str) -> int:
    """The horizon a request without one asks for: the timeframe's first default horizon (API.md: 1),
    never whatever the served versions happen to predict first, so a version trained on other horizons
    cannot change what a default request means."""
    return default_horizons(timeframe)[0]


def at_horizon(entry: LoadedModel, horizon: int) -> LoadedModel:
    """``entry`` as an ensemble member at ``horizon``: unchanged when it predicts it, else not ready, with
    the reason its answer's ``failed_members`` gives (a version trained on other horizons)."""
    if entry.status != "ready" or horizon in entry.horizons:
        return entry
    listed = ", ".join(str(h) for h in entry.horizons)
    return replace(entry, status="not_trained", reason=f"version {entry.version} predicts horizons {listed}, "
                                                       f"not {horizon}")


def members_for(store: ModelStore, tf: str, model: str, horizon: int | None = None) -> list[LoadedModel]:
    """The loaded models a request for ``model`` on ``tf`` at ``horizon`` (default ``default_horizon``)
    needs; raises when it cannot be served. An ensemble member whose version lacks the horizon is
    returned not ready (its answer lists it under ``failed_members``); a single model lacking it is a
    404 ``not_trained``."""
    if model != ENSEMBLE_ID and model not in MODEL_IDS:
        raise unknown_model(model)
    if not store.trained():  # nothing servable yet (first training still running): worth retrying
        raise Unavailable("no model is trained yet", code="model_not_ready", retry_after=60, fault=False)
    if tf not in store.timeframes:
        raise not_trained(store, f"timeframe {tf}", "timeframe")
    h = default_horizon(tf) if horizon is None else horizon
    if model == ENSEMBLE_ID:
        return _ensemble_members(store, tf, h)
    entry = store.get(tf, model)
    if entry.status == "not_trained":
        raise not_trained(store, f"model {model} on {tf}", "model")
    if entry.status != "ready":
        raise Unavailable(f"model {model} is {entry.status} for {tf}: {entry.reason}",
                          code="model_not_ready", retry_after=60)
    if h not in entry.horizons:
        raise not_trained(store, f"horizon {h} of {model} on {tf} (its version {entry.version} predicts horizons "
                                 f"{', '.join(str(x) for x in entry.horizons)})", "horizon")
    return [entry]


def _ensemble_members(store: ModelStore, tf: str, h: int) -> list[LoadedModel]:
    if tf in store.ensemble_failures:
        raise Unavailable(f"the ensemble on {tf} {store.ensemble_failures[tf]}", code="model_not_ready",
                          retry_after=60)
    if tf not in store.ensembles:
        raise not_trained(store, f"the ensemble on {tf}", "model")
    ensembles = store.ensembles[tf][0]
    if h not in ensembles.horizons:
        raise not_trained(store, f"horizon {h} of the ensemble on {tf}", "horizon")
    chosen = set(ensembles.members(h))
    loaded = [store.get(tf, m) for m in MODEL_IDS if m in chosen]
    members = [at_horizon(m, h) for m in loaded]
    if not any(m.status == "ready" for m in members):
        if any(m.status == "ready" for m in loaded):  # ready, but none at this horizon: retrying will not help
            raise not_trained(store, f"horizon {h} of the ensemble on {tf} (no member served predicts it)",
                              "horizon")
        raise Unavailable(f"no ensemble member is ready for {tf}", code="model_not_ready", retry_after=60)
    return members


def check_method(req: PredictRequest) -> None:
    if req.method is not None and req.method not in METHODS:
        raise BadRequest(f"unknown ensemble method {req.method!r}; use one of {', '.join(METHODS)}",
                         field="method", code="invalid_value")


def plan_for(store: ModelStore, req: PredictRequest) -> Plan:
    """The plan for one request, or the ServiceError that refuses it."""
    check_method(req)
    members = members_for(store, req.timeframe, req.model, req.horizon)
    ready = [m for m in members if m.status == "ready"]
    horizon = default_horizon(req.timeframe) if req.horizon is None else req.horizon
    return Plan(members, max(min_history(m.manifest.window) for m in ready), horizon)
