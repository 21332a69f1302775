"""The fee-aware trading signal, shared by serving (what an answer says) and evaluation (what the
backtest trades), so the two cannot drift apart.

Expected move: the mean absolute one-candle log return over the last ``MOVE_WINDOW`` candles (up to
and including the last closed one, never a later one), times sqrt(horizon), in basis points. For
independent returns this estimates the typical absolute move over the horizon (for Gaussian returns
mean |r| scales like the standard deviation, so it grows with sqrt(horizon) too). Edge: (2p - 1) x
expected move, the expected return of betting on the predicted direction before costs. A position is
taken only when the edge beats the round-trip cost (two fees: in and out).
"""

from __future__ import annotations

import numpy as np

MOVE_WINDOW = 48  # one-candle returns the expected move averages over (two days of 1h candles)
SIGNALS = {1: "BUY", -1: "SELL", 0: "HOLD"}


def cost_bps(fee_bps: float) -> float:
    """Round-trip cost a signal must beat: ``fee_bps`` per side, in and out."""
    return 2.0 * float(fee_bps)


def expected_move_bps(close: np.ndarray, ends: np.ndarray, *, horizon: int, first: np.ndarray | None = None,
                      window: int = MOVE_WINDOW) -> np.ndarray:
    """Expected absolute move over ``horizon`` candles at each row ``ends`` of ``close`` (bps).

    Reads the ``window`` returns ending at each row, none before ``first`` (each row's series start,
    0 when omitted), so pooled series of many symbols do not mix; fewer returns are averaged when
    fewer exist, and a row with none has an expected move of 0."""
    ends = np.atleast_1d(np.asarray(ends, dtype=np.int64))
    first = np.zeros_like(ends) if first is None else np.broadcast_to(np.asarray(first, dtype=np.int64), ends.shape)
    idx = ends[:, None] + np.arange(-window, 1)
    log_close = np.log(np.asarray(close, dtype=np.float64)[np.maximum(idx, 0)])
    ok = idx[:, :-1] >= first[:, None]
    moves = np.where(ok, np.abs(np.diff(log_close, axis=1)), 0.0)
    count = ok.sum(axis=1)
    mean = np.where(count > 0, moves.sum(axis=1) / np.maximum(count, 1), 0.0)
    return mean * np.sqrt(horizon) * 10_000


def fee_aware_positions(p: np.ndarray, move_bps: np.ndarray, cost: float) -> tuple[np.ndarray, np.ndarray]:
    """(position, edge_bps): +1 (BUY) when the edge exceeds ``cost``, -1 (SELL) when it is below
    -``cost``, 0 (HOLD) otherwise; edge_bps = (2p - 1) x expected move."""
    edge = (2 * np.asarray(p, dtype=np.float64) - 1) * np.asarray(move_bps, dtype=np.float64)
    position = np.where(edge > cost, 1.0, np.where(edge < -cost, -1.0, 0.0))
    return position, edge


def signal_for(p: float, move_bps: float, cost: float) -> tuple[str, float]:
    """One answer's signal (BUY, SELL or HOLD) and edge in bps, by the rule the backtest trades
    (``fee_aware_positions``, the same float64 arithmetic on one value: the ledger calls this once per
    ensemble member of every answer, where numpy's per-call cost would dominate)."""
    edge = (2 * float(p) - 1) * float(move_bps)
    position = 1 if edge > cost else -1 if edge < -cost else 0
    return SIGNALS[position], edge
