"""Evaluating the move-size model (``models.move``) out of sample, beside two baselines:

- the rule the service falls back on (``common.signals``: 48-candle mean |return| x sqrt(h)); for the
  log range its level and slope are fitted by least squares on the training rows, and its quantiles are
  the ones served under the rule (normal, same mean |return|, centred on the same probability);
- HAR: least squares of the log range on the 1-, 24- and 168-candle means of the one-candle log range,
  fitted on the training rows.

Training rows: the move model's own training period (its manifest), else everything before the test.
Figures: R^2 of the log range, QLIKE of the squared range (each forecast's variance is exp(2 mu + 2 s^2),
s^2 its residual variance on training, the model's on validation), the pinball loss of each return
quantile (bps), and the coverage of the 50% and 90% intervals overall, per coin and per volatility
tercile (terciles of the rule's trailing move at t, known before the outcome)."""

from __future__ import annotations

import numpy as np

from ..common.signals import expected_move_bps
from ..common.times import to_ms
from ..data.timeframes import TIMEFRAME_MS
from ..features.datasets import build_pooled
from ..models.move import (
    QUANTILE_NAMES,
    QUANTILES,
    MoveForecast,
    future_targets,
    har_inputs,
    pooled_inputs,
    rule_forecast,
)

HAR_COLUMNS = [0, 2, 3]  # of har_inputs: the 1-, 24- and 168-candle means of the log range


def move_rows(entry, data, ends: np.ndarray, horizon: int, p: np.ndarray) -> MoveForecast:
    """The move model's forecast at rows ``ends`` of ``data`` (scaled with the entry's scaler), as
    serving computes it for the same candles (``serving.move``)."""
    column = entry.horizons.index(horizon)
    return entry.model.forecast(entry.model.predict_log(pooled_inputs(data, ends), column), p, column)


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Coefficients (intercept first) and residual variance."""
    design = np.column_stack([np.ones(len(x)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coef, float(np.var(y - design @ coef))


def _fit_baselines(data, rows: np.ndarray, y: np.ndarray, horizon: int):
    """The rule's and HAR's log-range regressions on the training ``rows`` (targets ``y``)."""
    first = np.searchsorted(data.symbol_index, data.symbol_index[rows])
    rule = np.log(np.maximum(expected_move_bps(data.close, rows, horizon=horizon, first=first) / 10_000, 1e-4))
    har = har_inputs(data.high, data.low, data.close, rows, first)[:, HAR_COLUMNS]
    return _ols(rule[:, None], y), _ols(har, y)


def _qlike(y: np.ndarray, mu: np.ndarray, s2: float) -> float:
    ratio = np.exp(2 * y) / np.exp(2 * mu + 2 * s2)
    return float(np.mean(ratio - np.log(ratio) - 1))


def _pinball(r_bps: np.ndarray, q: np.ndarray) -> dict:
    out = {}
    for k, (name, a) in enumerate(zip(QUANTILE_NAMES, QUANTILES)):
        d = r_bps - q[:, k]
        out[name] = float(np.mean(np.maximum(a * d, (a - 1) * d)))
    return out


def _coverage(r_bps: np.ndarray, q: np.ndarray, mask: np.ndarray | None = None) -> dict:
    if mask is not None:
        r_bps, q = r_bps[mask], q[mask]
    return {"n": int(len(r_bps)), "coverage_50": float(np.mean((r_bps >= q[:, 1]) & (r_bps <= q[:, 3]))),
            "coverage_90": float(np.mean((r_bps >= q[:, 0]) & (r_bps <= q[:, 4])))}


def _training_rows(entry, data, start_ms: int, col: np.ndarray) -> np.ndarray:
    train = (entry.manifest.training or {}).get("train") or [None, None]
    lo = to_ms(train[0]) if train[0] else None
    hi = min(to_ms(train[1]) + 1, start_ms) if train[1] else start_ms
    mask = data.can_end & np.isfinite(col) & (data.t < hi)
    if lo is not None:
        mask &= data.t >= lo
    return np.flatnonzero(mask)


def evaluate_move(entry, data, ends: np.ndarray, horizon: int, start_ms: int, step_ms: int, p: np.ndarray,
                  centre: str) -> dict:
    """metrics.json's ``move``: the model against the rule and HAR on the rows ``ends`` (module doc).
    ``p``: the probability_up each row's quantiles are centred on (``centre`` says whose)."""
    log_rng, log_ret = future_targets(data.high, data.low, data.close, data.t, step_ms, (horizon,), data.symbol_index)
    log_rng, log_ret = log_rng[:, 0], log_ret[:, 0]
    keep = np.isfinite(log_rng[ends])
    ends, p = ends[keep], p[keep]
    y, r_bps = log_rng[ends], log_ret[ends] * 10_000
    train = _training_rows(entry, data, start_ms, log_rng)
    (rule_coef, rule_s2), (har_coef, har_s2) = _fit_baselines(data, train, log_rng[train], horizon)
    first = np.searchsorted(data.symbol_index, data.symbol_index[ends])
    rule_bps = expected_move_bps(data.close, ends, horizon=horizon, first=first)
    model = move_rows(entry, data, ends, horizon, p)
    rule = rule_forecast(rule_bps, p)
    mu = {"model": model.log_move,
          "rule": rule_coef[0] + rule_coef[1] * np.log(np.maximum(rule_bps / 10_000, 1e-4)),
          "har": np.column_stack([np.ones(len(ends)),
                                  har_inputs(data.high, data.low, data.close, ends, first)[:, HAR_COLUMNS]]) @ har_coef}
    s2 = {"model": entry.model.log_sd_[entry.horizons.index(horizon)] ** 2, "rule": rule_s2, "har": har_s2}
    sst = float(np.sum((y - y.mean()) ** 2))
    terciles = np.quantile(rule_bps, [1 / 3, 2 / 3])
    tercile = np.digitize(rule_bps, terciles)
    sym = data.symbol_index[ends]
    out = {"horizon": horizon, "n": int(len(ends)), "n_train_baselines": int(len(train)), "centre": centre,
           "model_version": entry.version, "target": "log high-low range over the horizon",
           "r2_log_move": {k: float(1 - np.sum((y - m) ** 2) / sst) for k, m in mu.items()},
           "qlike": {k: _qlike(y, m, s2[k]) for k, m in mu.items()},
           "mean_abs_return_bps": float(np.mean(np.abs(r_bps))),
           "mean_expected_bps": {"model": float(np.mean(model.expected_bps)), "rule": float(np.mean(rule_bps))}}
    for name, f in (("model", model), ("rule", rule)):
        out[name] = {"pinball_bps": _pinball(r_bps, f.quantiles_bps), "coverage": _coverage(r_bps, f.quantiles_bps),
                     "coverage_by_tercile": {f"t{k + 1}": _coverage(r_bps, f.quantiles_bps, tercile == k)
                                             for k in range(3)},
                     "coverage_by_symbol": {data.symbols[s]: _coverage(r_bps, f.quantiles_bps, sym == s)
                                            for s in np.unique(sym)}}
    out["tercile_bounds_rule_bps"] = [float(v) for v in terciles]
    return out


