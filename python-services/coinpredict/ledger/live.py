"""Live skill of a model on the forecasts it actually served, and a drift flag.

Every coin's forecast of one candle shares that candle's market move, so forecasts are not independent
draws: intervals, p-values and standard errors here are clustered by candle (and by the candles an
overlapping label spans; ``common.metrics.clustered_auc_se``).

- ``warning``: live log loss is worse than the model's own test figure by more than two (clustered)
  standard errors of the live mean.
- ``insufficient_data``: neither test can run yet: no scored forecast, or fewer than the warning test
  needs (``MIN_WARNING_N``, and a test log loss to compare with) and fewer than the alarm test needs.
  ``drift_reason`` says how many there are and how many each test needs; nothing is claimed ``ok``.
- ``alarm``: live skill is indistinguishable from chance although there are enough forecasts to see the
  skill the model showed in its test: the one-sided test of AUC > 0.5 has p >= 0.05 while n reaches the
  count at which the test AUC would be detected with 80% power (AUC standard error taken as 1/sqrt(3 n),
  its value for balanced independent forecasts, times the design effect the clustering shows), and at
  least 500.
Forecasts are counted once per (model version, symbol, horizon, candle), so asking often does not weigh."""

from __future__ import annotations

import copy
import math
import threading
from collections import OrderedDict
from weakref import WeakKeyDictionary

import numpy as np

from ..common import clock
from ..common.metrics import (
    clustered_auc_ci,
    clustered_auc_se,
    clustered_mean_se,
    expected_calibration_error,
    fast_auc,
    log_loss,
)
from ..common.times import iso
from ..data.timeframes import TIMEFRAME_MS
from .store import LedgerStore

WINDOW_DAYS = 30
MIN_ALARM_N = 500
MIN_WARNING_N = 30  # scored forecasts before the log-loss comparison with the test means anything


def forecasts_needed(test_auc: float | None) -> int:
    """Forecasts at which an AUC of ``test_auc`` is told from 0.5 with 80% power (one-sided, 5%)."""
    if test_auc is None or not math.isfinite(test_auc) or test_auc <= 0.5:
        return MIN_ALARM_N
    return max(MIN_ALARM_N, math.ceil(((1.645 + 0.842) / (math.sqrt(3) * (test_auc - 0.5))) ** 2))


BUCKET_MS = {"day": 86_400_000, "week": 7 * 86_400_000}
CACHED = 256  # figures kept per ledger; each is a few kB


def live_metrics(ledger: LedgerStore, model: str, timeframe: str, horizon: int, test: dict | None, *,
                 now: float | None = None, window_days: float = WINDOW_DAYS) -> dict:
    """Live skill over the window, with a 95% AUC interval and the drift flag."""
    def compute(scored: _Scored) -> dict:
        return _summary(scored, test)
    return _cached(ledger, ("summary", _test_key(test)), model, timeframe, horizon, now, window_days, compute)


def live_detail(ledger: LedgerStore, model: str, timeframe: str, horizon: int, test: dict | None, *,
                now: float | None = None, window_days: float = WINDOW_DAYS, bucket: str | None = None) -> dict:
    """The summary plus what a person reads skill from: calibration by deciles of the served probability
    (the evaluation report's calibration plot, on live outcomes) and AUC per day or week."""
    bucket = bucket or ("day" if TIMEFRAME_MS[timeframe] <= TIMEFRAME_MS["1h"] else "week")

    def compute(scored: _Scored) -> dict:
        return {"summary": _summary(scored, test), "calibration": _calibration(scored),
                "bucket": bucket, "over_time": _over_time(scored, BUCKET_MS[bucket])}
    return _cached(ledger, ("detail", bucket, _test_key(test)), model, timeframe, horizon, now, window_days,
                   compute)


_caches: WeakKeyDictionary[LedgerStore, OrderedDict] = WeakKeyDictionary()
_lock = threading.Lock()


def _cached(ledger: LedgerStore, kind: tuple, model: str, timeframe: str, horizon: int, now: float | None,
            window_days: float, compute) -> dict:
    """Figures are recomputed only when the scored forecasts in the window changed (the status of every
    model and the dashboard ask often; reading 70k forecasts takes a good part of a second, their count
    and last scoring time a few milliseconds)."""
    since_ms = _since_ms(now, window_days)
    marker = ledger.scored_marker(model, timeframe, horizon, since_ms)
    key = (kind, model, timeframe, horizon, window_days)
    with _lock:
        cache = _caches.setdefault(ledger, OrderedDict())
        hit = cache.get(key)
        if hit is not None and hit[0] == marker:
            cache.move_to_end(key)
            return _with_since(copy.deepcopy(hit[1]), since_ms)
    scored = _Scored(ledger.scored(model, timeframe, horizon, since_ms), since_ms, window_days, timeframe, horizon)
    result = compute(scored)
    with _lock:
        cache[key] = (marker, copy.deepcopy(result))
        while len(cache) > CACHED:
            cache.popitem(last=False)
    return result


def _with_since(result: dict, since_ms: int) -> dict:
    (result["summary"] if "summary" in result else result)["since"] = iso(since_ms)
    return result


def _since_ms(now: float | None, window_days: float) -> int:
    now = clock.now() if now is None else now
    return int((now - window_days * 86_400) * 1000)


def _test_key(test: dict | None) -> tuple:
    """What of the test figures the drift flag reads."""
    return tuple((test or {}).get(k) for k in ("auc", "log_loss"))


