"""The in-memory candle series, data-quality checks and resampling to higher timeframes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError
from .timeframes import TIMEFRAME_MS, period_start

COLUMNS = ("open", "high", "low", "close", "volume")
# The exchange's further kline columns, all additive. Optional: a source that lacks one leaves it out of
# ``Candles.extra`` (never invented); a single unknown or implausible value is NaN.
EXTRA_COLUMNS = ("quote_volume", "trades", "taker_buy_volume", "taker_buy_quote_volume")


@dataclass
class Candles:
    """Closed candles of one symbol, oldest first; ``t`` is the open time in epoch ms.

    ``extra`` holds the optional ``EXTRA_COLUMNS`` the source had, as float arrays aligned with ``t``
    (NaN where one value is missing); a column the source lacks is absent, not zero.
    """

    symbol: str
    timeframe: str
    t: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    source: str = ""
    meta: dict = field(default_factory=dict)
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @classmethod
    def from_arrays(cls, symbol: str, timeframe: str, t, o, h, l, c, v, *,  # noqa: E741
                    extra: dict | None = None, **kw) -> Candles:
        t = np.asarray(t, dtype=np.int64)
        cols = {k: np.asarray(a, dtype=np.float64) for k, a in (extra or {}).items() if a is not None}
        unknown = set(cols) - set(EXTRA_COLUMNS)
        if unknown or any(a.shape != t.shape for a in cols.values()):
            raise ValueError(f"extra columns must be among {EXTRA_COLUMNS} and as long as t; got {sorted(cols)}")
        return cls(symbol, timeframe, t, *(np.asarray(a, dtype=np.float64) for a in (o, h, l, c, v)),
                   extra={k: cols[k] for k in EXTRA_COLUMNS if k in cols}, **kw)

    @classmethod
    def from_frame(cls, symbol: str, timeframe: str, df: pd.DataFrame, **kw) -> Candles:
        """Columns t, open..volume, and whichever ``EXTRA_COLUMNS`` the frame has."""
        extra = {c: df[c].to_numpy() for c in EXTRA_COLUMNS if c in df.columns}
        return cls.from_arrays(symbol, timeframe, df["t"].to_numpy(), *(df[c].to_numpy() for c in COLUMNS),
                               extra=extra, **kw)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"t": self.t, **{c: getattr(self, c) for c in COLUMNS}, **self.extra})

    def slice(self, start: int | None = None, stop: int | None = None) -> Candles:
        s = slice(start, stop)
        return Candles(self.symbol, self.timeframe, self.t[s], self.open[s], self.high[s], self.low[s],
                       self.close[s], self.volume[s], self.source, dict(self.meta),
                       {k: a[s] for k, a in self.extra.items()})

    def until(self, end_ms: int) -> Candles:
        """Candles opened strictly before ``end_ms``."""
        return self.slice(None, int(np.searchsorted(self.t, end_ms, side="left")))

    def last(self, n: int) -> Candles:
        return self.slice(max(0, len(self) - n), None)

    @property
    def last_close_time_ms(self) -> int | None:
        return int(self.t[-1]) + TIMEFRAME_MS[self.timeframe] if len(self) else None


@dataclass
class QualityReport:
    """What cleaning found; rejected rows are named (file and row) with a reason."""

    name: str
    rows_in: int = 0
    rows_kept: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    gaps: list[dict] = field(default_factory=list)
    zero_volume: int = 0
    extra_columns: list[str] = field(default_factory=list)
    extra_marked_missing: int = 0  # implausible extra-column values set to NaN (their rows are kept)

    @property
    def missing_candles(self) -> int:
        return sum(g["missing"] for g in self.gaps)

    def summary(self) -> dict:
        return {
            "name": self.name, "rows_in": self.rows_in, "rows_kept": self.rows_kept,
            "duplicates": self.duplicates, "rejected": len(self.rejected),
            "rejected_examples": [f"{self.name} row {r}: {why}" for r, why in self.rejected[:5]],
            "gaps": len(self.gaps), "missing_candles": self.missing_candles, "zero_volume": self.zero_volume,
            "extra_columns": self.extra_columns, "extra_marked_missing": self.extra_marked_missing,
        }


def find_gaps(t: np.ndarray, timeframe: str) -> list[dict]:
    """Runs of missing candles between consecutive open times (never filled, only reported)."""
    step = TIMEFRAME_MS[timeframe]
    if len(t) < 2:
        return []
    jumps = np.diff(t)
    where = np.nonzero(jumps > step)[0]
    return [{"after": int(t[i]), "before": int(t[i + 1]), "missing": int(jumps[i] // step - 1)} for i in where]


def row_faults(t, o, h, lo, c, v) -> list[tuple[np.ndarray, str]]:
    """The candle sanity rules in order, as (rows that break it, reason): one list for CSV files,
    whose bad rows are dropped and reported, and for client candles, which are refused."""
    prices = np.stack([o, h, lo, c])
    with np.errstate(invalid="ignore"):
        return [
            (t < 0, "unparsable time"),
            (~np.isfinite(prices).all(axis=0), "missing, NaN or non-numeric price"),
            ((prices <= 0).any(axis=0), "non-positive price"),
            (~np.isfinite(v) | (v < 0), "missing, NaN or negative volume"),
            (h < np.maximum(o, c) * (1 - 1e-9), "impossible OHLC: high below open/close"),
            (lo > np.minimum(o, c) * (1 + 1e-9), "impossible OHLC: low above open/close"),
        ]


def clean_extra(volume: np.ndarray, extra: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int]:
    """The extra columns with implausible values set to NaN (missing), and how many were: negative or
    non-finite values, and a taker-buy part above its total. A bad extra value never costs the candle
    its OHLCV, which it does not describe."""
    out = {k: np.where(np.isfinite(a) & (a >= 0), a, np.nan) for k, a in extra.items()}
    with np.errstate(invalid="ignore"):
        for part, total in (("taker_buy_volume", volume), ("taker_buy_quote_volume", out.get("quote_volume"))):
            if part in out and total is not None:
                over = out[part] > total * (1 + 1e-6) + 1e-9
                out[part] = np.where(over, np.nan, out[part])
    marked = sum(int(np.count_nonzero(np.isnan(out[k]) & ~np.isnan(a))) for k, a in extra.items())
    return out, marked


def off_grid(t: np.ndarray, timeframe: str) -> np.ndarray:
    """Open times that do not sit on the timeframe's grid (weeks open on Mondays, not on epoch multiples)."""
    if timeframe == "1w":
        return np.zeros(len(t), dtype=bool)
    return t % TIMEFRAME_MS[timeframe] != 0


