"""Model versions over HTTP: list (no key), promote (a rollback is a promotion of an older version) and
delete (management). The answering worker applies a change at once; the others follow within
``MODELS_POLL_S`` seconds (serving.reloader)."""

from __future__ import annotations

from flask import Blueprint, request

from ..models.artifacts import folder_version, version_folder
from ..models.registry import ENSEMBLE_ID, MOVE_ID
from ..serving import ModelStore
from ..training.versions import current_folder, delete_version, list_versions, promote
from .answers import checked, redact
from .auth import require_management_key
from .body import json_body
from .models import known_model_id
from .schemas.versions import Promoted, PromoteRequest, VersionDeleted, VersionList, VersionsQuery
from .state import state

bp = Blueprint("versions", __name__, url_prefix="/models")


def served(store: ModelStore, timeframe: str, model_id: str) -> tuple[str | None, str, str | None]:
    """(version served, status, load error) of one model on one timeframe in ``store``."""
    if model_id == ENSEMBLE_ID:
        if timeframe in store.ensembles:
            return store.ensembles[timeframe][1].version, "ready", store.ensemble_errors.get(timeframe)
        failure = store.ensemble_failures.get(timeframe)
        return None, "failed" if failure else "not_trained", failure
    entry = store.moves.get(timeframe) if model_id == MOVE_ID else store.get(timeframe, model_id)
    if entry is None:
        return None, "not_trained", None
    if entry.status == "ready":
        return entry.version, "ready", entry.load_error
    return None, entry.status, entry.reason if entry.status == "failed" else None


@bp.get("/<model_id>/versions")
def versions(model_id: str):
    """Every version on disk, newest first, with what this worker serves (needs no key)."""
    model_id = known_model_id(model_id, move=True)
    query = VersionsQuery.model_validate(request.args.to_dict())
    st = state()
    st.reloader.poll_once()  # answer about the files as they are now, not as of the last poll
    listing = list_versions(st.settings.models_dir, query.timeframe, model_id, lookback=st.settings.serve_lookback)
    version, _, problem = served(st.store, query.timeframe, model_id)
    for item in listing["versions"]:
        if item["status"] == "serving" and item["version"] != version:
            item["status"], item["reason"] = "refused", redact(problem) or "not loaded (see the service log)"
        elif item["version"] == version:
            item["status"] = "serving"
    return checked(VersionList, {"id": model_id, "timeframe": query.timeframe, "serving": version,
                                 "current": listing["serving"], "versions": listing["versions"]})


@bp.post("/<model_id>/promote")
def promote_version(model_id: str):
    """Serve a version (management): verified to load and to be usable by the serving first (409
    ``incompatible_version`` for one trained on other horizons, unless ``force``), then named by CURRENT;
    this worker reloads at once."""
    require_management_key()
    model_id = known_model_id(model_id, move=True)
    body = json_body(PromoteRequest)
    st = state()
    before = current_folder(st.settings.models_dir, body.timeframe, model_id)
    promoted = promote(st.settings.models_dir, body.timeframe, model_id, body.version, force=body.force,
                       lookback=st.settings.serve_lookback)
    report = st.reloader.reload()
    version, status, problem = served(st.store, body.timeframe, model_id)
    refit = None
    member = model_id not in (ENSEMBLE_ID, MOVE_ID)  # the move model is no member: nothing to refit
    if member and before != version_folder(promoted) and body.timeframe in st.store.ensembles:
        refit = st.jobs.refit_ensemble(body.timeframe)
    return checked(Promoted, {"id": model_id, "timeframe": body.timeframe, "version": promoted,
                              "previous": folder_version(before) if before else None, "serving": version,
                              "status": status, "load_error": redact(problem), "changed": report.changed,
                              "ensemble_job": refit["id"] if refit else None})


@bp.delete("/<model_id>/versions/<version>")
def delete(model_id: str, version: str):
    """Delete a version that is not served (management): 409 for the one CURRENT names or this worker
    serves."""
    require_management_key()
    model_id = known_model_id(model_id, move=True)
    query = VersionsQuery.model_validate(request.args.to_dict())
    st = state()
    serving, _, _ = served(st.store, query.timeframe, model_id)
    in_use = frozenset({version_folder(serving)} if serving else ())
    deleted = delete_version(st.settings.models_dir, query.timeframe, model_id, version, in_use=in_use)
    return checked(VersionDeleted, {"id": model_id, "timeframe": query.timeframe, "deleted": deleted,
                                    "serving": serving})
