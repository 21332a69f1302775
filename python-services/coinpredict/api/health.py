"""Liveness and readiness for ops: ``degraded`` when a model failed, none is ready, or the data is
synthetic."""

from __future__ import annotations

import time

from flask import Blueprint

from .. import __version__
from .answers import checked, redact
from .schemas import Health
from .state import state

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    st = state()
    counts = st.store.counts()
    warnings = []
    market = st.market.status()
    if market.warning:
        warnings.append(market.warning)
    if counts["failed"]:
        warnings.append(f"{counts['failed']} models failed to load (see /models/list)")
    warnings.extend(st.reloader.warnings())
    jobs = _jobs(st)
    if not counts["ready"]:
        training = [j for j in jobs["active"] if j["status"] == "running"]
        warnings.append(f"no trained models yet: training {training[0]['timeframe']} "
                        f"({training[0]['progress']:.0%}, {training[0]['stage']})" if training else
                        "no trained models: run scripts/train.py or POST /jobs (make run trains the default profile)")
    return checked(Health, {
        "status": "degraded" if warnings else "ok", "models_loaded": counts["ready"], "models": counts,
        "uptime_s": round(time.time() - st.started, 1), "version": __version__, "data_source": market.mode,
        "timeframes": st.store.timeframes, "warnings": warnings, "jobs": jobs})


def _jobs(st) -> dict:
    st.jobs.reap()
    active = [{"id": j["id"], "timeframe": j["timeframe"], "status": j["status"],
               "progress": round(j["progress"], 4), "stage": redact(j["stage"])} for j in st.jobs.store.active()]
    return {"queued": sum(j["status"] == "queued" for j in active),
            "running": sum(j["status"] == "running" for j in active), "active": active}
