"""The store, kept current from the exchange. The worker's refresher (``data.refresher``) keeps watched
symbols current, so a request finds them so and never calls the exchange; a symbol that is behind (cold,
or just after a close) is caught up once, within the request's deadline, for every thread asking. When
the exchange cannot answer in time the store answers with ``data_stale``; with nothing stored, 503 with
``Retry-After``. Symbols the exchange does not list are refused before any fetch."""

from __future__ import annotations

import logging
import threading
import time

from ...config import Settings
from ...errors import DataError, NotFound, SourceError, Unavailable, UnknownSeries
from ..budget import make_budget
from ..candles import COLUMNS, EXTRA_COLUMNS, Candles
from ..listing import SeriesSummary
from ..pairs import TradingPairs
from ..sources.exchange import DeadlinePassed, ExchangeSource
from ..stores import open_candle_store
from ..timeframes import TIMEFRAME_MS, newest_closed

log = logging.getLogger(__name__)
EXCHANGE_BACKOFF_S = 2.0  # after a failed fetch, requests answer from the store this long
CLAIM_POLL_S = 0.02  # how often a request waiting on another process's fetch looks at the shared store
NO_CANDLES_RETRY_S = 300.0  # a listed symbol that had no candles is asked for again after this


def public_reason(exc: SourceError) -> str:
    """What an answer may say about a failed refresh: the source's own summary, never its URL or the
    HTTP library's text (the log keeps those)."""
    return getattr(exc, "public", None) or "exchange unreachable"


def unknown(symbol: str, timeframe: str, why: str = "") -> NotFound:
    return NotFound(f"no market data for {symbol} on {timeframe}{why}", field="symbol", code="unknown_symbol")


