"""The cross-sectional market for serving, built once per timeframe and candle close.

Every coin's ``mkt_*`` features read the same market row, built from every held coin's candles (the
store's, the folder's): reading 100 coins per request would cost more than the prediction, so the
market as of one close is built by the first request that needs it (the others asking meanwhile wait
for that one) and kept. A request with its own candles gets the market as of its own last candle.
The store may still be taking a close's candles when the first request comes: a market that misses
coins which were current one candle earlier is built again, at most every ``RECHECK_S`` seconds,
until they are in (each build has its own key, so no feature row outlives the market it read)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from ..data.market import MarketData
from ..data.timeframes import TIMEFRAME_MS
from ..features.market_context import MarketFrame, build_market

RECHECK_S = 30.0


@dataclass(frozen=True)
class _Built:
    frame: MarketFrame
    at: float  # time.monotonic() of the build
    behind: int  # coins current one candle before the close that lacked the close's candle


class MarketCache:
    """Market frames by (timeframe, end of the last candle, ms); ``builds`` counts how many were built."""

    def __init__(self, market: MarketData, lookback: int, size: int = 16):
        self.market = market
        self.lookback = lookback
        self.size = size
        self.builds = 0
        self._frames: OrderedDict[tuple[str, int], _Built] = OrderedDict()
        self._gates: dict[tuple[str, int], threading.Lock] = {}
        self._lock = threading.Lock()

    def _usable(self, key: tuple[str, int]) -> MarketFrame | None:
        with self._lock:
            got = self._frames.get(key)
            if got is None or (got.behind and time.monotonic() - got.at > RECHECK_S):
                return None
            self._frames.move_to_end(key)
            return got.frame

    def frame(self, timeframe: str, end_ms: int, now: float | None = None) -> MarketFrame:
        """The market over every held coin's candles opened before ``end_ms`` (``now``: clock seconds the
        request reads the market as of)."""
        key = (timeframe, int(end_ms))
        if (frame := self._usable(key)) is not None:
            return frame
        with self._lock:
            gate = self._gates.setdefault(key, threading.Lock())
        with gate:  # one build per key at a time: the others wait and take it
            if (frame := self._usable(key)) is not None:
                return frame
            built = self._build(timeframe, key[1], now)
            with self._lock:
                self._frames[key] = built
                self._frames.move_to_end(key)
                while len(self._frames) > self.size:
                    old, _ = self._frames.popitem(last=False)
                    self._gates.pop(old, None)
        return built.frame

    def _build(self, timeframe: str, end_ms: int, now: float | None) -> _Built:
        step = TIMEFRAME_MS[timeframe]
        series = self.market.held_series(timeframe, self.lookback, end_ms, now)
        with self._lock:
            self.builds += 1
            stamp = self.builds
        last = [int(c.t[-1]) for c in series]
        behind = sum(1 for t in last if t == end_ms - 2 * step)
        return _Built(build_market(series, timeframe, key=(timeframe, end_ms, stamp)), time.monotonic(), behind)
