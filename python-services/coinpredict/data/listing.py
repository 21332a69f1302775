"""What the market can answer for: per symbol, the first and last candle and the columns it has.

A candle folder is summarised from the same cleaned (and, where needed, resampled) candles the
predictions use, once per file version: the summary is cached under the file's (mtime, size), so a
listing after the first only stats the files. The live store answers with one SQL aggregate.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from .candles import COLUMNS, EXTRA_COLUMNS
from .sources.csvdir import KLINE_COLUMNS, CsvFolderSource
from .timeframes import lower_timeframes

log = logging.getLogger(__name__)
# The exchange's raw kline export (no header): where each extra column sits in a row.
KLINE_EXTRA_AT = {name: KLINE_COLUMNS.index(name) for name in EXTRA_COLUMNS}


@dataclass(frozen=True)
class SeriesSummary:
    """One symbol's candles on one timeframe; times are candle open times in epoch ms."""

    symbol: str
    first_ms: int
    last_ms: int
    columns: tuple[str, ...]


def file_columns(path: Path) -> tuple[str, ...]:
    """Candle columns a CSV file carries, from its first line only (a header, or a kline row's width)."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            head = fh.readline()
    except OSError:
        return COLUMNS
    cells = [c.strip().lower() for c in head.strip().split(",")]
    if cells and cells[0].replace(".", "", 1).isdigit():
        return COLUMNS + tuple(name for name, at in KLINE_EXTRA_AT.items() if len(cells) > at)
    return COLUMNS + tuple(name for name in EXTRA_COLUMNS if name in cells)


class CsvListing:
    """Summaries of a candle folder, each recomputed only when the file it comes from changes."""

    def __init__(self, source: CsvFolderSource):
        self.source = source
        self._cache: dict[tuple[str, str], tuple[tuple, SeriesSummary | None]] = {}
        self._lock = threading.Lock()

    def _origin(self, symbol: str, timeframe: str) -> tuple[str, tuple[float, int]] | None:
        """The file the candles come from, as (its timeframe, its signature): the same choice as ``fetch``."""
        for tf in (timeframe, *lower_timeframes(timeframe)):
            sig = self.source.signature(symbol, tf)
            if sig is not None:
                return tf, sig
        return None

    def summaries(self, timeframe: str) -> list[SeriesSummary]:
        out = []
        for symbol in self.source.symbols(timeframe):
            origin = self._origin(symbol, timeframe)
            if origin is None:  # removed since the folder was listed
                continue
            with self._lock:
                cached = self._cache.get((symbol, timeframe))
            if cached is not None and cached[0] == origin:
                summary = cached[1]
            else:
                summary = self._summarise(symbol, timeframe, origin[0])
                with self._lock:
                    self._cache[(symbol, timeframe)] = (origin, summary)
            if summary is not None:
                out.append(summary)
        return out

    def _summarise(self, symbol: str, timeframe: str, file_timeframe: str) -> SeriesSummary | None:
        try:
            candles = self.source.fetch(symbol, timeframe)
        except DataError as exc:
            log.warning("%s", exc)
            return None
        if not len(candles):
            return None
        columns = file_columns(self.source.path_for(symbol, file_timeframe))
        return SeriesSummary(symbol, int(candles.t[0]), int(candles.t[-1]), columns)


def folder_last_candle(folder: Path, timeframe: str, listing: CsvListing | None = None) -> int:
    """Open time (ms) of the newest candle of any symbol of a candle folder on ``timeframe``."""
    listing = listing or CsvListing(CsvFolderSource(folder))
    summaries = listing.summaries(timeframe)
    if not summaries:
        raise DataError(f"no {timeframe} candles in the training folder")
    return max(s.last_ms for s in summaries)
