"""One facade over sources and store: what the service asks when it needs candles.

Modes, decided from settings (OPERATIONS.md):
- ``csv``: OHLCV_DIR is set; candles come from that folder (missing timeframes resampled); rows another
  process appends to its files are read on the next request.
- ``live``: the store, kept current by the worker's refresher (``data.refresher``). A request finds it
  current and never calls the exchange; a symbol that is behind (cold, or just after a close) is caught up
  once, within the request's deadline, for every thread asking. When the exchange cannot answer in time
  the store answers with ``data_stale``; with nothing stored, 503 with ``Retry-After``. Symbols the
  exchange does not list are refused before any fetch.
- ``synthetic``: only with ``SYNTHETIC=1`` (demos and tests): the synthetic market, labelled in every answer.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from ..common.clock import now as clock_now
from ..config import Settings
from ..errors import DataError, NotFound, SourceError, Unavailable, UnknownSeries
from .candles import COLUMNS, EXTRA_COLUMNS, Candles
from .listing import CsvListing, SeriesSummary
from .pairs import TradingPairs
from .sources.csvdir import CsvFolderSource
from .sources.exchange import DeadlinePassed, ExchangeSource
from .sources.synthetic import SyntheticSource
from .store import CandleStore
from .timeframes import TIMEFRAME_MS, period_start
from .universe import BUNDLED_TOP100, STABLECOINS

log = logging.getLogger(__name__)
EXCHANGE_BACKOFF_S = 2.0  # after a failed fetch, requests answer from the store this long
NO_CANDLES_RETRY_S = 300.0  # a listed symbol that had no candles is asked for again after this


@dataclass
class MarketStatus:
    mode: str
    warning: str | None = None


def public_reason(exc: SourceError) -> str:
    """What an answer may say about a failed refresh: the source's own summary, never its URL or the
    HTTP library's text (the log keeps those)."""
    return getattr(exc, "public", None) or "exchange unreachable"


