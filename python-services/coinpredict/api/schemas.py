"""Request and response shapes (pydantic): the same classes validate requests and generate
``/openapi.json``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from ..data.timeframes import TIMEFRAMES

Timeframe = Literal[TIMEFRAMES]  # type: ignore[valid-type]
Method = Literal["weighted_average", "median", "best"]


class PredictItem(BaseModel):
    """One prediction request (also one item of a batch)."""

    model_config = ConfigDict(extra="ignore")
    symbol: StrictStr = Field(min_length=1, max_length=40, examples=["BTCUSDT", "btc", "BTC/USDT"])
    timeframe: Timeframe = "1h"
    model: StrictStr = Field("ensemble", max_length=64)
    horizon: StrictInt | None = Field(None, ge=1, le=500)
    method: Method | None = None


class SingleRequest(PredictItem):
    candles: list[dict[str, Any] | list[Any]] | None = Field(
        None, description="closed candles, oldest first: {t,o,h,l,c,v} objects or [t,o,h,l,c,v] rows")


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    items: list[Any] = Field(description="prediction items (at most 500); each is validated on its own")


class TopQuery(BaseModel):
    timeframe: Timeframe = "1h"
    model: StrictStr = Field("ensemble", max_length=64)
    limit: int = Field(100, ge=1, le=100)


class Prediction(BaseModel):
    symbol: str
    timeframe: str
    model: str
    as_of: str
    horizon: int
    probability_up: float
    signal: Literal["BUY", "SELL", "HOLD"]
    confidence: float
    model_version: str | None
    latency_ms: float
    data_source: str
    members: dict[str, float] | None = None
    method: str | None = None
    weights: dict[str, float] | None = None
    uncertainty: float | None = None
    failed_members: dict[str, str] | None = None
    data_stale: bool | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class BatchResponse(BaseModel):
    count: int
    results: list[Prediction | dict]
    latency_ms: float


class TopResponse(BaseModel):
    as_of: str | None
    universe: str
    count: int
    results: list[dict]
    skipped: list[dict]
    latency_ms: float


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    models_loaded: int
    models: dict[str, int]
    uptime_s: float
    version: str


class ModelSummary(BaseModel):
    id: str
    family: str
    params: dict
    status: Literal["ready", "not_trained", "failed"]
    timeframes: list[str]
    model_version: str | None


class ModelList(BaseModel):
    count: int
    models: list[ModelSummary]


class ModelStatus(BaseModel):
    id: str
    status: str
    family: str
    params: dict
    trained_at: str | None
    training: dict
    metrics: dict
    serving: dict
