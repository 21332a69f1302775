"""Shapes of ``GET /symbols``: what can be predicted, and how fresh its data is."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import Answer, Query, Timeframe


class SymbolsQuery(Query):
    timeframe: Timeframe = Field("1h", description="candle length the listing is about")


class SymbolInfo(Answer):
    """One symbol that has candles on the timeframe asked."""

    symbol: str = Field(description="exchange form, e.g. BTCUSDT")
    first: str = Field(description="open time of the first candle, ISO 8601 UTC")
    last: str = Field(description="open time of the last closed candle, ISO 8601 UTC")
    last_candle_age_s: float = Field(description="wall clock minus the close time of the last candle, in seconds")
    data_stale: bool = Field(description="true when the last candle is older than the timeframe allows")
    columns: list[str] = Field(description="candle columns held for this symbol: open, high, low, close, volume, "
                                           "and where present quote_volume, trades, taker_buy_volume, "
                                           "taker_buy_quote_volume")


class TrainedTimeframe(Answer):
    horizons: list[int] = Field(description="horizons (candles ahead) with a ready model")
    models: int = Field(ge=0, description="single models ready on this timeframe")


class SymbolsResponse(Answer):
    """What can be predicted, and how fresh its data is."""

    timeframe: Timeframe = Field(description="candle length the symbols are listed for (resampled from a "
                                             "finer timeframe where the data has no candles of this length)")
    data_source: Literal["csv", "live", "synthetic"] = Field(
        description="candle folder, the live store (what it holds now; listing fetches nothing), or the "
                    "synthetic market (not real prices)")
    count: int = Field(ge=0, description="number of symbols listed")
    symbols: list[SymbolInfo] = Field(description="by symbol, A to Z")
    trained: dict[str, TrainedTimeframe] = Field(description="per timeframe with a ready model: its horizons "
                                                             "and how many single models are ready")