class _Scored:
    """The scored forecasts of one model, timeframe and horizon in the window, oldest first."""

    def __init__(self, columns: dict[str, np.ndarray], since_ms: int, window_days: float, timeframe: str,
                 horizon: int):
        order = np.argsort(columns["as_of"], kind="stable")
        self.p, self.y = columns["probability_up"][order], columns["outcome_up"][order]
        self.as_of = columns["as_of"][order]
        self.p_rel = columns.get("probability_outperform", np.full(len(order), np.nan))[order]
        self.y_rel = columns.get("outcome_outperform", np.full(len(order), np.nan))[order]
        self.since_ms, self.window_days, self.timeframe, self.horizon = since_ms, window_days, timeframe, horizon
        # Forecasts of one candle across coins, and of the candles one label spans, move together.
        self.clusters = self.as_of // (horizon * TIMEFRAME_MS[timeframe])


def _summary(s: _Scored, test: dict | None) -> dict:
    out = {"window_days": s.window_days, "timeframe": s.timeframe, "horizon": s.horizon, "n_scored": len(s.p),
           "since": iso(s.since_ms), "auc": None, "auc_ci95": None, "accuracy": None, "log_loss": None,
           "calibration_error": None, "p_value": None, "drift": "insufficient_data",
           "drift_reason": "no served forecast in the window is scored yet", "outperform": None}
    if not len(s.p):
        return out
    p, y = s.p, s.y
    out.update(auc=_finite(fast_auc(y, p)), auc_ci95=_interval(y, p, s.clusters),
               accuracy=float(np.mean((p > 0.5) == (y == 1))), log_loss=log_loss(y, p),
               calibration_error=expected_calibration_error(y, p))
    deff = 1.0
    if 0 < y.sum() < len(y):
        auc, se = clustered_auc_se(y, p, s.clusters)
        if math.isfinite(se) and se > 0:
            out["p_value"] = 0.5 * math.erfc((auc - 0.5) / se / math.sqrt(2))  # the normal's upper tail
            deff = max(1.0, (se / clustered_auc_se(y, p, np.arange(len(y)))[1]) ** 2)
    out["drift"], out["drift_reason"] = _drift(s, out, test or {}, deff)
    out["outperform"] = _relative(s)
    return out


def _relative(s: _Scored) -> dict | None:
    """Live skill of ``probability_outperform`` on the forecasts whose relative outcome is known; None
    when none is (a model trained without the relative target)."""
    known = np.isfinite(s.p_rel) & np.isfinite(s.y_rel)
    if not known.any():
        return None
    p, y = s.p_rel[known], s.y_rel[known]
    return {"n_scored": int(known.sum()), "auc": _finite(fast_auc(y, p)),
            "auc_ci95": _interval(y, p, s.clusters[known]), "accuracy": float(np.mean((p > 0.5) == (y == 1))),
            "log_loss": log_loss(y, p)}


def _calibration(s: _Scored, bins: int = 10) -> list[dict]:
    """Deciles of the served probability: their mean against how often the price went up."""
    order = np.argsort(s.p, kind="stable")
    return [{"p_mean": float(s.p[b].mean()), "observed": float(s.y[b].mean()), "n": int(len(b))}
            for b in np.array_split(order, bins) if len(b)]


def _over_time(s: _Scored, bucket_ms: int) -> list[dict]:
    """Skill per bucket of forecast time, each with its own interval (wide on a day of few forecasts)."""
    out = []
    keys = s.as_of // bucket_ms
    for key in np.unique(keys):
        mask = keys == key
        y, p = s.y[mask], s.p[mask]
        out.append({"start": iso(int(key) * bucket_ms), "n": int(mask.sum()), "auc": _finite(fast_auc(y, p)),
                    "auc_ci95": _interval(y, p, s.clusters[mask]),
                    "accuracy": float(np.mean((p > 0.5) == (y == 1))), "log_loss": log_loss(y, p)})
    return out


def _interval(y: np.ndarray, p: np.ndarray, clusters: np.ndarray) -> list[float] | None:
    lo, hi = clustered_auc_ci(y, p, clusters)
    return [lo, hi] if math.isfinite(lo) and math.isfinite(hi) else None


def _drift(s: _Scored, live: dict, test: dict, deff: float) -> tuple[str, str | None]:
    """``deff``: how many times the variance of the AUC exceeds its value for independent forecasts (the
    design effect of forecasts clustered by candle); the forecasts needed to see the test AUC grow by it."""
    needed = math.ceil(forecasts_needed(test.get("auc")) * deff)
    if live["p_value"] is not None and live["n_scored"] >= needed and live["p_value"] >= 0.05:
        return "alarm", (f"no skill on {live['n_scored']} served forecasts (AUC {live['auc']:.4f}, one-sided "
                         f"p {live['p_value']:.3f} clustered by candle; {needed} suffice to see the test AUC)")
    test_loss = test.get("log_loss")
    if test_loss is not None and len(s.y) >= MIN_WARNING_N:
        clipped = np.clip(s.p, 1e-7, 1 - 1e-7)
        per = -(s.y * np.log(clipped) + (1 - s.y) * np.log(1 - clipped))
        se = clustered_mean_se(per, s.clusters)
        if live["log_loss"] > test_loss + 2 * se:
            return "warning", (f"live log loss {live['log_loss']:.4f} is worse than the test's {test_loss:.4f} "
                               f"by more than two standard errors ({se:.4f}, clustered by candle)")
        return "ok", None
    if live["p_value"] is not None and live["n_scored"] >= needed:
        return "ok", None
    compare = (f"{MIN_WARNING_N} to compare log loss with the test's" if test_loss is not None
               else "an evaluation (scripts/evaluate.py) to compare log loss with")
    return "insufficient_data", (f"{live['n_scored']} scored forecasts: drift needs {compare}, "
                                 f"{needed} to test skill")


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None
