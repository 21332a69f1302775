"""A folder laid out as ``<timeframe>/<SYMBOL>.csv`` (OHLCV_DIR), in either of two formats.

- the project layout: header ``timestamp,open,high,low,close,volume`` with UTC text times, optionally
  followed by ``quote_volume,trades,taker_buy_volume,taker_buy_quote_volume`` (kept when present);
- the exchange's raw 12-column kline export: no header, epoch-ms (or us) open times (columns 8-11 are
  the same extra columns, kept when the file has them).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pandas as pd

from ...errors import DataError
from ..candles import Candles, QualityReport, clean_frame, resample
from ..timeframes import TIMEFRAME_MS, TIMEFRAMES, lower_timeframes

log = logging.getLogger(__name__)
KLINE_COLUMNS = ["t", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "trades",
                 "taker_buy_volume", "taker_buy_quote_volume", "ignore"]


def read_candle_csv(path: Path, timeframe: str, symbol: str | None = None) -> tuple[Candles, QualityReport]:
    """Read and clean one file; raises DataError naming the file when it cannot be used."""
    symbol = symbol or path.stem.upper()
    try:
        head = path.open("r", encoding="utf-8", errors="replace").readline()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    first = head.strip().split(",")[0].strip().lower()
    try:
        if first.replace(".", "", 1).isdigit():
            df = pd.read_csv(path, header=None, dtype=str)
            if df.shape[1] < 6:
                raise DataError(f"{path}: kline file needs at least 6 columns, found {df.shape[1]}")
            df = df.iloc[:, :12]
            df.columns = KLINE_COLUMNS[: df.shape[1]]
        else:
            df = pd.read_csv(path, dtype={"timestamp": str})
            df.columns = [c.strip().lower() for c in df.columns]
            df = df.rename(columns={"timestamp": "t", "time": "t", "open_time": "t", "date": "t"})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from exc
    clean, report = clean_frame(df, timeframe, str(path))
    if report.rejected:
        log.warning("%s: rejected %d rows, e.g. %s", path, len(report.rejected), report.summary()["rejected_examples"])
    return Candles.from_frame(symbol, timeframe, clean, source="csv",
                              meta={"quality": report.summary()}), report


class CsvFolderSource:
    name = "csv"

    def __init__(self, root: Path):
        self.root = Path(root)
        self._cache: dict[tuple[str, str], tuple[tuple[float, int], Candles]] = {}
        self._lock = threading.Lock()

    def path_for(self, symbol: str, timeframe: str) -> Path:
        return self.root / timeframe / f"{symbol}.csv"

    def signature(self, symbol: str, timeframe: str) -> tuple[float, int] | None:
        try:
            st = self.path_for(symbol, timeframe).stat()
        except OSError:
            return None
        return (st.st_mtime, st.st_size)

    def fetch(self, symbol: str, timeframe: str, start_ms: int | None = None,
              end_ms: int | None = None) -> Candles:
        """Candles in [start_ms, end_ms); a timeframe without a file is resampled from the largest
        lower timeframe that has one."""
        if self.signature(symbol, timeframe) is not None:
            candles = self._read(symbol, timeframe)
        else:
            lower = next((lo for lo in lower_timeframes(timeframe) if self.signature(symbol, lo) is not None), None)
            if lower is None:
                raise DataError(f"no file for {symbol} on {timeframe} (or a lower timeframe) under {self.root}")
            finer = self._read(symbol, lower)
            candles = resample(finer if end_ms is None else finer.until(end_ms), timeframe)
        lo = 0 if start_ms is None else int(candles.t.searchsorted(start_ms))
        hi = len(candles) if end_ms is None else int(candles.t.searchsorted(end_ms))
        return candles.slice(lo, hi)

    def _read(self, symbol: str, timeframe: str) -> Candles:
        """The whole cleaned file, cached until the file changes."""
        sig = self.signature(symbol, timeframe)
        key = (symbol, timeframe)
        with self._lock:
            cached = self._cache.get(key)
        if cached is None or cached[0] != sig:
            candles, _ = read_candle_csv(self.path_for(symbol, timeframe), timeframe, symbol)
            with self._lock:
                self._cache[key] = (sig, candles)
        else:
            candles = cached[1]
        return candles

    def symbols(self, timeframe: str) -> list[str]:
        """Symbols with a file for ``timeframe`` or for a lower timeframe it can be resampled from."""
        found: set[str] = set()
        for tf in (timeframe, *lower_timeframes(timeframe)):
            folder = self.root / tf
            if folder.is_dir():
                found.update(p.stem.upper() for p in folder.glob("*.csv"))
        return sorted(found)

    def trainable_timeframes(self) -> list[str]:
        """Every timeframe with candles here, shortest first: a folder's own, and those that aggregate
        exactly from one (2h from 1h)."""
        return [tf for tf in TIMEFRAMES if self.symbols(tf)]

    def timeframes(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []

    def problem(self) -> str | None:
        """Why the folder has nothing to serve or train on (None when it holds a candle file); said
        without its path, which no answer shows."""
        return folder_problem(self.root)


def folder_problem(root: Path) -> str | None:
    """``does not exist`` or ``holds no candle file`` for a folder that cannot be an OHLCV_DIR, else None."""
    if not Path(root).is_dir():
        return "does not exist"
    if not any(next((root / tf).glob("*.csv"), None) for tf in TIMEFRAME_MS if (root / tf).is_dir()):
        return "holds no candle file (<timeframe>/<SYMBOL>.csv)"
    return None


def load_folder(data_dir: Path, timeframe: str, symbols: list[str] | None = None, start_ms: int | None = None,
                end_ms: int | None = None) -> list[Candles]:
    """Every symbol's candles in [start, end) from an OHLCV_DIR folder (resampled when needed); a file
    that cannot be used is logged and left out, so training and evaluation read the same set."""
    source = CsvFolderSource(data_dir)
    out = []
    for symbol in symbols or source.symbols(timeframe):
        try:
            candles = source.fetch(symbol, timeframe, start_ms, end_ms)
        except DataError as exc:
            log.warning("%s", exc)
            continue
        if len(candles):
            out.append(candles)
    return out
