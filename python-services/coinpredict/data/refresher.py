"""Keeping the live store current (the worker runs it): each watched symbol's newest closed candle is
fetched shortly after it closes, so requests read the store and never wait on the exchange.

Within the exchange's limits: every call spends request weight from the budget the process's market
holds (``data.budget``: a quarter of the exchange's 6,000 a minute by default, shared with the web's
catch-ups, and with every process of the deployment when ``REDIS_URL`` is set), and a 429 or 418 pauses
all fetching that shares the budget for its ``Retry-After``. A symbol the exchange does not list, or
answers is unknown, is not asked again for a day."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from ..errors import SourceError, UnknownSeries
from .market import MarketData
from .providers.live import LiveProvider
from .sources.exchange import BudgetSpent, ExchangeSource, RateLimited
from .timeframes import TIMEFRAME_MS

log = logging.getLogger(__name__)


class CandleRefresher:
    def __init__(self, market: MarketData, *, backfill: int = 1000, settle_s: float = 2.0, threads: int = 4):
        if not isinstance(market.provider, LiveProvider):
            raise TypeError("the refresher keeps the live store current; this market has no such store")
        self.market, self.live = market, market.provider
        self.budget = self.live.budget  # the requests' catch-ups spend from the same one
        self.exchange = ExchangeSource(market.settings.exchange_url, clock=market.clock, retries=1,
                                       timeout=(3.0, 10.0), budget=self.budget)
        self.backfill, self.settle_s = backfill, settle_s
        self._unknown: dict[tuple[str, str], float] = {}
        self._backfilled: set[tuple[str, str]] = set()
        self._nothing_new: dict[tuple[str, str], int] = {}  # the newest closed candle the exchange lacked
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="refresh")

    def held(self, timeframe: str) -> dict[str, tuple[int, int]]:
        """First and last stored open time per symbol (one aggregate over the store)."""
        return {s: (first, last) for s, first, last, _ in self.live.store.summary(timeframe)}

    def due(self, timeframe: str, symbols: set[str], held: dict[str, tuple[int, int]]) -> list[str]:
        """Watched symbols whose store lacks a candle that closed at least ``settle_s`` ago."""
        step = TIMEFRAME_MS[timeframe]
        newest = self.market.newest_closed(timeframe)
        if self.market.clock() * 1000 < newest + step + self.settle_s * 1000:
            newest -= step  # the candle that just closed: give the exchange a moment to finish it
        now = time.monotonic()
        return sorted(s for s in symbols if held.get(s, (-1, -1))[1] < newest
                      and self._unknown.get((s, timeframe), 0) <= now
                      and self._nothing_new.get((s, timeframe)) != newest
                      and (self.live.pairs is None or self.live.pairs.known(s) is not False))

    def short(self, timeframe: str, symbols: set[str], held: dict[str, tuple[int, int]]) -> list[tuple[str, int]]:
        """Watched symbols holding less history than ``backfill`` candles, with their first stored candle,
        not yet backfilled by this process (a symbol new on the exchange has no more to give)."""
        start = self.market.newest_closed(timeframe) - self.backfill * TIMEFRAME_MS[timeframe]
        return sorted((s, first) for s, (first, _) in held.items()
                      if s in symbols and first > start and (s, timeframe) not in self._backfilled)

    def run_once(self, watched: dict[str, set[str]]) -> dict:
        """One round over ``watched`` ({timeframe: symbols}): the newest candles first, then missing
        history; counts of symbols fetched, waiting for budget or a pause, and failed."""
        counts = {"fetched": 0, "candles": 0, "waiting": 0, "failed": 0}
        work = []
        for tf, symbols in watched.items():
            held = self.held(tf)
            work += [(s, tf, None) for s in self.due(tf, symbols, held)]
            work += [(s, tf, first) for s, first in self.short(tf, symbols, held)]
        for result in self._pool.map(self._one, work):
            counts[result[0]] += 1
            counts["candles"] += result[1]
        return counts

    def _one(self, job: tuple[str, str, int | None]) -> tuple[str, int]:
        symbol, timeframe, first = job
        key = (symbol, timeframe)
        if self.budget.paused_for() > 0:
            return "waiting", 0
        try:
            if first is not None:
                self._backfilled.add(key)
                return "fetched", self.live.backfill(symbol, timeframe, self.backfill, first, exchange=self.exchange)
            newest = self.market.newest_closed(timeframe)
            got = self.live.refresh(symbol, timeframe, self.backfill, exchange=self.exchange)
            if (self.live.store.last_time(symbol, timeframe) or -1) < newest:
                self._nothing_new[key] = newest  # halted or late: asked again once the next candle closes
            return "fetched", got
        except BudgetSpent:
            return "waiting", 0  # asked again next round, from the next minute's budget
        except RateLimited as exc:  # the budget is paused now, for every process sharing it
            log.warning("exchange rate limit: pausing candle refresh for %.0f s", exc.retry_after)
            return "waiting", 0
        except UnknownSeries:
            self._unknown[key] = time.monotonic() + 86_400
            return "failed", 0
        except SourceError as exc:
            log.warning("refreshing %s %s failed: %s", symbol, timeframe, exc)
            return "failed", 0
