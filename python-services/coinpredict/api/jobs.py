"""Training jobs over HTTP: start (``POST /jobs``), watch (``GET``), cancel (``DELETE``). Starting and
cancelling need the management key; the work itself runs in the worker process, never here."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, request

from ..common.times import iso, to_ms
from ..data.timeframes import TIMEFRAME_MS
from ..errors import BadRequest, Conflict, DataError, NotFound, TooManyRequests
from .answers import checked, redact
from .auth import require_management_key
from .body import json_body
from .schemas.jobs import Job, JobList, JobQuery, JobRequest
from .state import state

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def _time(epoch_s: float | None) -> str | None:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if epoch_s else None


def public_job(job: dict) -> dict:
    """A job record as clients see it: ISO times, and no server path in its text. ``schedule_key`` is the
    database's guard against queueing a scheduled job twice; ``params.scheduled`` and ``end`` say it."""
    job = {k: v for k, v in job.items() if k != "schedule_key"}
    return {**job, "created_at": _time(job["created_at"]), "started_at": _time(job["started_at"]),
            "finished_at": _time(job["finished_at"]), "heartbeat_at": _time(job["heartbeat_at"]),
            "error": redact(job["error"]) if job["error"] else None,
            "stage": redact(job["stage"]), "log_tail": [redact(line) for line in job["log_tail"]],
            "cancel_requested": bool(job["cancel_requested"])}


def _checked_dates(req: JobRequest) -> None:
    """Dates must fall within the candles a job can train on."""
    try:
        last = state().jobs.last_candle(req.timeframe)
    except DataError as exc:
        raise BadRequest(f"no {req.timeframe} candles to train on", field="timeframe",
                         code="no_training_data") from exc
    newest = iso(last + TIMEFRAME_MS[req.timeframe])
    end = to_ms(req.end) if req.end else None
    if end is not None and end > last + TIMEFRAME_MS[req.timeframe]:
        raise BadRequest(f"end {req.end} is after the last {req.timeframe} candle (use {newest} or earlier)",
                         field="end", code="invalid_value")
    if req.start and to_ms(req.start) >= (end or last):
        raise BadRequest("start must be before end and before the last candle", field="start", code="invalid_value")


@bp.post("")
def submit():
    require_management_key()
    req = json_body(JobRequest)
    _checked_dates(req)
    jobs = state().jobs
    jobs.reap()
    active = jobs.store.counts()
    limit = state().settings.max_active_jobs
    if active["queued"] + active["running"] >= limit:
        raise TooManyRequests(f"{limit} jobs are already queued or running; wait for one to finish",
                              code="too_many_jobs", retry_after=60)
    params = req.model_dump(exclude={"kind", "timeframe"}, exclude_none=True)
    job = jobs.submit(req.kind, req.timeframe, params)
    return checked(Job, public_job(job)), 202


@bp.get("")
def list_jobs():
    query = JobQuery.model_validate(request.args.to_dict())
    jobs = state().jobs
    jobs.reap()
    found = [public_job(j) for j in jobs.store.list(limit=query.limit, status=query.status)]
    return checked(JobList, {"count": len(found), "jobs": found})


def _job_or_404(job_id: str) -> dict:
    job = state().jobs.store.get(job_id) if len(job_id) <= 64 else None
    if job is None:
        raise NotFound(f"no job {job_id[:64]!r}", field="id", code="unknown_job")
    return job


@bp.get("/<job_id>")
def get_job(job_id: str):
    state().jobs.reap()
    return checked(Job, public_job(_job_or_404(job_id)))


@bp.delete("/<job_id>")
def cancel_job(job_id: str):
    require_management_key()
    job = _job_or_404(job_id)
    if job["status"] not in ("queued", "running"):
        raise Conflict(f"job {job_id} has already ended ({job['status']})", code="job_finished")
    return checked(Job, public_job(state().jobs.store.request_cancel(job_id)))
