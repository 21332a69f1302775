"""A backtest of the signal the service serves (common.signals): long on BUY, short on SELL, flat on
HOLD, where BUY and SELL need an edge ((2p - 1) x expected move) beyond the round-trip cost.

The position taken at t uses only the probability and the expected move known at t and earns the
return from t to t+h; changing position pays ``fee_bps`` per side on the traded notional. Symbols are traded as an
equal-weight book: each period's return is the mean over the symbols with a position that period.

For a horizon h > 1 the book trades every h candles (candles whose index since the epoch is a multiple
of h) and holds each position for its whole horizon, so no h-candle return is compounded twice.
"""

from __future__ import annotations

import numpy as np

from ..common.signals import cost_bps, fee_aware_positions
from ..data.timeframes import TIMEFRAME_MS, periods_per_year


def holding_starts(t: np.ndarray, step: int, horizon: int) -> np.ndarray:
    """Rows where a book that holds each position for ``horizon`` candles of ``step`` ms trades:
    candles whose index since the epoch is a multiple of ``horizon`` (every row at horizon 1)."""
    return (np.asarray(t) // step) % horizon == 0


def backtest(p: np.ndarray, future_return: np.ndarray, symbol_index: np.ndarray, t: np.ndarray, *,
             move_bps: np.ndarray, timeframe: str, horizon: int = 1, fee_bps: float = 10.0) -> dict:
    """Trade the served signal for probabilities ``p`` and expected moves ``move_bps`` (bps, per row)."""
    if horizon > 1:
        keep = holding_starts(t, TIMEFRAME_MS[timeframe], horizon)
        p, future_return, symbol_index, t, move_bps = (np.asarray(a)[keep] for a in
                                                       (p, future_return, symbol_index, t, move_bps))
    pos, _ = fee_aware_positions(p, move_bps, cost_bps(fee_bps))
    fee = fee_bps / 10_000
    net = np.zeros(len(p))
    turnover = np.zeros(len(p))
    for s in np.unique(symbol_index):
        rows = np.flatnonzero(symbol_index == s)
        rows = rows[np.argsort(t[rows], kind="stable")]
        prev = np.concatenate([[0.0], pos[rows][:-1]])
        turnover[rows] = np.abs(pos[rows] - prev)
        net[rows] = pos[rows] * future_return[rows] - fee * turnover[rows]
    times, inverse = np.unique(t, return_inverse=True)
    count = np.bincount(inverse)
    book = np.bincount(inverse, weights=net) / count
    hold = np.bincount(inverse, weights=future_return) / count
    gross = np.bincount(inverse, weights=pos * future_return) / count
    per_year = periods_per_year(timeframe) / horizon

    def sharpe(r):
        return float(r.mean() / r.std() * np.sqrt(per_year)) if r.std() > 0 else 0.0

    def drawdown(r):
        equity = np.cumprod(1 + r)
        return float(np.max(1 - equity / np.maximum.accumulate(equity))) if len(r) else 0.0

    return {
        "fee_bps": fee_bps, "cost_bps": cost_bps(fee_bps),
        "sharpe_net": sharpe(book), "sharpe_gross": sharpe(gross),
        "return_net": float(np.prod(1 + book) - 1), "return_gross": float(np.prod(1 + gross) - 1),
        "max_drawdown": drawdown(book), "trades": int((turnover > 0).sum()),
        "turnover": float(turnover.sum()), "turnover_per_period": float(turnover.sum() / max(len(times), 1)),
        "exposure": float(np.mean(pos != 0)),
        "buy_and_hold": {"return": float(np.prod(1 + hold) - 1), "sharpe": sharpe(hold),
                         "max_drawdown": drawdown(hold)},
        "equity_times": times, "equity_net": np.cumprod(1 + book), "equity_hold": np.cumprod(1 + hold),
    }