def served_move(store, timeframe: str, series: list, anchors: dict | None, data, horizon: int, market=None):
    """(entry, rows) of the timeframe's served move model at ``horizon``, or None (answers use the rule):
    the rows rebuilt with its own features and scaler when the direction models' differ (rows are the
    series' candles end to end, so the same indices name the same candles)."""
    entry = getattr(store, "moves", {}).get(timeframe)
    if entry is None or entry.status != "ready" or horizon not in entry.horizons:
        return None
    if data.scaler is not entry.scaler:
        data = build_pooled(series, entry.feature_set, window=entry.manifest.window, horizons=(horizon,),
                            anchors=anchors, market=market)
        data.scale(entry.scaler)
    return entry, data


def served_move_bps(served, ends: np.ndarray, horizon: int) -> np.ndarray:
    """The expected move each answer at ``ends`` carries (``expected_move_bps``) under the move model."""
    entry, data = served
    return move_rows(entry, data, ends, horizon, np.full(len(ends), 0.5)).expected_bps


def move_section(served, ends: np.ndarray, horizon: int, start_ms: int, timeframe: str, p: np.ndarray | None,
                 backtests: dict | None = None) -> dict:
    """``evaluate_move`` for the served move model. ``p``: the ensemble's probabilities (the default
    answer's centre), else every row is centred on 0.5; ``backtests``: the served signal's backtest under
    the rule and under the model, shown side by side."""
    entry, data = served
    centre = "ensemble" if p is not None else "none (0.5)"
    p = np.full(len(ends), 0.5) if p is None else p
    out = evaluate_move(entry, data, ends, horizon, start_ms, TIMEFRAME_MS[timeframe], p, centre)
    if backtests:
        out["backtest"] = backtests
    return out
