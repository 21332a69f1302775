"""Live skill of a model on the forecasts it actually served, and a drift flag.

- ``warning``: live log loss is worse than the model's own test figure by more than two standard
  errors of the live mean (the per-forecast log losses' standard deviation over sqrt(n)).
- ``alarm``: live skill is indistinguishable from chance although there are enough forecasts to see the
  skill the model showed in its test: the one-sided Mann-Whitney test of AUC > 0.5 has p >= 0.05 while n
  reaches the count at which the test AUC would be detected with 80% power (AUC standard error taken as
  1/sqrt(3 n), its value for balanced classes), and at least 500.
Forecasts are counted once per (model version, symbol, horizon, candle), so asking often does not weigh."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import mannwhitneyu

from ..common import clock
from ..common.metrics import expected_calibration_error, fast_auc, log_loss
from ..common.times import iso
from .store import LedgerStore

WINDOW_DAYS = 30
MIN_ALARM_N = 500


def forecasts_needed(test_auc: float | None) -> int:
    """Forecasts at which an AUC of ``test_auc`` is told from 0.5 with 80% power (one-sided, 5%)."""
    if test_auc is None or not math.isfinite(test_auc) or test_auc <= 0.5:
        return MIN_ALARM_N
    return max(MIN_ALARM_N, math.ceil(((1.645 + 0.842) / (math.sqrt(3) * (test_auc - 0.5))) ** 2))


def live_metrics(ledger: LedgerStore, model: str, timeframe: str, horizon: int, test: dict | None, *,
                 now: float | None = None, window_days: float = WINDOW_DAYS) -> dict:
    now = clock.now() if now is None else now
    since_ms = int((now - window_days * 86_400) * 1000)
    rows = ledger.scored(model, timeframe, horizon, since_ms)
    out = {"window_days": window_days, "timeframe": timeframe, "horizon": horizon, "n_scored": len(rows),
           "since": iso(since_ms), "auc": None, "accuracy": None, "log_loss": None, "calibration_error": None,
           "p_value": None, "drift": "ok", "drift_reason": None}
    if not rows:
        return out
    p = np.array([r["probability_up"] for r in rows], dtype=np.float64)
    y = np.array([bool(r["outcome_up"]) for r in rows], dtype=np.float64)
    out.update(auc=_finite(fast_auc(y, p)), accuracy=float(np.mean((p > 0.5) == (y == 1))), log_loss=log_loss(y, p),
               calibration_error=expected_calibration_error(y, p))
    if 0 < y.sum() < len(y):
        out["p_value"] = float(mannwhitneyu(p[y == 1], p[y == 0], alternative="greater").pvalue)
    out["drift"], out["drift_reason"] = _drift(y, p, out, test or {})
    return out


def _drift(y: np.ndarray, p: np.ndarray, live: dict, test: dict) -> tuple[str, str | None]:
    needed = forecasts_needed(test.get("auc"))
    if live["p_value"] is not None and live["n_scored"] >= needed and live["p_value"] >= 0.05:
        return "alarm", (f"no skill on {live['n_scored']} served forecasts (AUC {live['auc']:.4f}, one-sided "
                         f"p {live['p_value']:.3f}; {needed} suffice to see the test AUC)")
    test_loss = test.get("log_loss")
    if test_loss is not None and len(y) >= 30:
        clipped = np.clip(p, 1e-7, 1 - 1e-7)
        per = -(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))
        se = float(per.std(ddof=1) / math.sqrt(len(per)))
        if live["log_loss"] > test_loss + 2 * se:
            return "warning", (f"live log loss {live['log_loss']:.4f} is worse than the test's {test_loss:.4f} "
                               f"by more than two standard errors ({se:.4f})")
    return "ok", None


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None
