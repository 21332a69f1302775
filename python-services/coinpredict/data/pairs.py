"""The exchange's list of trading pairs, cached: a symbol it does not list is refused before any candle
is asked for, so made-up symbols cost the exchange nothing and never grow the store."""

from __future__ import annotations

import logging
import threading
import time

from ..errors import SourceError
from .sources.exchange import ExchangeSource

log = logging.getLogger(__name__)


class TradingPairs:
    """Loaded in the background (at start, then once a ``ttl_s``); until the first load succeeds every
    symbol counts as possible (``known`` answers None) and a failed load is retried after ``retry_s``."""

    def __init__(self, exchange: ExchangeSource, *, ttl_s: float = 86_400.0, retry_s: float = 60.0):
        self.exchange = exchange
        self.ttl_s, self.retry_s = ttl_s, retry_s
        self._pairs: frozenset[str] | None = None
        self._next_load = 0.0  # time.monotonic() at which the list is (re)loaded
        self._loading = threading.Lock()

    def known(self, symbol: str) -> bool | None:
        """Whether the exchange lists ``symbol``; None while its list is not known."""
        self._maybe_reload()
        pairs = self._pairs
        return None if pairs is None else symbol in pairs

    @property
    def loaded(self) -> bool:
        return self._pairs is not None

    def _maybe_reload(self) -> None:
        if time.monotonic() < self._next_load or not self._loading.acquire(blocking=False):
            return
        self._next_load = time.monotonic() + self.retry_s  # one load at a time; no request waits on it
        threading.Thread(target=self._load, daemon=True, name="trading-pairs").start()

    def _load(self) -> None:
        try:
            self._fetch()
        finally:
            self._loading.release()

    def _fetch(self) -> None:
        try:
            pairs = self.exchange.pairs()
            if pairs:
                self._pairs = frozenset(pairs)
                self._next_load = time.monotonic() + self.ttl_s
                log.info("the exchange lists %d trading pairs", len(pairs))
        except SourceError as exc:
            self._next_load = time.monotonic() + self.retry_s
            log.warning("list of trading pairs not loaded (%s); retrying in %.0f s", exc, self.retry_s)

    def load_now(self, timeout: float = 30.0) -> bool:
        """Load the list unless known (waiting for a load in progress) and say whether it is known: for the
        worker and tests, which may wait; requests never call it."""
        if self._loading.acquire(timeout=timeout):
            try:
                if not self.loaded:
                    self._fetch()
            finally:
                self._loading.release()
        return self.loaded
