"""Shapes of the job endpoints (``POST /jobs`` and its answers)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

from ...models.registry import ENSEMBLE_ID, MODEL_IDS
from ...training.pipeline import PROFILES, PROMOTE_POLICIES
from .common import Answer, IsoTime, Query, Timeframe, canonical_model_id

Profile = Literal[tuple(PROFILES)]  # type: ignore[valid-type]
Promote = Literal[PROMOTE_POLICIES]  # type: ignore[valid-type]
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
KNOWN_IDS = (*MODEL_IDS, ENSEMBLE_ID)


class JobRequest(BaseModel):
    """A training job: the same run as ``scripts/train.py``, on the service's candles."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["train"] = Field("train", description="what the job does (training is the one kind)")
    timeframe: Timeframe = Field(description="candle length to train on (required: a job trains one timeframe, "
                                             "and no default is assumed)")
    models: Literal["all"] | list[StrictStr] = Field(
        "all", description=f"'all' (every model and the ensemble) or a list of ids ({', '.join(KNOWN_IDS)}); "
                           f"with 'ensemble' alone, the ensemble is refitted over the members being served")
    profile: Profile = Field("default", description="training budget: smoke (seconds), default, full")
    end: IsoTime | None = Field(None, description="exclusive: no candle at or after it is used (ISO date or time); "
                                                  "default: after the last candle")
    start: IsoTime | None = Field(None, description="first candle to use (default: all)")
    horizons: list[StrictInt] | None = Field(None, min_length=1, max_length=8,
                                             description="candles ahead (default: the timeframe's horizons)")
    promote: Promote = Field("if_better", description="serve the new versions if_better than the serving ones "
                                                      "on recent candles neither trained on, always, or never")

    @field_validator("models")
    @classmethod
    def _known(cls, value):
        if value == "all":
            return value
        ids = [canonical_model_id(v) for v in value]
        unknown = [v for v in ids if v not in KNOWN_IDS]
        if unknown:
            raise ValueError(f"unknown model {unknown[0]!r}; known: {', '.join(KNOWN_IDS)}")
        if not ids or len(set(ids)) != len(ids):
            raise ValueError("a non-empty list of distinct model ids")
        return ids

    @field_validator("horizons")
    @classmethod
    def _horizons(cls, value):
        if value is not None and (min(value) < 1 or max(value) > 500 or len(set(value)) != len(value)):
            raise ValueError("distinct candle counts between 1 and 500")
        return value


class JobQuery(Query):
    status: JobStatus | None = Field(None, description="only jobs in this state")
    limit: int = Field(50, ge=1, le=500, description="newest first, at most this many")


class Job(Answer):
    id: str = Field(description="job id")
    kind: str = Field(description="what the job does: train")
    timeframe: str = Field(description="timeframe it trains")
    status: JobStatus = Field(description="queued, running, succeeded, failed or cancelled")
    progress: float = Field(ge=0, le=1, description="fraction done (models done of all, epochs within one)")
    stage: str = Field(description="what it is doing now, or how it ended")
    created_at: str = Field(description="when it was submitted")
    started_at: str | None = Field(description="when a worker started it")
    finished_at: str | None = Field(description="when it ended")
    params: dict[str, Any] = Field(description="what was asked: models, profile, end, start, horizons, promote")
    result: dict[str, Any] | None = Field(description="versions written, promoted ids, the gate's figures per "
                                                      "model, validation metrics, the data range")
    error: str | None = Field(description="why it failed")
    log_tail: list[str] = Field(description="the last lines of its training log")
    cancel_requested: bool = Field(description="DELETE /jobs/<id> asked it to stop")
    heartbeat_at: str | None = Field(description="when its worker last reported (a silent one is ended as failed)")
    worker: str | None = Field(description="host:pid of the worker running it")


class JobList(Answer):
    count: int = Field(description="jobs listed")
    jobs: list[Job] = Field(description="newest first")
