"""Load an OHLCV_DIR folder into the store, incrementally: unchanged files are skipped by signature,
changed files add only the candles after the last stored one, and from the first stored candle that
lacks an extra column value the file now has (a file that gained the exchange's extra columns)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..errors import DataError
from .candles import Candles
from .sources.csvdir import read_candle_csv
from .stores import CandleStorage
from .timeframes import TIMEFRAME_MS

log = logging.getLogger(__name__)


def ingest_folder(store: CandleStorage, root: Path) -> dict:
    summary = {"files": 0, "skipped": 0, "inserted": 0, "rejected_rows": 0, "gaps": 0, "errors": []}
    for tf_dir in sorted(p for p in Path(root).iterdir() if p.is_dir() and p.name in TIMEFRAME_MS):
        for path in sorted(tf_dir.glob("*.csv")):
            summary["files"] += 1
            symbol, timeframe = path.stem.upper(), tf_dir.name
            st = path.stat()
            signature = f"{st.st_mtime_ns}:{st.st_size}"
            info = store.series_info(symbol, timeframe)
            if info and info["signature"] == signature:
                summary["skipped"] += 1
                continue
            try:
                candles, report = read_candle_csv(path, timeframe, symbol)
            except DataError as exc:
                summary["errors"].append(str(exc))
                continue
            last = store.last_time(symbol, timeframe)
            if last is not None:
                candles = candles.slice(_first_new(store, candles, last), None)
            summary["inserted"] += store.upsert(candles, signature=signature)
            summary["rejected_rows"] += len(report.rejected)
            summary["gaps"] += len(report.gaps)
    return summary


def _first_new(store: CandleStorage, candles: Candles, last: int) -> int:
    """Index of the first candle to write: after ``last``, or earlier where the store lacks an extra
    value the file has."""
    after = int(candles.t.searchsorted(last, side="right"))
    if not candles.extra or not after:
        return after
    stored = store.read(candles.symbol, candles.timeframe, start_ms=int(candles.t[0]), end_ms=last + 1)
    at = stored.t.searchsorted(candles.t[:after]).clip(0, max(len(stored) - 1, 0))
    found = (stored.t[at] == candles.t[:after]) if len(stored) else np.zeros(after, dtype=bool)
    lacking = np.zeros(after, dtype=bool)
    for name, values in candles.extra.items():
        have = stored.extra.get(name)
        gap = np.ones(after, dtype=bool) if have is None else np.isnan(have[at])
        lacking |= found & np.isfinite(values[:after]) & gap
    hits = np.flatnonzero(lacking)
    return int(hits[0]) if len(hits) else after
