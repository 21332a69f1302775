"""One facade over the candle provider: what the service asks when it needs candles.

The provider (``data.providers``) is chosen once from settings (OPERATIONS.md): a candle folder
(OHLCV_DIR), the store kept current from the live exchange, or the synthetic market (SYNTHETIC=1).
The facade adds what every source shares: the age and staleness of the newest candles measured on the
market clock, the listing with ages, and /health's warnings."""

from __future__ import annotations

from dataclasses import dataclass

from ..common.clock import now as clock_now
from ..config import Settings
from ..errors import NotFound, ServiceError
from .candles import Candles
from .providers import CandleProvider, make_provider
from .providers.live import EXCHANGE_BACKOFF_S, NO_CANDLES_RETRY_S, public_reason
from .stores import CandleStorage
from .timeframes import TIMEFRAME_MS
from .timeframes import newest_closed as newest_closed_at

__all__ = ["EXCHANGE_BACKOFF_S", "NO_CANDLES_RETRY_S", "MarketData", "MarketStatus", "public_reason"]
STALE_WARNING_S = 300  # /health warns this long after an answer had to use stale candles


@dataclass
class MarketStatus:
    label: str  # the provider's, for display (``data_source``)
    warning: str | None = None


class MarketData:
    def __init__(self, settings: Settings, *, clock=clock_now, provider: CandleProvider | None = None):
        self.settings = settings
        self.clock = clock
        self.provider = provider if provider is not None else make_provider(settings, clock)
        self.last_stale_at: float | None = None  # when an answer last used stale candles the provider warns of

    @property
    def label(self) -> str:
        """Where candles come from, for display only (``data_source`` in /health and /symbols)."""
        return self.provider.label

    @property
    def live_store(self) -> CandleStorage | None:
        """The store the worker keeps current from the exchange; None when candles come from elsewhere."""
        return self.provider.live_store

    store = live_store

    @property
    def parallel(self) -> bool:
        """Whether fetches may wait on the network (a batch's fetches then overlap)."""
        return self.provider.parallel

    def status(self) -> MarketStatus:
        if warning := self.provider.warning():
            return MarketStatus(self.label, warning)
        if self.last_stale_at is not None and self.clock() - self.last_stale_at < STALE_WARNING_S:
            return MarketStatus(self.label, self.provider.stale_warning)
        return MarketStatus(self.label)

    def symbols(self, timeframe: str) -> list[str] | None:
        return self.provider.symbols(timeframe)

    def is_stale(self, age_s: float, timeframe: str) -> bool:
        """Whether a last candle that closed ``age_s`` seconds ago is older than ``timeframe`` allows."""
        return age_s > self.settings.stale_after_candles * TIMEFRAME_MS[timeframe] / 1000

    def summaries(self, timeframe: str) -> list[dict]:
        """Every symbol there are candles for on ``timeframe``: first and last open time (ms), the age of the
        last close against the wall clock, staleness and columns. Reads no exchange: what is held now."""
        now, step = self.clock(), TIMEFRAME_MS[timeframe]
        out = []
        for s in self.provider.summaries(timeframe):
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
        candles = self.provider.candles(symbol, timeframe, last, end_ms, deadline=deadline, now=now)
        if not len(candles):
            raise NotFound(f"no market data for {symbol} on {timeframe}", field="symbol", code="unknown_symbol")
        if end_ms is None:  # a window ending in the past is not stale; the newest candles are, by the clock
            age = now - candles.last_close_time_ms / 1000
            candles.meta["last_candle_age_s"] = round(age, 1)
            if self.is_stale(age, timeframe):
                candles.meta["data_stale"] = True
                if self.provider.stale_reason:
                    candles.meta["stale_reason"] = self.provider.stale_reason
            if self.provider.stale_warning and candles.meta.get("data_stale"):
                self.last_stale_at = self.clock()
        return candles

    def held_series(self, timeframe: str, last: int, end_ms: int, now: float | None = None) -> list[Candles]:
        """Every held symbol's last ``last`` candles opened before ``end_ms`` (the store's, the folder's or
        the synthetic market's), reading no exchange: the cross-section the market context is built from."""
        now = self.clock() if now is None else now
        store = self.live_store
        if store is not None:
            found = [store.read(s, timeframe, last=last, end_ms=end_ms) for s in store.symbols(timeframe)]
            return [c for c in found if len(c)]
        out = []
        for symbol in self.symbols(timeframe) or []:
            try:
                c = self.provider.candles(symbol, timeframe, last, end_ms, deadline=None, now=now)
            except ServiceError:
                continue  # a file that cannot be read is left out of the market, as training leaves it out
            if len(c):
                out.append(c)
        return out

    def newest_closed(self, timeframe: str, now: float | None = None) -> int:
        """Open time (ms) of the newest candle that has closed by ``now`` (default: the clock's now)."""
        return newest_closed_at(timeframe, self.clock() if now is None else now)
