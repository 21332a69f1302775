"""Look-ahead audit: the probability at t from the full history must equal the probability from
the history cut at t. Any feature, scaler or label that peeks ahead makes them differ."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..data.candles import Candles


class LookAheadError(AssertionError):
    """A prediction changed when later candles were removed: something sees the future."""


def lookahead_audit(series: dict[str, Candles], rows: list[tuple[str, int, float]],
                    probability_at: Callable[[Candles], float], *, lookback: int, tolerance: float = 1e-4) -> dict:
    """``rows``: (symbol, open time ms, probability from the full history). Raises on a mismatch."""
    mismatches = []
    for symbol, t_ms, p_full in rows:
        candles = series[symbol]
        cut = int(np.searchsorted(candles.t, t_ms, side="right"))
        prefix = candles.slice(max(0, cut - lookback), cut)
        p_cut = probability_at(prefix)
        if not abs(p_cut - p_full) <= tolerance:
            mismatches.append({"symbol": symbol, "t": int(t_ms), "full_history": p_full, "cut_history": p_cut})
    result = {"checked": len(rows), "mismatches": mismatches, "tolerance": tolerance}
    if mismatches:
        raise LookAheadError(f"look-ahead audit failed on {len(mismatches)} of {len(rows)} samples, "
                             f"e.g. {mismatches[0]}")
    return result
