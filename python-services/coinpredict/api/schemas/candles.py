"""Shapes of ``GET /candles``: a market's recent closed candles, as the service holds them."""

from __future__ import annotations

from pydantic import Field, StrictStr

from .common import Answer, Query, Timeframe


class CandlesQuery(Query):
    symbol: StrictStr = Field(min_length=1, max_length=40, description="coin or pair, any accepted form (BTC, BTCUSDT, "
                                                                       "BTC/USDT)")
    timeframe: Timeframe = Field("1h", description="candle length (resampled from a finer one where needed)")
    limit: int = Field(300, ge=1, le=1000, description="the newest closed candles, at most this many")


class CandleOut(Answer):
    t: int = Field(description="open time, epoch milliseconds")
    o: float = Field(description="open price")
    h: float = Field(description="high price")
    l: float = Field(description="low price")  # noqa: E741
    c: float = Field(description="close price")
    v: float | None = Field(description="base-asset volume (null when the source's value was implausible)")


class CandlesAnswer(Answer):
    symbol: str = Field(description="exchange form, e.g. BTCUSDT")
    timeframe: Timeframe = Field(description="candle length")
    data_source: str = Field(description="csv, store, exchange or synthetic, as predictions say")
    count: int = Field(ge=1, description="candles listed")
    first: str = Field(description="open time of the first candle listed, ISO 8601 UTC")
    last: str = Field(description="open time of the newest candle listed, ISO 8601 UTC")
    last_candle_age_s: float | None = Field(None, description="clock minus the close time of the newest candle")
    data_stale: bool = Field(description="true when the newest candle is older than the timeframe allows")
    stale_reason: str | None = Field(None, description="why fresher candles could not be had")
    warning: str | None = Field(None, description="something the caller should know (e.g. synthetic prices)")
    candles: list[CandleOut] = Field(description="oldest first; the same fields a request's candle objects take")
