"""A strategy's run in figures (OPERATIONS.md, Strategies): net and gross return, Sharpe and Sortino
annualised by the timeframe, drawdown, exposure, turnover, trades, fees and limit events, beside buy-and-
hold of its universe and the equal-weight market over the same closes.

Gross return is the same trades without fees and slippage (the equity plus what they cost). Turnover is
the traded notional over the mean equity (1.0: the book's value traded once). Benchmarks trade nothing
and pay no costs: buy-and-hold splits the capital equally over the universe at the first close and holds
it; the market is the mean one-candle return of every coin with a close, rebalanced every candle.
``benchmark_equity`` gives the same two curves for a paper book's equity points (the API's strategy page).
"""

from __future__ import annotations

import numpy as np

from ..common.times import iso
from ..data.candles import Candles
from ..data.timeframes import periods_per_year
from .book import Fill
from .config import StrategyConfig
from .engine import EquityPoint
from .limits import LimitEvent


def curve_stats(equity: np.ndarray, timeframe: str) -> dict:
    """Return, Sharpe, Sortino and max drawdown of an equity curve sampled once a candle."""
    equity = np.asarray(equity, dtype=np.float64)
    if len(equity) < 2 or equity[0] <= 0:
        return {"return": 0.0, "sharpe": 0.0, "sortino": 0.0, "max_drawdown": 0.0}
    r = equity[1:] / equity[:-1] - 1
    scale = np.sqrt(periods_per_year(timeframe))
    sd = r.std()
    downside = np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))
    return {"return": float(equity[-1] / equity[0] - 1),
            "sharpe": float(r.mean() / sd * scale) if sd > 0 else 0.0,
            "sortino": float(r.mean() / downside * scale) if downside > 0 else 0.0,
            "max_drawdown": float(np.max(1 - equity / np.maximum.accumulate(equity)))}


def benchmark_curves(closes: np.ndarray, universe_cols: list[int]) -> dict[str, np.ndarray]:
    """(buy_and_hold, market) equity curves from 1.0, from a (candles x coins) matrix of closes (NaN where a
    coin has none): buy-and-hold of the ``universe_cols`` coins that have a first close, carried over gaps;
    the market's mean one-candle return over the coins with both closes."""
    closes = np.asarray(closes, dtype=np.float64)
    held = [c for c in universe_cols if np.isfinite(closes[0, c])]
    if held:
        filled = _carry(closes[:, held])
        hold = np.mean(filled / filled[0], axis=1)
    else:
        hold = np.ones(len(closes))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = closes[1:] / closes[:-1] - 1
    ok = np.isfinite(r)
    counts = ok.sum(axis=1)
    mean = np.where(counts > 0, np.where(ok, r, 0.0).sum(axis=1) / np.maximum(counts, 1), 0.0)
    market = np.concatenate([[1.0], np.cumprod(1 + mean)])
    return {"buy_and_hold": hold, "market": market}


def _carry(x: np.ndarray) -> np.ndarray:
    """Each column's last finite value carried forward."""
    out = x.copy()
    for i in range(1, len(out)):
        gap = ~np.isfinite(out[i])
        out[i, gap] = out[i - 1, gap]
    return out


VOLUME_LOOKBACK_MS = 30 * 86_400_000  # a top-N universe: the most quote volume over the 30 days before


def top_by_quote_volume(series: list[Candles], n: int, before_ms: int, step_ms: int,
                        lookback_ms: int = VOLUME_LOOKBACK_MS) -> list[str]:
    """The ``n`` coins with the most quote volume (close x volume) over the candles that closed in the
    ``lookback_ms`` before ``before_ms``: the backtest's rule for ``{"top": N}``, from what was known then."""
    volume = {}
    for c in series:
        closed = c.t + step_ms
        window = (closed <= before_ms) & (closed > before_ms - lookback_ms)
        if window.any():
            volume[c.symbol] = float(np.sum(c.close[window] * c.volume[window]))
    return sorted(volume, key=lambda s: (-volume[s], s))[:n]


def closes_at(series: list[Candles], times: np.ndarray, step_ms: int) -> np.ndarray:
    """(times x coins) matrix of the close of each coin's candle that closed at each time (ms; ascending),
    NaN where a coin has none."""
    times = np.asarray(times, dtype=np.int64)
    out = np.full((len(times), len(series)), np.nan)
    for j, c in enumerate(series):
        closed = np.asarray(c.t, dtype=np.int64) + step_ms
        pos = np.minimum(np.searchsorted(times, closed), max(len(times) - 1, 0))
        hit = (times[pos] == closed) if len(times) else np.zeros(len(closed), dtype=bool)
        out[pos[hit], j] = c.close[hit]
    return out


def benchmark_equity(times: list[int], step_ms: int, series: list[Candles], universe: list[str],
                     start_equity: float) -> dict[str, list[float] | None]:
    """Buy-and-hold of ``universe`` and the equal-weight market of every coin in ``series``, valued at the
    closes ``times`` (a book's equity points) from ``start_equity`` at the first: what the same money would
    be worth without the strategy. None for a curve without a coin to hold at the first close."""
    if not times:
        return {"buy_and_hold": [], "market": []}
    closes = closes_at(series, np.asarray(times), step_ms)
    wanted = set(universe)
    cols = [j for j, c in enumerate(series) if c.symbol in wanted]
    curves = benchmark_curves(closes, cols)
    has_first = np.isfinite(closes[0]) if closes.shape[1] else np.zeros(0, dtype=bool)
    scaled = {name: [float(v) * start_equity for v in curve] for name, curve in curves.items()}
    return {"buy_and_hold": scaled["buy_and_hold"] if any(has_first[c] for c in cols) else None,
            "market": scaled["market"] if has_first.any() else None}


def summarize(config: StrategyConfig, start: str, end: str, points: list[EquityPoint], fills: list[Fill],
              events: list[LimitEvent], benchmarks: dict[str, np.ndarray]) -> dict:
    """``summary.json``: the figures of OPERATIONS.md, the benchmarks' beside them."""
    capital = config.capital
    equity = np.array([capital] + [p.equity for p in points])
    gross = np.array([capital] + [p.equity + p.costs for p in points])
    net = curve_stats(equity, config.timeframe)
    notional = sum(f.quantity * f.price for f in fills)
    return {
        "strategy": config.model_dump(mode="json"), "start": start, "end": end,
        "return_net": net["return"], "return_gross": curve_stats(gross, config.timeframe)["return"],
        "sharpe": net["sharpe"], "sortino": net["sortino"], "max_drawdown": net["max_drawdown"],
        "exposure": float(np.mean([p.exposure for p in points])) if points else 0.0,
        "turnover": float(notional / np.mean(equity)) if len(equity) else 0.0,
        "trades": len(fills), "fees": float(sum(f.fee for f in fills)),
        "slippage": float(sum(f.slippage for f in fills)),
        "final_equity": float(equity[-1]), "candles": len(points),
        "limit_events": [{**e.model_dump(), "time": iso(e.time)} for e in events],
        **{name: curve_stats(curve, config.timeframe) for name, curve in benchmarks.items()},
    }
