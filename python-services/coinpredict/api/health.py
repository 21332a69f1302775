"""Liveness and readiness for ops: ``degraded`` when a model failed, none is ready, the data is
synthetic, or candles are stale."""

from __future__ import annotations

import time

from flask import Blueprint

from .. import __version__
from ..common.clock import market_time
from ..data.timeframes import TIMEFRAME_MS
from ..ledger.watch import watched_symbols
from .answers import checked, redact
from .schemas.health import Health
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
    data = _data(st)
    if data["stale_symbols"]:
        warnings.append(_stale_warning(data))
    if not counts["ready"]:
        training = [j for j in jobs["active"] if j["status"] == "running"]
        warnings.append(f"no trained models yet: training {training[0]['timeframe']} "
                        f"({training[0]['progress']:.0%}, {training[0]['stage']})" if training else
                        "no trained models: run scripts/train.py or POST /jobs (make run trains the default profile)")
    body = {"status": "degraded" if warnings else "ok", "models_loaded": counts["ready"], "models": counts,
            "uptime_s": round(time.time() - st.started, 1), "version": __version__, "data_source": market.label,
            "timeframes": st.store.timeframes, "warnings": warnings, "jobs": jobs, "data": data}
    if shown := market_time(st.market.clock()):  # CLOCK shifts market time: every age above is measured on it
        body["market_time"] = shown
    return checked(Health, body)


DATA_TTL_S = 5.0  # the freshness summary is computed at most this often per worker (a store aggregate)


def _data(st) -> dict:
    cached = getattr(st, "_data_health", None)
    if cached and time.monotonic() - cached[0] < DATA_TTL_S:
        return cached[1]
    kept = None
    if st.market.live_store is not None:  # the symbols the worker keeps current, not every one ever asked for once
        kept = watched_symbols(st.predictor.universe, st.ledger, st.store.timeframes)
    by_tf = {tf: st.market.freshness(tf, None if kept is None else kept[tf]) for tf in st.store.timeframes}
    finest = min(by_tf, key=lambda tf: TIMEFRAME_MS[tf], default=None)
    stale = [f"{s}/{tf}" for tf, f in by_tf.items() for s in f["stale"]]
    data = {"last_candle_age_s": by_tf[finest]["last_candle_age_s"] if finest else None,
            # coins, not coin-timeframe pairs: 18 coins stale on three timeframes are 18 stale symbols
            "stale_symbols": len({s for f in by_tf.values() for s in f["stale"]}), "stale_examples": stale[:5],
            "by_timeframe": {tf: {"symbols": f["symbols"], "last_candle_age_s": f["last_candle_age_s"],
                                  "stale_symbols": len(f["stale"])} for tf, f in by_tf.items()}}
    st._data_health = (time.monotonic(), data)
    return data


def _stale_warning(data: dict) -> str:
    """How many coins are stale, and on which timeframes how many: '18 symbols have stale candles (1h: 18,
    4h: 18; e.g. ...)'."""
    per_tf = ", ".join(f"{tf}: {f['stale_symbols']}" for tf, f in data["by_timeframe"].items() if f["stale_symbols"])
    return (f"{data['stale_symbols']} symbols have stale candles ({per_tf}; "
            f"e.g. {', '.join(data['stale_examples'])})")


def _jobs(st) -> dict:
    st.jobs.reap()
    active = [{"id": j["id"], "timeframe": j["timeframe"], "status": j["status"],
               "progress": round(j["progress"], 4), "stage": redact(j["stage"])} for j in st.jobs.store.active()]
    return {"queued": sum(j["status"] == "queued" for j in active),
            "running": sum(j["status"] == "running" for j in active), "active": active}
