"""Model listing, per-model status (training, validation and test metrics, serving figures), reload."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from ..data.timeframes import by_duration
from ..ledger import live_detail, live_metrics
from ..models.manifest import Manifest
from ..models.move import QUANTILE_NAMES
from ..models.registry import ENSEMBLE_ID, MODEL_IDS, MODEL_SPECS, MOVE_ID, unknown_model
from ..serving import ModelStore
from ..serving.explain import importance_part
from ..serving.resolve import not_trained
from .answers import checked, redact
from .auth import require_management_key
from .observability import serving_figures
from .schemas.common import canonical_model_id
from .schemas.models import LiveQuery, LiveSkill, ModelList, ModelStatus, Reloaded, StatusQuery
from .state import state

bp = Blueprint("models", __name__, url_prefix="/models")
PREFERRED_TIMEFRAME = "1h"


def _primary(store: ModelStore, model_id: str, timeframe: str | None = None):
    """The entry shown for a model: the timeframe asked for, else 1h when it is ready there, else the
    first ready timeframe."""
    if timeframe is not None:
        return store.get(timeframe, model_id)
    entries = [store.get(tf, model_id) for tf in store.timeframes]
    ready = [e for e in entries if e.status == "ready"]
    pool = ready or [e for e in entries if e.status == "failed"] or entries
    return next((e for e in pool if e.timeframe == PREFERRED_TIMEFRAME), pool[0] if pool else None)


def _skill(manifest: Manifest, evaluation: dict | None) -> str | None:
    test = (evaluation or {}).get("metrics", {})
    if test:
        return test.get("skill")
    return manifest.validation.get("skill")


@bp.get("/list")
def list_models():
    st = state()
    out = []
    for model_id in MODEL_IDS:
        status, timeframes = st.store.status_of(model_id)
        entry = _primary(st.store, model_id)
        manifest = entry.manifest if entry and entry.manifest else Manifest()
        out.append({"id": model_id, "family": MODEL_SPECS[model_id].family, "params": MODEL_SPECS[model_id].params,
                    "status": status, "timeframes": timeframes, "model_version": manifest.version,
                    "skill": _skill(manifest, st.store.evaluation(entry.timeframe, model_id) if entry else None),
                    "reason": redact(entry.reason) if entry and status != "ready" else None})
    ens_tfs = by_duration(st.store.ensembles)
    return checked(ModelList, {"count": len(out), "models": out,
            "ensemble": {"id": ENSEMBLE_ID, "timeframes": ens_tfs, "methods": ["weighted_average", "median", "best"],
                         "status": "ready" if ens_tfs else "not_trained"},
            "move": _move_summary(st.store)})


def _move_summary(store: ModelStore) -> dict:
    """The move-size model, listed apart from the direction models (it is not one of the 19)."""
    entries = [store.moves[tf] for tf in store.timeframes if tf in store.moves]
    ready = [e for e in entries if e.status == "ready"]
    shown = next((e for e in ready if e.timeframe == "1h"), ready[0] if ready else None)
    status = "ready" if ready else "failed" if any(e.status == "failed" for e in entries) else "not_trained"
    return {"id": MOVE_ID, "kind": "move_size", "timeframes": [e.timeframe for e in ready],
            "model_version": shown.version if shown else None, "status": status}


@bp.get("/<model_id>/status")
def model_status(model_id: str):
    st = state()
    model_id = canonical_model_id(model_id)
    asked = StatusQuery.model_validate(request.args.to_dict()).timeframe
    if model_id == ENSEMBLE_ID:
        return checked(ModelStatus, _ensemble_status(asked))
    if model_id == MOVE_ID:
        return checked(ModelStatus, _move_status(st.store, asked))
    if model_id not in MODEL_IDS:
        raise unknown_model(model_id)
    status, timeframes = st.store.status_of(model_id)
    entry = _primary(st.store, model_id, asked)
    if asked is not None:
        status = entry.status
    loaded = entry.manifest if entry else None
    manifest = loaded or Manifest()
    evaluation = st.store.evaluation(entry.timeframe, model_id) if entry else None
    training = _training(manifest)
    if training:
        training["data_range"] = {"train": training.get("train"), "valid": training.get("valid"),
                                  "end_exclusive": training.get("end_exclusive")}
    return checked(ModelStatus, {**importance_part(st.store, entry), "id": model_id, "status": status,
            "family": MODEL_SPECS[model_id].family,
            "params": manifest.params if manifest.has("params") else MODEL_SPECS[model_id].params,
            "timeframes": timeframes, "timeframe": entry.timeframe if entry else None,
            "model_version": manifest.version, "trained_at": manifest.trained_at,
            "reason": redact(entry.reason) if entry else None,
            "load_error": redact(entry.load_error) if entry else None,
            "feature_hash": manifest.feature_hash,
            "n_features": len(manifest.feature_names if manifest.has("feature_names") else []),
            "window": manifest.window, "horizon": manifest.horizon,
            "horizons": loaded.output_horizons if loaded else None,
            "n_parameters": (manifest.describe or {}).get("n_parameters"),
            "training": training, "skill": _skill(manifest, evaluation),
            "metrics": {"validation": manifest.validation,
                        "validation_by_horizon": (manifest.metrics or {}).get("validation_by_horizon"),
                        "test": (evaluation or {}).get("metrics", {}),
                        "test_period": (evaluation or {}).get("period")},
            "serving": serving_figures(current_app, model_id),
            "live": _live(model_id, entry.timeframe, loaded, evaluation) if loaded else None})


MOVE_FACTS = {"kind": "move_size", "target": "log of the high-low range over the horizon",
              "quantiles": list(QUANTILE_NAMES),
              "calibration": "split-conformal: standardized returns of the validation period (not refit on it)"}


def _move_status(store: ModelStore, asked: str | None) -> dict:
    """The move-size model's status: the timeframe asked for, else 1h when it serves one there, else the
    first timeframe with one; 404 ``not_trained`` when there is none (the answers use the rule)."""
    entries = [store.moves[tf] for tf in store.timeframes if tf in store.moves]
    entries = [e for e in entries if e.status != "not_trained" and (asked is None or e.timeframe == asked)]
    ready = [e for e in entries if e.status == "ready"]
    pool = ready or entries
    entry = next((e for e in pool if e.timeframe == PREFERRED_TIMEFRAME), pool[0] if pool else None)
    if entry is None:
        raise not_trained(store, f"the move model on {asked or 'any timeframe'}", "model_id")
    manifest = entry.manifest or Manifest()
    evaluation = store.evaluations.get(entry.timeframe, {})
    test = evaluation.get("move") or {}
    return {**importance_part(store, entry), "id": MOVE_ID, "family": "move", "move": MOVE_FACTS,
            "status": entry.status, "timeframes": [e.timeframe for e in ready], "timeframe": entry.timeframe,
            "params": manifest.params if manifest.has("params") else {},
            "model_version": manifest.version, "trained_at": manifest.trained_at,
            "reason": redact(entry.reason), "load_error": redact(entry.load_error),
            "feature_hash": manifest.feature_hash,
            "n_features": len(manifest.feature_names if manifest.has("feature_names") else []),
            "window": manifest.window, "horizon": manifest.horizon,
            "horizons": entry.manifest.output_horizons if entry.manifest else None,
            "training": _training(manifest), "skill": None,
            "metrics": {"validation": manifest.validation,
                        "validation_by_horizon": (manifest.metrics or {}).get("validation_by_horizon"),
                        "test": test, "test_period": ({k: evaluation.get(k) for k in ("start", "end", "symbols")}
                                                      if test else None)},
            "serving": serving_figures(current_app, MOVE_ID)}


def _ensemble_timeframe(store: ModelStore, asked: str | None) -> str | None:
    if asked is not None:
        return asked
    ordered = by_duration(store.ensembles)
    return PREFERRED_TIMEFRAME if PREFERRED_TIMEFRAME in ordered else next(iter(ordered), None)


def _ensemble_status(asked: str | None = None):
    st = state()
    tf = _ensemble_timeframe(st.store, asked)
    ens, loaded = st.store.ensembles.get(tf, (None, None))
    manifest = loaded or Manifest()
    evaluation = st.store.evaluation(tf, ENSEMBLE_ID) if tf else None
    return {"id": ENSEMBLE_ID, "status": "ready" if ens else "not_trained", "family": "ensemble",
            "params": manifest.params if manifest.has("params") else {},
            "timeframes": by_duration(st.store.ensembles), "timeframe": tf,
            "model_version": manifest.version, "trained_at": manifest.trained_at,
            "load_error": redact(st.store.ensemble_errors.get(tf)) if tf else None,
            "training": _training(manifest), "ensemble": manifest.ensemble if manifest.has("ensemble") else {},
            "horizons": loaded.output_horizons if loaded else None,
            "skill": _skill(manifest, evaluation),
            "metrics": {"validation": manifest.validation,
                        "validation_by_horizon": (manifest.metrics or {}).get("validation_by_horizon"),
                        "test": (evaluation or {}).get("metrics", {})},
            "serving": serving_figures(current_app, ENSEMBLE_ID),
            "live": _live(ENSEMBLE_ID, tf, loaded, evaluation) if loaded else None}


def _live(model_id: str, timeframe: str, manifest: Manifest, evaluation: dict | None) -> dict:
    """Live skill at the first horizon, against the test figures the model showed offline."""
    return live_metrics(state().ledger, model_id, timeframe, manifest.output_horizons[0],
                        (evaluation or {}).get("metrics"))


@bp.get("/<model_id>/live")
def model_live(model_id: str):
    """Live skill on the served forecasts: calibration and AUC over time, beside the test figures."""
    st = state()
    model_id = known_model_id(model_id)  # the move model forecasts no direction: it has no live skill
    query = LiveQuery.model_validate(request.args.to_dict())
    if model_id == ENSEMBLE_ID:
        tf = _ensemble_timeframe(st.store, query.timeframe)
        manifest = st.store.ensembles.get(tf, (None, None))[1] if tf else None
    else:
        entry = _primary(st.store, model_id, query.timeframe)
        tf = entry.timeframe if entry else query.timeframe
        manifest = entry.manifest if entry else None
    if manifest is None:
        raise not_trained(st.store, f"{model_id} on {tf or 'any timeframe'}", "timeframe")
    horizons = manifest.output_horizons
    horizon = query.horizon or horizons[0]
    if horizon not in horizons:
        raise not_trained(st.store, f"horizon {horizon} of {model_id} on {tf}", "horizon")
    evaluation = st.store.evaluation(tf, model_id)
    if evaluation and st.store.evaluations[tf].get("horizon", 1) != horizon:
        evaluation = None
    test = evaluation or {}
    metrics = manifest.metrics or {}
    validation = (metrics.get("validation_by_horizon") or {}).get(str(horizon)) or \
        (metrics.get("validation") if horizon == horizons[0] else None)
    detail = live_detail(st.ledger, model_id, tf, horizon, test.get("metrics"), window_days=query.days,
                         bucket=query.bucket)
    return checked(LiveSkill, {"id": model_id, "timeframe": tf, "horizon": horizon,
                               "model_version": manifest.version, "test": test.get("metrics"),
                               "test_period": test.get("period"), "validation": validation, **detail})


def known_model_id(raw: str, *, move: bool = False) -> str:
    """The canonical id of one of the 19 models or the ensemble (with ``move``, the move model too); 404
    ``unknown_model`` otherwise."""
    model_id = canonical_model_id(raw)
    if model_id not in (*MODEL_IDS, ENSEMBLE_ID, *((MOVE_ID,) if move else ())):
        raise unknown_model(raw[:64])
    return model_id


def _training(manifest: Manifest) -> dict:
    """Training facts without the folder they were read from (a path on the training machine)."""
    return {k: v for k, v in (manifest.training or {}).items() if k != "data_dir"}


@bp.post("/reload")
def reload_models():
    """Re-read MODELS_DIR without a restart (management: needs API_KEY): this worker at once, every other
    worker and replica sharing MODELS_DIR within MODELS_POLL_S seconds (the reload token tells them)."""
    st = state()
    require_management_key()
    announced = st.reloader.announce()
    report = st.reloader.reload()
    return checked(Reloaded, {"reloaded": report.reloaded, "models": report.counts, "changed": report.changed,
                              "refused": [redact(line) for line in report.refused], "reason": report.reason,
                              "announced": announced})
