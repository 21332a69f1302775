"""The shape of ``GET /health``: liveness, model counts, jobs and how current the candles are."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import MARKET_TIME_FIELD, Answer, MarketTime
from .models import ModelCounts


class JobsSummary(Answer):
    queued: int = Field(description="jobs waiting for a worker")
    running: int = Field(description="jobs running")
    active: list[ActiveJob] = Field(description="the queued and running jobs, oldest first")


class TimeframeFreshness(Answer):
    symbols: int = Field(ge=0, description="symbols the service keeps current on this timeframe")
    last_candle_age_s: float | None = Field(description="clock minus the close time of the freshest symbol's "
                                                        "newest candle, in seconds (null: none held)")
    stale_symbols: int = Field(ge=0, description="of those, symbols whose newest candle is older than allowed")


class DataFreshness(Answer):
    last_candle_age_s: float | None = Field(description="the freshest newest candle's age on the finest trained "
                                                        "timeframe, in seconds (null: no candles held)")
    stale_symbols: int = Field(ge=0, description="symbols (each coin counted once, however many trained "
                                                 "timeframes it is stale on) whose newest candle is older than the "
                                                 "timeframe allows (the status is then degraded); per timeframe in "
                                                 "by_timeframe")
    stale_examples: list[str] = Field(description="a few of them, as SYMBOL/timeframe")
    by_timeframe: dict[str, TimeframeFreshness] = Field(description="the same per trained timeframe")


class Health(Answer):
    status: Literal["ok", "degraded"] = Field(description="degraded when any warning applies")
    models_loaded: int = Field(description="models ready")
    models: ModelCounts = Field(description="single models by status")
    uptime_s: float = Field(description="seconds since this worker started")
    version: str = Field(description="service version")
    data_source: Literal["csv", "live", "synthetic"] = Field(
        description="candle folder, live exchange (cached in the store), or the synthetic market")
    timeframes: list[str] = Field(description="timeframes with trained models")
    warnings: list[str] = Field(description="why the status is degraded")
    jobs: JobsSummary = Field(description="training jobs waiting and running (details at /jobs)")
    data: DataFreshness = Field(description="how current the candles are: in live mode over the symbols kept "
                                            "fresh (the top-100 universe, the context anchors, whatever was asked "
                                            "for in the last day), with a candle folder over its files")
    market_time: MarketTime | None = Field(None, description=MARKET_TIME_FIELD)


class ActiveJob(Answer):
    id: str = Field(description="job id (GET /jobs/<id> has the whole record)")
    timeframe: str = Field(description="timeframe it trains")
    status: Literal["queued", "running"] = Field(description="waiting for a worker, or running")
    progress: float = Field(ge=0, le=1, description="fraction done")
    stage: str = Field(description="what it is doing now")