def clean_frame(df: pd.DataFrame, timeframe: str, name: str) -> tuple[pd.DataFrame, QualityReport]:
    """Validate raw rows (columns t, open..volume, optionally ``EXTRA_COLUMNS``; t may be text or epoch
    numbers).

    Drops exact-time duplicates (first kept), rejects rows that break OHLC sanity and reports gaps.
    Zero-volume candles are real (no trades) and kept. Implausible extra values become NaN (``clean_extra``).
    """
    missing = [c for c in ("t", *COLUMNS) if c not in df.columns]
    if missing:
        raise DataError(f"{name}: missing columns {missing}; found {list(df.columns)}")
    report = QualityReport(name=name, rows_in=len(df))
    t = parse_times(df["t"])
    num = {c: pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=np.float64) for c in COLUMNS}
    o, h, lo, c, v = (num[k] for k in COLUMNS)
    reasons = row_faults(t, o, h, lo, c, v)
    bad = np.zeros(len(df), dtype=bool)
    for mask, why in reasons:
        new = mask & ~bad
        report.rejected.extend((int(i), why) for i in np.nonzero(new)[0])
        bad |= mask
    misaligned = ~bad & off_grid(t, timeframe)
    report.rejected.extend((int(i), f"time not on the {timeframe} grid") for i in np.nonzero(misaligned)[0])
    keep = ~bad & ~misaligned
    raw = {k: pd.to_numeric(df[k], errors="coerce").to_numpy(dtype=np.float64)[keep]
           for k in EXTRA_COLUMNS if k in df.columns}
    extra, _ = clean_extra(v[keep], raw)
    report.extra_marked_missing = sum(int(np.count_nonzero(df[k].notna().to_numpy()[keep] & np.isnan(a)))
                                      for k, a in extra.items())  # sent but unreadable or implausible
    report.extra_columns = list(extra)
    out = pd.DataFrame({"t": t[keep], "open": o[keep], "high": h[keep], "low": lo[keep], "close": c[keep],
                        "volume": v[keep], **extra})
    out = out.sort_values("t", kind="stable")
    dup = out["t"].duplicated(keep="first")
    report.duplicates = int(dup.sum())
    out = out[~dup].reset_index(drop=True)
    report.rows_kept = len(out)
    report.zero_volume = int((out["volume"] == 0).sum())
    report.gaps = find_gaps(out["t"].to_numpy(), timeframe)
    report.rejected.sort()
    return out, report


