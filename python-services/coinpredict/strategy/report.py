"""A strategy's run in figures (OPERATIONS.md, Strategies): net and gross return, Sharpe and Sortino
annualised by the timeframe, drawdown, exposure, turnover, trades, fees and limit events, beside buy-and-
hold of its universe and the equal-weight market over the same closes.

Gross return is the same trades without fees and slippage (the equity plus what they cost). Turnover is
the traded notional over the mean equity (1.0: the book's value traded once). Benchmarks trade nothing
and pay no costs: buy-and-hold splits the capital equally over the universe at the first close and holds
it; the market is the mean one-candle return of every coin with a close, rebalanced every candle.
"""

from __future__ import annotations

import numpy as np

from ..common.times import iso
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
