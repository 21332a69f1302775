"""The synthetic market (SYNTHETIC=1, demos and tests): the bundled top-100 coins, labelled in every answer."""

from __future__ import annotations

from ...errors import NotFound
from ..candles import COLUMNS, Candles
from ..listing import SeriesSummary
from ..sources.synthetic import SyntheticSource
from ..timeframes import TIMEFRAME_MS, newest_closed
from ..universe import BUNDLED_TOP100, STABLECOINS

WARNING = ("SYNTHETIC=1: serving the synthetic market, for demos and tests only; predictions are not about "
           "real prices and always HOLD")


class SyntheticProvider:
    label = "synthetic"
    live_store = None
    parallel = False  # generated in memory
    stale_reason = None  # generated up to the clock: never stale
    stale_warning = None

    def __init__(self, clock):
        self.source = SyntheticSource([f"{c}USDT" for c in BUNDLED_TOP100 if c not in STABLECOINS], clock=clock)
        self.clock = clock

    def warning(self) -> str:
        return WARNING

    def symbols(self, timeframe: str) -> list[str]:
        return self.source.symbols(timeframe)

    def summaries(self, timeframe: str) -> list[SeriesSummary]:
        span = self.source.span(timeframe)
        return [] if span is None else [SeriesSummary(s, *span, COLUMNS) for s in self.source.universe]

    def candles(self, symbol: str, timeframe: str, last: int, end_ms: int | None, *,
                deadline: float | None, now: float) -> Candles:
        if symbol not in self.source.universe:
            raise NotFound(f"no market data for {symbol} on {timeframe} (synthetic market)", field="symbol",
                           code="unknown_symbol")
        step = TIMEFRAME_MS[timeframe]
        end = newest_closed(timeframe, now) + step if end_ms is None else end_ms
        candles = self.source.fetch(symbol, timeframe, start_ms=end - (last + 1) * step, end_ms=end).last(last)
        # ``invented``: the prices are not real, so answers never signal a trade on them
        candles.meta.update(data_source="synthetic", data_stale=False, warning=WARNING, invented=True)
        return candles
