"""Load an OHLCV_DIR folder into the store, incrementally: unchanged files are skipped by signature,
changed files add only the candles after the last stored one."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import DataError
from .sources.csvdir import read_candle_csv
from .store import CandleStore
from .timeframes import TIMEFRAME_MS

log = logging.getLogger(__name__)


def ingest_folder(store: CandleStore, root: Path) -> dict:
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
                candles = candles.slice(int(candles.t.searchsorted(last, side="right")), None)
            summary["inserted"] += store.upsert(candles, signature=signature)
            summary["rejected_rows"] += len(report.rejected)
            summary["gaps"] += len(report.gaps)
    return summary
