"""Candles from a folder (OHLCV_DIR): rows another process appends to its files are read on the next
request, and no candle the clock has not closed is served, even when the folder has it."""

from __future__ import annotations

from pathlib import Path

from ...errors import DataError, NotFound
from ..candles import Candles
from ..listing import CsvListing, SeriesSummary
from ..sources.csvdir import CsvFolderSource
from ..timeframes import TIMEFRAME_MS, newest_closed


class FolderProvider:
    label = "csv"
    live_store = None
    parallel = False  # reading a file waits on nothing worth overlapping
    stale_reason = "the candle folder holds nothing newer"
    stale_warning = None  # an old folder is said in every answer (stale_reason), not as a passing hiccup

    def __init__(self, root: Path, clock):
        self.source = CsvFolderSource(root)
        self.listing = CsvListing(self.source)
        self.clock = clock

    def warning(self) -> str | None:
        if problem := self.source.problem():
            return (f"OHLCV_DIR {problem}: no candles to serve or train on (relative paths are read from the "
                    "directory the service started in)")
        return None

    def symbols(self, timeframe: str) -> list[str]:
        return self.source.symbols(timeframe)

    def summaries(self, timeframe: str) -> list[SeriesSummary]:
        return self.listing.summaries(timeframe)

    def candles(self, symbol: str, timeframe: str, last: int, end_ms: int | None, *,
                deadline: float | None, now: float) -> Candles:
        until = newest_closed(timeframe, now) + TIMEFRAME_MS[timeframe]
        try:
            found = self.source.fetch(symbol, timeframe)
        except DataError as exc:
            raise NotFound(f"no market data for {symbol} on {timeframe}", field="symbol",
                           code="unknown_symbol") from exc
        candles = found.until(until if end_ms is None else min(end_ms, until)).last(last)
        candles.meta.update(data_source="csv", data_stale=False)
        if candles.source != "csv":  # resampled from a finer timeframe of the folder: say so, plainly
            candles.meta["warning"] = candles.source.removeprefix("csv ").strip("()")
        return candles
