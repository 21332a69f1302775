"""One provider per candle source behind one protocol, chosen once from settings by ``make_provider``.

- ``FolderProvider``: OHLCV_DIR, a candle folder (missing timeframes resampled);
- ``LiveProvider``: the store, kept current from the exchange (the worker refreshes it, a request catches
  up a symbol that is behind within its deadline);
- ``SyntheticProvider``: SYNTHETIC=1, the synthetic market for demos and tests.

Candles a client sends with a request are not a provider: they are one request's own, parsed and checked
(``data.client_candles``) and judged for length and age by the gatherer, with no symbol list, no store to
keep current and nothing to choose from settings. Callers ask a provider's capabilities (``live_store``,
``parallel``, ``warning()``); ``label`` is for display only (``data_source`` in /health and /symbols) and
no module outside this package compares it (``tests/data/test_providers.py`` checks).
"""

from __future__ import annotations

from typing import Protocol

from ...common.clock import now as clock_now
from ...config import Settings
from ..candles import Candles
from ..listing import SeriesSummary
from ..stores import CandleStorage
from .folder import FolderProvider
from .live import LiveProvider
from .synthetic import SyntheticProvider

__all__ = ["CandleProvider", "FolderProvider", "LiveProvider", "SyntheticProvider", "make_provider"]


class CandleProvider(Protocol):
    label: str  # what /health and /symbols show as data_source; for display, never compared
    live_store: CandleStorage | None  # the store the worker keeps current from the exchange; None: no such store
    parallel: bool  # whether a fetch may wait on the network, so a batch's fetches overlap in threads
    stale_reason: str | None  # why candles older than the clock allows are all there is (said in answers)
    stale_warning: str | None  # what /health says for 5 minutes after an answer used stale candles

    def warning(self) -> str | None:
        """What /health warns about this source itself (the synthetic market, an unusable folder)."""

    def symbols(self, timeframe: str) -> list[str] | None:
        """Symbols there are candles for on ``timeframe``; None when the source cannot list them (the exchange)."""

    def summaries(self, timeframe: str) -> list[SeriesSummary]:
        """First and last candle and columns per symbol held now on ``timeframe``; calls no exchange."""

    def candles(self, symbol: str, timeframe: str, last: int, end_ms: int | None, *,
                deadline: float | None, now: float) -> Candles:
        """The last ``last`` candles closed by ``now`` (clock seconds), opened before ``end_ms`` when given,
        with ``meta`` saying where they came from; NotFound for a symbol it has nothing for."""


def make_provider(settings: Settings, clock=clock_now) -> CandleProvider:
    """The one provider the settings ask for (OPERATIONS.md): SYNTHETIC=1, else OHLCV_DIR, else the live store."""
    if settings.synthetic:
        return SyntheticProvider(clock)
    if settings.ohlcv_dir is not None:
        return FolderProvider(settings.ohlcv_dir, clock)
    return LiveProvider(settings, clock)