class MarketData:
    def __init__(self, settings: Settings, *, clock=clock_now):
        self.settings = settings
        self.clock = clock
        self._catching_up: dict[tuple[str, str], threading.Lock] = {}
        self._no_candles: dict[tuple[str, str], float] = {}  # (symbol, tf) -> time.monotonic() to ask again
        self._nothing_new: dict[tuple[str, str], int] = {}  # (symbol, tf) -> the closed candle it lacked
        self._exchange_down_until = 0.0  # time.monotonic(): after a failure, answer from the store a while
        self.last_stale_at: float | None = None  # when an answer last had to use stale candles
        self._lock = threading.Lock()
        self.store: CandleStore | None = None
        self.csv: CsvFolderSource | None = None
        self.listing: CsvListing | None = None
        self.exchange: ExchangeSource | None = None
        synthetic_symbols = [f"{c}USDT" for c in BUNDLED_TOP100 if c not in STABLECOINS]
        self.synthetic = SyntheticSource(synthetic_symbols, clock=clock)
        self.pairs: TradingPairs | None = None
        if settings.synthetic:
            self.mode = "synthetic"
        elif settings.ohlcv_dir is not None:
            self.csv = CsvFolderSource(settings.ohlcv_dir)
            self.listing = CsvListing(self.csv)
            self.mode = "csv"
        else:
            self.store = CandleStore(settings.store_path)
            # No retries on the request path: a request has a deadline, and the worker refreshes the store.
            self.exchange = ExchangeSource(settings.exchange_url, clock=clock, retries=0,
                                           timeout=(2.0, settings.fetch_deadline_s))
            if not settings.offline:
                self.pairs = TradingPairs(self.exchange)
                self.pairs.known("BTCUSDT")  # starts loading the list now, so no request waits on it
            self.mode = "live"

    def status(self) -> MarketStatus:
        if self.mode == "synthetic":
            return MarketStatus("synthetic", "SYNTHETIC=1: serving the synthetic market, for demos and tests "
                                             "only; predictions are not about real prices and always HOLD")
        if self.csv is not None and (problem := self.csv.problem()):
            return MarketStatus(self.mode, f"OHLCV_DIR {problem}: no candles to serve or train on (relative paths "
                                           "are read from the directory the service started in)")
        if self.last_stale_at is not None and self.clock() - self.last_stale_at < 300:
            return MarketStatus(self.mode, "some answers in the last 5 minutes used stale candles "
                                           "(exchange unreachable or behind)")
        return MarketStatus(self.mode)

    def symbols(self, timeframe: str) -> list[str] | None:
        if self.mode == "csv":
            return self.csv.symbols(timeframe)
        if self.mode == "synthetic":
            return self.synthetic.symbols(timeframe)
        return None

    def is_stale(self, age_s: float, timeframe: str) -> bool:
        """Whether a last candle that closed ``age_s`` seconds ago is older than ``timeframe`` allows."""
        return age_s > self.settings.stale_after_candles * TIMEFRAME_MS[timeframe] / 1000

    def summaries(self, timeframe: str) -> list[dict]:
        """Every symbol there are candles for on ``timeframe``: first and last open time (ms), the age of the
        last close against the wall clock, staleness and columns. Reads no exchange: what is held now."""
        if self.mode == "csv":
            found = self.listing.summaries(timeframe)
        elif self.mode == "synthetic":
            span = self.synthetic.span(timeframe)
            found = [] if span is None else [SeriesSummary(s, *span, COLUMNS) for s in self.synthetic.universe]
        else:
            found = [SeriesSummary(s, first, last, COLUMNS + extras)
                     for s, first, last, extras in self.store.summary(timeframe, EXTRA_COLUMNS)]
        now, step = self.clock(), TIMEFRAME_MS[timeframe]
        out = []
        for s in found:
            age = round(now - (s.last_ms + step) / 1000, 1)
            out.append({"symbol": s.symbol, "first_ms": s.first_ms, "last_ms": s.last_ms, "last_candle_age_s": age,
                        "data_stale": self.is_stale(age, timeframe), "columns": list(s.columns)})
        return out

    def freshness(self, timeframe: str, symbols: set[str] | None = None) -> dict:
        """How current the held candles of ``symbols`` (default: all held) are on ``timeframe``."""
        rows = [r for r in self.summaries(timeframe) if symbols is None or r["symbol"] in symbols]
        return {"symbols": len(rows), "last_candle_age_s": min((r["last_candle_age_s"] for r in rows), default=None),
                "stale": [r["symbol"] for r in rows if r["data_stale"]]}

    def candles(self, symbol: str, timeframe: str, last: int, end_ms: int | None = None, *,
                deadline: float | None = None, now: float | None = None) -> Candles:
        """The last ``last`` closed candles (opened before ``end_ms`` when given), with ``meta`` saying
        where they came from and how fresh; ``deadline`` (time.monotonic) bounds any wait on the exchange.
        ``now`` (clock seconds, default the clock's) is when the request asked: a candle closing while it is
        answered is not mixed in, and the age is measured from then."""
        now = self.clock() if now is None else now
        step = TIMEFRAME_MS[timeframe]
        if self.mode == "csv":  # never a candle that has not closed by ``now``, even when the folder has it
            until = self.newest_closed(timeframe, now) + step
            candles = self._from_csv(symbol, timeframe).until(until if end_ms is None else min(end_ms, until))
            candles = candles.last(last)
            candles.meta.update(data_source="csv", data_stale=False)
            if candles.source != "csv":  # resampled from a finer timeframe of the folder: say so, plainly
                candles.meta["warning"] = candles.source.removeprefix("csv ").strip("()")
        elif self.mode == "synthetic":
            if symbol not in self.synthetic.universe:
                raise NotFound(f"no market data for {symbol} on {timeframe} (synthetic market)", field="symbol",
                               code="unknown_symbol")
            end = self.newest_closed(timeframe, now) + step if end_ms is None else end_ms
            candles = self.synthetic.fetch(symbol, timeframe, start_ms=end - (last + 1) * step, end_ms=end)
            candles = candles.last(last)
            candles.meta.update(data_source="synthetic", data_stale=False, warning=self.status().warning)
        else:
            candles = self._from_live(symbol, timeframe, last, end_ms, deadline, now)
        if not len(candles):
            raise NotFound(f"no market data for {symbol} on {timeframe}", field="symbol", code="unknown_symbol")
        if end_ms is None:  # a window ending in the past is not stale; the newest candles are, by the clock
            age = now - candles.last_close_time_ms / 1000
            candles.meta["last_candle_age_s"] = round(age, 1)
            if self.is_stale(age, timeframe):
                candles.meta["data_stale"] = True
                if self.mode == "csv":
                    candles.meta["stale_reason"] = "the candle folder holds nothing newer"
            if self.mode == "live" and candles.meta.get("data_stale"):
                self.last_stale_at = self.clock()
        return candles

    def _start_for(self, timeframe: str, last: int) -> int:
        step = TIMEFRAME_MS[timeframe]
        return (int(self.clock() * 1000) // step - last - 1) * step

    def _from_csv(self, symbol: str, timeframe: str) -> Candles:
        try:
            return self.csv.fetch(symbol, timeframe)
        except DataError as exc:
            raise NotFound(f"no market data for {symbol} on {timeframe}", field="symbol",
                           code="unknown_symbol") from exc

    def newest_closed(self, timeframe: str, now: float | None = None) -> int:
        """Open time (ms) of the newest candle that has closed by ``now`` (default: the clock's now)."""
        now_ms = int((self.clock() if now is None else now) * 1000)
        return int(period_start(now_ms, timeframe)) - TIMEFRAME_MS[timeframe]

    def _from_live(self, symbol: str, timeframe: str, last: int, end_ms: int | None = None,
                   deadline: float | None = None, now: float | None = None) -> Candles:
        stored = self.store.last_time(symbol, timeframe)
        wanted = self.newest_closed(timeframe, now)  # never beyond the clock: a later end asks for nothing more
        if end_ms is not None:
            wanted = min(wanted, end_ms - TIMEFRAME_MS[timeframe])
        else:
            end_ms = wanted + TIMEFRAME_MS[timeframe]  # as of the asking: a candle stored meanwhile is later
        stale_reason = None
        if stored is None and self._no_candles.get((symbol, timeframe), 0.0) > time.monotonic():
            raise NotFound(f"no market data for {symbol} on {timeframe}", field="symbol", code="unknown_symbol")
        if stored is None or stored < wanted:
            if stored is None and self.pairs is not None and self.pairs.known(symbol) is False:
                raise NotFound(f"no market data for {symbol} on {timeframe}: the exchange does not list it",
                               field="symbol", code="unknown_symbol")
            stale_reason = self._catch_up(symbol, timeframe, last, deadline, wanted)
        candles = self.store.read(symbol, timeframe, last=last, end_ms=end_ms)
        if not len(candles):
            if not stale_reason:  # listed, yet no candles (delisted, or not yet trading): not asked again soon
                self._no_candles[(symbol, timeframe)] = time.monotonic() + NO_CANDLES_RETRY_S
            if stale_reason:
                raise Unavailable(f"no stored candles for {symbol} on {timeframe} and {stale_reason}",
                                  code="data_unavailable", retry_after=30)
            raise NotFound(f"no market data for {symbol} on {timeframe}", field="symbol", code="unknown_symbol")
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
            self.refresh(symbol, timeframe, last, deadline=deadline)
            if (self.store.last_time(symbol, timeframe) or -1) < wanted:
                self._nothing_new[(symbol, timeframe)] = wanted
            return None
        except UnknownSeries as exc:
            raise NotFound(f"no market data for {symbol} on {timeframe}", field="symbol",
                           code="unknown_symbol") from exc
        except DeadlinePassed as exc:  # this request's time ran out; the exchange is not to blame
            return public_reason(exc)
        except SourceError as exc:
            log.warning("catching up %s %s failed: %s", symbol, timeframe, exc)
            pause = max(EXCHANGE_BACKOFF_S, getattr(exc, "retry_after", 0.0))  # a 429/418 says how long
            self._exchange_down_until = time.monotonic() + pause  # spare the next requests the wait
            return public_reason(exc)
        finally:
            gate.release()

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
