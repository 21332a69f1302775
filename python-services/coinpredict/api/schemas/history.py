"""Shapes of ``GET /predictions/history``: the ledger of served predictions and their outcomes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictStr, field_validator

from .common import Answer, IsoTime, Query, Timeframe, UtcTime, canonical_model_id
from .predictions import MoveQuantiles


class HistoryQuery(Query):
    symbol: StrictStr | None = Field(None, max_length=40, description="coin or pair, any accepted form")
    timeframe: Timeframe | None = Field(None, description="candle length")
    model: StrictStr | None = Field(None, max_length=64, description="model id or 'ensemble'")
    horizon: int | None = Field(None, ge=1, le=500, description="candles ahead")
    since: IsoTime | None = Field(None, description="only forecasts made at or after (as_of), ISO date or time")
    limit: int = Field(100, ge=1, le=1000, description="newest first, at most this many")

    @field_validator("model")
    @classmethod
    def _model_id(cls, value):
        return canonical_model_id(value) if value is not None else None


class RecordedMove(Answer):
    source: Literal["model", "rule"] = Field(description="the move model's quantiles, or the rule's")
    quantiles_bps: MoveQuantiles = Field(description="quantiles of the horizon's log return (basis points) "
                                                     "as answered: q05-q95 the 90% band, q25-q75 the 50% one")


class Recorded(Answer):
    as_of: UtcTime = Field(description="open time of the last candle the forecast used")
    symbol: str = Field(description="exchange symbol")
    timeframe: str = Field(description="candle length")
    model: str = Field(description="model id or ensemble")
    model_version: str = Field(description="the version that answered")
    horizon: int = Field(description="candles ahead")
    probability_up: float = Field(description="what was answered")
    signal: str = Field(description="BUY, SELL or HOLD, as answered")
    outcome_up: bool | None = Field(description="whether the close horizon candles later was above; null until "
                                                "that candle has closed (or when it is missing)")
    return_bps: float | None = Field(description="the return over the horizon, in basis points")
    probability_outperform: float | None = Field(None, description="the answer's P(the coin beats the market's "
                                                                   "mean over the horizon); null when its model "
                                                                   "had none (or for an ensemble's members)")
    outcome_outperform: bool | None = Field(None, description="whether the coin's log return over the horizon "
                                                              "beat the market's mean log return over the same "
                                                              "candles; null until the market's candles have "
                                                              "closed, or without probability_outperform")
    recorded_at: str = Field(description="when it was answered")
    move: RecordedMove | None = Field(None, description="the answer's return quantiles over the horizon, as "
                                                        "answered; null for forecasts recorded before they were "
                                                        "kept, and for an ensemble's members")


class History(Answer):
    count: int = Field(description="forecasts listed")
    results: list[Recorded] = Field(description="newest first")
