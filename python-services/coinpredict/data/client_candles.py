"""Candles sent by a client ({t,o,h,l,c,v} objects or [t,o,h,l,c,v] rows, oldest first), checked by
the same rules as every other source (``candles.row_faults``, the timeframe grid), never repaired.

The exchange's extra columns are optional: in objects as ``qv``/``quote_volume``, ``n``/``trades``,
``tbv``/``taker_buy_volume``, ``tbqv``/``taker_buy_quote_volume``; in rows at their exchange kline
positions ([t, o, h, l, c, v, close_time, qv, n, tbv, tbqv, ...], so a kline row can be sent as it is).
A column is kept when any candle carries it; where a candle omits it, or sends a null, unreadable or
implausible value, that value is missing (NaN),
as from every other source (``candles.clean_extra``): the OHLCV rules alone decide whether candles are
refused."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from .candles import EXTRA_COLUMNS, Candles, clean_extra, off_grid, parse_times, row_faults

KEYS = {"t": ("t", "time", "timestamp"), "o": ("o", "open"), "h": ("h", "high"), "l": ("l", "low"),
        "c": ("c", "close"), "v": ("v", "volume")}
EXTRA_KEYS = dict(zip(EXTRA_COLUMNS, (("qv", "quote_volume"), ("n", "trades"), ("tbv", "taker_buy_volume"),
                                      ("tbqv", "taker_buy_quote_volume")), strict=True))
OBJECT_KEYS = tuple(name for names in (*KEYS.values(), *EXTRA_KEYS.values()) for name in names)
ROW_EXTRA_AT = 7  # kline rows: close_time at 6, then the extra columns
_ABSENT = object()


class InvalidCandles(DataError):
    """Client candles that cannot be used; the message says which rows and why."""


def _table(rows: list) -> tuple[list[list], list[str]]:
    """The cells as [t, o, h, l, c, v, *extra] and the names of the extra columns some candle has."""
    if all(isinstance(r, dict) for r in rows):
        keys = {**KEYS, **EXTRA_KEYS}
        cells = [[next((r[k] for k in names if k in r), _ABSENT) for names in keys.values()] for r in rows]
        extra = [name for i, name in enumerate(EXTRA_COLUMNS) if any(c[6 + i] is not _ABSENT for c in cells)]
        chosen = list(range(6)) + [6 + EXTRA_COLUMNS.index(name) for name in extra]
        return [[None if c[i] is _ABSENT else c[i] for i in chosen] for c in cells], extra
    if all(isinstance(r, (list, tuple)) and len(r) >= 6 for r in rows):
        width = max(len(r) for r in rows)
        extra = list(EXTRA_COLUMNS[: max(0, min(width - ROW_EXTRA_AT, len(EXTRA_COLUMNS)))])
        at = range(ROW_EXTRA_AT, ROW_EXTRA_AT + len(extra))
        return [list(r[:6]) + [r[i] if i < len(r) else None for i in at] for r in rows], extra
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
        cells, names = _table(rows)
        df = pd.DataFrame(cells, columns=["t", "o", "h", "l", "c", "v", *names])
        t = parse_times(df["t"].astype(str) if df["t"].map(lambda x: isinstance(x, str)).any() else df["t"])
        vals = df.iloc[:, 1:].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise InvalidCandles(f"unreadable candles: {exc}") from exc
    o, h, lo, c, v = vals[:, :5].T
    problems = [f"{why} at rows {np.flatnonzero(bad)[:5].tolist()}"
                for bad, why in row_faults(t, o, h, lo, c, v) if bad.any()]
    if not problems:
        problems = _order_problems(t, timeframe)
    if problems:
        raise InvalidCandles("invalid candles: " + "; ".join(problems))
    extra, _ = clean_extra(v, {name: vals[:, 5 + i] for i, name in enumerate(names)})
    return Candles.from_arrays(symbol, timeframe, t, o, h, lo, c, v, source="request",
                               meta={"data_source": "request"}, extra=extra)
