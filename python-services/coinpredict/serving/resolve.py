"""Resolving what a request needs: which loaded models, whether they can answer it, how much history."""

from __future__ import annotations

from ..errors import BadRequest, NotFound, Unavailable
from ..features.datasets import min_history
from ..models.ensemble import METHODS
from ..models.registry import ENSEMBLE_ID, MODEL_IDS
from .model_store import LoadedModel, ModelStore
from .requests import Plan, PredictRequest


def not_trained(store: ModelStore, what: str, field: str) -> NotFound:
    """A 404 that lists what is trained: asking again will not help, asking for something else may."""
    return NotFound(f"{what} is not trained", field=field, code="not_trained",
                    details={"details": {"trained": store.trained()}})


def members_for(store: ModelStore, tf: str, model: str, horizon: int | None = None) -> list[LoadedModel]:
    """The loaded models a request for ``model`` on ``tf`` (at ``horizon``, default the first trained)
    needs; raises when it cannot be served."""
    if model != ENSEMBLE_ID and model not in MODEL_IDS:
        raise NotFound(f"unknown model {model!r}", field="model", code="unknown_model")
    if not store.trained():  # nothing servable yet (first training still running): worth retrying
        raise Unavailable("no model is trained yet", code="model_not_ready", retry_after=60, fault=False)
    if tf not in store.timeframes:
        raise not_trained(store, f"timeframe {tf}", "timeframe")
    if model == ENSEMBLE_ID:
        if tf in store.ensemble_failures:
            raise Unavailable(f"the ensemble on {tf} {store.ensemble_failures[tf]}", code="model_not_ready",
                              retry_after=60)
        if tf not in store.ensembles:
            raise not_trained(store, f"the ensemble on {tf}", "model")
        ensembles = store.ensembles[tf][0]
        h = ensembles.horizons[0] if horizon is None else horizon
        if h not in ensembles.horizons:
            raise not_trained(store, f"horizon {h} of the ensemble on {tf}", "horizon")
        chosen = set(ensembles.members(h))
        members = [store.get(tf, m) for m in MODEL_IDS if m in chosen]
        if not any(m.status == "ready" for m in members):
            raise Unavailable(f"no ensemble member is ready for {tf}", code="model_not_ready", retry_after=60)
        return members
    entry = store.get(tf, model)
    if entry.status == "not_trained":
        raise not_trained(store, f"model {model} on {tf}", "model")
    if entry.status != "ready":
        raise Unavailable(f"model {model} is {entry.status} for {tf}: {entry.reason}",
                          code="model_not_ready", retry_after=60)
    return [entry]


def check_method(req: PredictRequest) -> None:
    if req.method is not None and req.method not in METHODS:
        raise BadRequest(f"unknown ensemble method {req.method!r}; use one of {', '.join(METHODS)}",
                         field="method", code="invalid_value")


def horizon_for(store: ModelStore, req: PredictRequest, ready: list[LoadedModel]) -> int:
    """The horizon asked for (default: the first the models predict); 404 when a model lacks it."""
    horizon = req.horizon or 1
    for m in ready:
        horizon = m.horizons[0] if req.horizon is None else req.horizon
        if horizon not in m.horizons:
            raise not_trained(store, f"horizon {horizon} of {m.model_id} on {req.timeframe}", "horizon")
    return horizon


def plan_for(store: ModelStore, req: PredictRequest) -> Plan:
    """The plan for one request, or the ServiceError that refuses it."""
    check_method(req)
    members = members_for(store, req.timeframe, req.model, req.horizon)
    ready = [m for m in members if m.status == "ready"]
    horizon = horizon_for(store, req, ready)
    return Plan(members, max(min_history(m.manifest["window"]) for m in ready), horizon)
