"""Request and answer shapes of the version endpoints (list, promote, delete)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from .common import Answer, Query, Status, Timeframe, VersionedId

VERSION_FIELD = ("version id as answers name it (2025-11-30T12:00:00Z-3f2a1c) or its folder name (the same without "
                 "':')")


class VersionsQuery(Query):
    timeframe: Timeframe = Field("1h", description="candle length the versions are for")


class PromoteRequest(BaseModel):
    """The body of ``POST /models/<id>/promote``."""

    model_config = ConfigDict(extra="forbid")
    timeframe: Timeframe = Field("1h", description="candle length of the version")
    version: StrictStr = Field(min_length=1, max_length=80, description=VERSION_FIELD)
    force: StrictBool = Field(False, description="serve it even when the serving cannot use it fully (409 "
                                                 "incompatible_version otherwise: e.g. it lacks a horizon the "
                                                 "timeframe serves; requests at that horizon then answer 404 "
                                                 "not_trained, and the ensemble answers without it)")


class VersionInfo(Answer):
    version: str = Field(description="version id")
    trained_at: str | None = Field(description="ISO 8601 UTC (null when its manifest cannot be read)")
    data_range: dict[str, Any] | None = Field(description="train, valid and end_exclusive of its training data")
    metrics: dict[str, Any] | None = Field(description="validation and validation_by_horizon metrics")
    status: Literal["serving", "available", "refused", "unreadable"] = Field(
        description="serving: the version this worker serves; available: can be promoted; refused: CURRENT names "
                    "it but it did not load (reason; the previous version keeps serving); unreadable: its "
                    "manifest cannot be read (reason)")
    reason: str | None = Field(None, description="why it is refused or unreadable")
    profile: str | None = Field(description="the training profile (smoke, default, full; null: unknown)")
    horizons: list[int] | None = Field(description="the horizons it predicts (candles ahead), in output order; its "
                                                   "metrics.validation is at the first")
    window: int | None = Field(description="candles of input per prediction")
    features: int | None = Field(description="number of input features")
    incompatible: str | None = Field(description="why the serving could not use it (a promotion is refused "
                                                 "with 409 incompatible_version); null: it could")


class VersionList(Answer):
    id: VersionedId = Field(description="model id")
    timeframe: Timeframe = Field(description="candle length")
    serving: str | None = Field(description="the version served (null: none)")
    current: str | None = Field(description="the version CURRENT names: the one served unless it was refused")
    versions: list[VersionInfo] = Field(description="every version on disk, newest first")


class VersionChange(Answer):
    model: VersionedId = Field(description="model id")
    timeframe: str = Field(description="candle length")
    before: str | None = Field(description="version served before (null: none)")
    after: str | None = Field(description="version served now (null: none)")


class Promoted(Answer):
    id: VersionedId = Field(description="model id")
    timeframe: Timeframe = Field(description="candle length")
    version: str = Field(description="the version promoted (now named by CURRENT)")
    previous: str | None = Field(description="the version CURRENT named before")
    serving: str | None = Field(description="the version this worker serves now; every worker serves it within "
                                            "MODELS_POLL_S seconds")
    status: Status = Field(description="the model's status on this timeframe now")
    load_error: str | None = Field(None, description="why the promoted version did not load, when it did not")
    changed: list[VersionChange] = Field(description="models whose served version changed on this worker")
    ensemble_job: str | None = Field(None, description="the job refitting the ensemble over the members now "
                                                       "served (its weights were fitted on the previous ones)")


class VersionDeleted(Answer):
    id: VersionedId = Field(description="model id")
    timeframe: Timeframe = Field(description="candle length")
    deleted: str = Field(description="the version removed")
    serving: str | None = Field(description="the version served (unchanged)")
