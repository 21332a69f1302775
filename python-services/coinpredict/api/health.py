"""Liveness and readiness for ops: ``degraded`` when a model failed, none is ready, or the data is
synthetic."""

from __future__ import annotations

import time

from flask import Blueprint

from .. import __version__
from .answers import checked
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
    if not counts["ready"]:
        warnings.append("no trained models: run scripts/train.py (make run trains the default profile)")
    return checked(Health, {
        "status": "degraded" if warnings else "ok", "models_loaded": counts["ready"], "models": counts,
        "uptime_s": round(time.time() - st.started, 1), "version": __version__, "data_source": market.mode,
        "timeframes": st.store.timeframes, "warnings": warnings})