def parse_times(col: pd.Series) -> np.ndarray:
    """Epoch ms from ISO text or epoch numbers (s, ms or us); -1 where unparsable."""
    numeric = pd.to_numeric(col, errors="coerce")
    if len(col) and numeric.notna().all():
        values = numeric.to_numpy(dtype=np.float64)
        scale = np.where(values > 1e14, 1e-3, np.where(values < 1e11, 1e3, 1.0))
        return np.round(values * scale).astype(np.int64)
    parsed = pd.to_datetime(col, utc=True, errors="coerce", format="mixed")
    bad = parsed.isna().to_numpy()
    ms = parsed.dt.tz_convert(None).to_numpy().astype("datetime64[ms]").astype(np.int64)
    ms[bad] = -1
    return ms


def resample(candles: Candles, timeframe: str) -> Candles:
    """Aggregate to a higher timeframe, keeping only periods that have closed in the data.

    A period counts as closed when the data reaches its end (a later candle exists or its last
    sub-candle is present), so the still-forming period is never emitted. Gaps inside a closed
    period are exchange outages: the aggregate of what traded is the true candle. Extra columns are
    sums; one missing sub-value makes the period's value missing.
    """
    src_ms, dst_ms = TIMEFRAME_MS[candles.timeframe], TIMEFRAME_MS[timeframe]
    if dst_ms % src_ms or dst_ms <= src_ms:
        raise ValueError(f"cannot resample {candles.timeframe} to {timeframe}")
    if not len(candles):
        return Candles.from_arrays(candles.symbol, timeframe, *([[]] * 6), source=candles.source,
                                   extra={k: [] for k in candles.extra})
    start = period_start(candles.t, timeframe)
    boundaries = np.flatnonzero(np.diff(start)) + 1
    first = np.concatenate([[0], boundaries])
    last = np.concatenate([boundaries - 1, [len(candles) - 1]])
    data_end = candles.t[-1] + src_ms
    closed = start[first] + dst_ms <= data_end
    high = np.maximum.reduceat(candles.high, first)[closed]
    low = np.minimum.reduceat(candles.low, first)[closed]
    vol = np.add.reduceat(candles.volume, first)[closed]
    extra = {k: np.add.reduceat(a, first)[closed] for k, a in candles.extra.items()}
    first, last = first[closed], last[closed]
    return Candles.from_arrays(
        candles.symbol, timeframe, start[first], candles.open[first], high, low, candles.close[last], vol,
        source=f"{candles.source} (resampled from {candles.timeframe})", extra=extra,
    )
