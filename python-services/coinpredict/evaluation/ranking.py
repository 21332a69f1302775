"""Cross-sectional ranking quality: how well ``probability_up`` orders coins against each other at the
same time, which is what a top-N scorer relies on (a model can rank well with a poor AUC, and back).

Rows are pivoted to a (timestamp x symbol) grid, so everything is a handful of array operations.

- ``rank_ic``: the mean over timestamps of the Spearman correlation, across symbols, between
  ``probability_up`` and the realised return over the horizon. Timestamps with fewer than
  ``min_symbols`` symbols, or where every probability (or return) is tied, are skipped.
- ``rank_ic_t``: mean / Newey-West standard error over all kept timestamps, Bartlett kernel with
  ``max(horizon - 1, floor(4 (n / 100) ** (2 / 9)))`` lags: the ``horizon - 1`` lags cover the overlap
  of consecutive h-candle returns, the rule-of-thumb floor the persistence of the signal itself.
  ``rank_ic_t_iid`` (mean / (sd / sqrt(n))) is given beside it to show how much the correction matters.
- ``top_bottom_bps_*``: a dollar-neutral book, +1/k on each of the k = floor(fraction x symbols)
  highest-probability symbols and -1/k on each of the k lowest (ties share a leg's edge), held for
  one horizon and rebalanced every ``horizon`` candles on the backtest's schedule (``holding_starts``:
  non-overlapping, so each period's return is realised before the next rebalance). Net = gross -
  ``fee_bps`` x turnover, where turnover is sum |w_t - w_prev| over both legs (2 for building the
  book from cash, 4 for swapping both legs entirely). Figures are mean bps per holding period of
  ``horizon`` candles; ``top_bottom_t`` is the Newey-West t of the net series.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata

from .backtest import holding_starts

MIN_SYMBOLS = 5
FRACTION = 0.2


def newey_west_se(x: np.ndarray, lags: int) -> float:
    """Standard error of the mean of ``x`` with a Bartlett-kernel long-run variance."""
    n = len(x)
    if n < 2:
        return float("nan")
    d = x - x.mean()
    var = d @ d / n
    for lag in range(1, min(lags, n - 1) + 1):
        var += 2 * (1 - lag / (lags + 1)) * (d[lag:] @ d[:-lag]) / n
    return math.sqrt(max(var, 0.0) / n)


def _lags(n: int, horizon: int) -> int:
    return max(horizon - 1, int(4 * (n / 100) ** (2 / 9))) if n else 0


def _grid(values: np.ndarray, ti: np.ndarray, si: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    out = np.full(shape, np.nan)
    out[ti, si] = values
    return out


def _row_spearman(p: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Spearman per row of two grids whose missing cells coincide (NaN); NaN where undefined."""
    a, b = rankdata(p, axis=1, nan_policy="omit"), rankdata(r, axis=1, nan_policy="omit")
    a -= np.nanmean(a, axis=1, keepdims=True)
    b -= np.nanmean(b, axis=1, keepdims=True)
    den = np.sqrt(np.nansum(a * a, axis=1) * np.nansum(b * b, axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, np.nansum(a * b, axis=1) / den, np.nan)


def _top_bottom(p: np.ndarray, r: np.ndarray, count: np.ndarray, fraction: float, fee: float):
    """Per rebalance (rows of the grids): gross return and turnover of the top/bottom book. A group of
    tied probabilities that straddles a leg's edge shares the leg's remaining weight equally, so the
    book never depends on the order of the symbols."""
    lo = rankdata(p, axis=1, method="min", nan_policy="omit")
    hi = rankdata(p, axis=1, method="max", nan_policy="omit")
    n = count[:, None].astype(np.float64)
    k = np.maximum(1, np.floor(n * fraction))
    size = hi - lo + 1
    top = np.clip(hi - np.maximum(lo, n - k + 1) + 1, 0, None) / size
    bottom = np.clip(np.minimum(hi, k) - lo + 1, 0, None) / size
    w = np.nan_to_num((top - bottom) / k)
    gross = np.nansum(w * r, axis=1)
    turnover = np.abs(np.diff(w, axis=0, prepend=0.0)).sum(axis=1)
    return gross, turnover, gross - fee * turnover


def ranking_quality(p: np.ndarray, future_return: np.ndarray, symbol_index: np.ndarray, t: np.ndarray, *,
                    horizon: int = 1, fee_bps: float = 10.0, min_symbols: int | None = None,
                    fraction: float = FRACTION) -> dict:
    """Rank IC, its t-statistic and the net top/bottom-fraction spread of ``p`` against
    ``future_return`` (the return from t to t + horizon), rows identified by symbol and time.
    ``min_symbols`` defaults to ``MIN_SYMBOLS``, read at call time."""
    min_symbols = MIN_SYMBOLS if min_symbols is None else min_symbols
    p, future_return = np.asarray(p, np.float64), np.asarray(future_return, np.float64)
    ok = np.isfinite(p) & np.isfinite(future_return)
    times, ti = np.unique(t[ok], return_inverse=True)
    _, si = np.unique(symbol_index[ok], return_inverse=True)
    shape = (len(times), int(si.max()) + 1 if len(si) else 0)
    pg, rg = _grid(p[ok], ti, si, shape), _grid(future_return[ok], ti, si, shape)
    count = np.isfinite(pg).sum(axis=1)
    ic = _row_spearman(pg, rg)
    kept = (count >= min_symbols) & np.isfinite(ic)
    out: dict = {"n_timestamps": int(kept.sum()), "min_symbols": min_symbols, "horizon": horizon,
                 "fee_bps": fee_bps, "fraction": fraction}
    if not kept.any():
        nan = float("nan")
        return out | {"symbols_per_timestamp": nan, "rank_ic": nan, "rank_ic_t": nan, "rank_ic_se": nan,
                      "top_bottom_bps_net": nan, "top_bottom_bps_gross": nan, "top_bottom_t": nan}
    ics = ic[kept]
    lags = _lags(len(ics), horizon)
    se = newey_west_se(ics, lags)
    sd = float(ics.std(ddof=1)) if len(ics) > 1 else float("nan")
    # Rebalance every ``horizon`` candles on the candle grid, so holding periods do not overlap.
    step = int(np.diff(times).min()) if len(times) > 1 else 1
    rebalance = kept & holding_starts(times, step, horizon)
    gross, turnover, net = _top_bottom(pg[rebalance], rg[rebalance], count[rebalance], fraction, fee_bps / 1e4)
    tb_se = newey_west_se(net, _lags(len(net), 1))
    return out | {
        "symbols_per_timestamp": float(count[kept].mean()),
        "rank_ic": float(ics.mean()), "rank_ic_sd": sd,
        "rank_ic_se": se, "rank_ic_t": float(ics.mean() / se) if se > 0 else float("nan"),
        "rank_ic_t_iid": float(ics.mean() / sd * math.sqrt(len(ics))) if sd > 0 else float("nan"),
        "rank_ic_hit_rate": float((ics > 0).mean()), "nw_lags": lags,
        "top_bottom_periods": int(len(net)),
        "top_bottom_bps_gross": float(gross.mean() * 1e4), "top_bottom_bps_net": float(net.mean() * 1e4),
        "top_bottom_t": float(net.mean() / tb_se) if tb_se > 0 else float("nan"),
        "top_bottom_turnover": float(turnover.mean()),
    }