class LiveProvider:
    label = "live"
    parallel = True  # a symbol that is behind waits on the exchange: a batch's symbols catch up together
    stale_reason = None  # a stale answer says why it could not catch up (``_catch_up``)
    stale_warning = "some answers in the last 5 minutes used stale candles (exchange unreachable or behind)"

    def __init__(self, settings: Settings, clock):
        self.settings = settings
        self.clock = clock
        self.store = open_candle_store(settings)  # SQLite at STORE_PATH, or the deployment's on PostgreSQL
        self.live_store = self.store
        self.budget = make_budget(settings)  # the exchange's weight and pauses, shared through Redis when set
        # No retries on the request path: a request has a deadline, and the worker refreshes the store.
        self.exchange = ExchangeSource(settings.exchange_url, clock=clock, retries=0,
                                       timeout=(2.0, settings.fetch_deadline_s), budget=self.budget)
        self.pairs: TradingPairs | None = None
        if not settings.offline:
            self.pairs = TradingPairs(self.exchange)
            self.pairs.known("BTCUSDT")  # starts loading the list now, so no request waits on it
        self._catching_up: dict[tuple[str, str], threading.Lock] = {}
        self._no_candles: dict[tuple[str, str], float] = {}  # (symbol, tf) -> time.monotonic() to ask again
        self._nothing_new: dict[tuple[str, str], int] = {}  # (symbol, tf) -> the closed candle it lacked
        self._exchange_down_until = 0.0  # time.monotonic(): after a failure, answer from the store a while
        self._lock = threading.Lock()

    def warning(self) -> None:
        return None

    def symbols(self, timeframe: str) -> None:
        return None  # the exchange lists hundreds; the universe decides what is ranked

    def summaries(self, timeframe: str) -> list[SeriesSummary]:
        return [SeriesSummary(s, first, last, COLUMNS + extras)
                for s, first, last, extras in self.store.summary(timeframe, EXTRA_COLUMNS)]

    def candles(self, symbol: str, timeframe: str, last: int, end_ms: int | None, *,
                deadline: float | None, now: float) -> Candles:
        stored = self.store.last_time(symbol, timeframe)
        wanted = newest_closed(timeframe, now)  # never beyond the clock: a later end asks for nothing more
        if end_ms is not None:
            wanted = min(wanted, end_ms - TIMEFRAME_MS[timeframe])
        else:
            end_ms = wanted + TIMEFRAME_MS[timeframe]  # as of the asking: a candle stored meanwhile is later
        stale_reason = None
        if stored is None and self._no_candles.get((symbol, timeframe), 0.0) > time.monotonic():
            raise unknown(symbol, timeframe)
        if stored is None or stored < wanted:
            if stored is None and self.pairs is not None and self.pairs.known(symbol) is False:
                raise unknown(symbol, timeframe, ": the exchange does not list it")
            stale_reason = self._catch_up(symbol, timeframe, last, deadline, wanted)
        candles = self.store.read(symbol, timeframe, last=last, end_ms=end_ms)
        if not len(candles):
            if stale_reason:
                raise Unavailable(f"no stored candles for {symbol} on {timeframe} and {stale_reason}",
                                  code="data_unavailable", retry_after=30)
            # listed, yet no candles (delisted, or not yet trading): not asked again soon
            self._no_candles[(symbol, timeframe)] = time.monotonic() + NO_CANDLES_RETRY_S
            raise unknown(symbol, timeframe)
        candles.meta.update(data_source="store" if stale_reason else "exchange", data_stale=bool(stale_reason))
        if stale_reason:
            candles.meta["stale_reason"] = stale_reason
        return candles

    def _catch_up(self, symbol: str, timeframe: str, last: int, deadline: float | None, wanted: int) -> str | None:
        """Fetch what the store lacks, once for all threads asking; None when it is current now, else why
        not (the answer then comes from what is stored)."""
        if self.settings.offline:
            return "offline: the exchange is not called"
        if time.monotonic() < self._exchange_down_until:
            return "exchange unreachable or too slow a moment ago: answering from stored candles"
        deadline = deadline or time.monotonic() + self.settings.fetch_deadline_s
        with self._lock:
            gate = self._catching_up.setdefault((symbol, timeframe), threading.Lock())
        if not gate.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return "exchange too slow: answering from stored candles"
        try:
            stored = self.store.last_time(symbol, timeframe)
            if stored is not None and stored >= wanted:
                return None  # another thread caught it up meanwhile
            if stored is not None and self._nothing_new.get((symbol, timeframe)) == wanted:
                return None  # the exchange had nothing newer a moment ago (halted or late): not asked again
            if self.store.shared and not self.budget.claim(f"{symbol}:{timeframe}:{wanted}",
                                                           max(0.1, deadline - time.monotonic())):
                return self._wait_for_other(symbol, timeframe, wanted, deadline)
            self.refresh(symbol, timeframe, last, deadline=deadline)
            if (self.store.last_time(symbol, timeframe) or -1) < wanted:
                self._nothing_new[(symbol, timeframe)] = wanted
            return None
        except UnknownSeries as exc:
            raise unknown(symbol, timeframe) from exc
        except DeadlinePassed as exc:  # this request's time ran out; the exchange is not to blame
            return public_reason(exc)
        except SourceError as exc:
            log.warning("catching up %s %s failed: %s", symbol, timeframe, exc)
            pause = max(EXCHANGE_BACKOFF_S, getattr(exc, "retry_after", 0.0))  # a 429/418 says how long
            self._exchange_down_until = time.monotonic() + pause  # spare the next requests the wait
            return public_reason(exc)
        finally:
            gate.release()

    def _wait_for_other(self, symbol: str, timeframe: str, wanted: int, deadline: float) -> str | None:
        """Another process of the deployment is fetching this candle into the shared store: wait for it
        there rather than fetching it a second time."""
        while time.monotonic() < deadline:
            if (self.store.last_time(symbol, timeframe) or -1) >= wanted:
                return None
            time.sleep(CLAIM_POLL_S)
        return "another process was still fetching it: answering from stored candles"

    def _start_for(self, timeframe: str, last: int) -> int:
        step = TIMEFRAME_MS[timeframe]
        return (int(self.clock() * 1000) // step - last - 1) * step

    def backfill(self, symbol: str, timeframe: str, last: int, first_ms: int, *,
                 exchange: ExchangeSource | None = None) -> int:
        """Fetch the candles before ``first_ms`` (the first stored) that a ``last``-candle history lacks: a
        symbol first caught up by a request holds only what that request needed."""
        start = self._start_for(timeframe, last)
        if first_ms <= start:
            return 0
        fresh = (exchange or self.exchange).fetch(symbol, timeframe, start_ms=start, end_ms=first_ms)
        return self.store.upsert(fresh) if len(fresh) else 0

    def refresh(self, symbol: str, timeframe: str, last: int, *, exchange: ExchangeSource | None = None,
                deadline: float | None = None) -> int:
        """Fetch only what the store lacks (at least the last ``last`` candles) and upsert it."""
        step = TIMEFRAME_MS[timeframe]
        stored = self.store.last_time(symbol, timeframe)
        wanted_start = self._start_for(timeframe, last)
        start = wanted_start if stored is None else max(stored + step, wanted_start)
        try:
            fresh = (exchange or self.exchange).fetch(symbol, timeframe, start_ms=start, deadline=deadline)
        except DataError as exc:
            raise SourceError(str(exc), public="exchange sent unusable candles") from exc
        return self.store.upsert(fresh) if len(fresh) else 0
