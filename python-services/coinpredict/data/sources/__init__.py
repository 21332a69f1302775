"""Candle sources behind one small interface: the live exchange, a CSV folder, a synthetic market."""

from __future__ import annotations

from typing import Protocol

from ..candles import Candles


class CandleSource(Protocol):
    name: str
    live: bool  # whether new candles keep arriving (decides refresh and staleness)

    def fetch(self, symbol: str, timeframe: str, start_ms: int | None = None,
              end_ms: int | None = None) -> Candles:
        """Closed candles with open time in [start_ms, end_ms), oldest first."""

    def symbols(self, timeframe: str) -> list[str] | None:
        """Symbols the source has for ``timeframe``, or None when it cannot list them cheaply."""
