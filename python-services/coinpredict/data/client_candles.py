"""Candles sent by a client ({t,o,h,l,c,v} objects or [t,o,h,l,c,v] rows, oldest first), checked by
the same rules as every other source (``candles.row_faults``, the timeframe grid), never repaired."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from .candles import Candles, off_grid, parse_times, row_faults

KEYS = {"t": ("t", "time", "timestamp"), "o": ("o", "open"), "h": ("h", "high"), "l": ("l", "low"),
        "c": ("c", "close"), "v": ("v", "volume")}


class InvalidCandles(DataError):
    """Client candles that cannot be used; the message says which rows and why."""


def _table(rows: list) -> list[list]:
    if all(isinstance(r, dict) for r in rows):
        return [[next((r[k] for k in names if k in r), None) for names in KEYS.values()] for r in rows]
    if all(isinstance(r, (list, tuple)) and len(r) >= 6 for r in rows):
        return [list(r[:6]) for r in rows]
    raise ValueError("each candle must be an object {t,o,h,l,c,v} or a row [t,o,h,l,c,v]")


def _order_problems(t: np.ndarray, timeframe: str) -> list[str]:
    problems = []
    steps = np.diff(t)
    if (steps == 0).any():
        problems.append(f"duplicate times at rows {(np.flatnonzero(steps == 0) + 1)[:5].tolist()}")
    if (steps < 0).any():
        problems.append(f"times not sorted oldest first at rows {(np.flatnonzero(steps < 0) + 1)[:5].tolist()}")
    misaligned = np.flatnonzero(off_grid(t, timeframe))
    if len(misaligned):
        problems.append(f"times not on the {timeframe} grid at rows {misaligned[:5].tolist()}")
    return problems


def parse_candles(rows: list, symbol: str, timeframe: str) -> Candles:
    """Client candles -> Candles (source ``request``), or InvalidCandles saying what is wrong."""
    if not isinstance(rows, list) or not rows:
        raise InvalidCandles("candles must be a non-empty list")
    try:
        df = pd.DataFrame(_table(rows), columns=["t", "o", "h", "l", "c", "v"])
        t = parse_times(df["t"].astype(str) if df["t"].map(lambda x: isinstance(x, str)).any() else df["t"])
        vals = df[["o", "h", "l", "c", "v"]].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise InvalidCandles(f"unreadable candles: {exc}") from exc
    o, h, lo, c, v = vals.T
    problems = [f"{why} at rows {np.flatnonzero(bad)[:5].tolist()}"
                for bad, why in row_faults(t, o, h, lo, c, v) if bad.any()]
    if not problems:
        problems = _order_problems(t, timeframe)
    if problems:
        raise InvalidCandles("invalid candles: " + "; ".join(problems))
    return Candles.from_arrays(symbol, timeframe, t, o, h, lo, c, v, source="request",
                               meta={"data_source": "request"})
