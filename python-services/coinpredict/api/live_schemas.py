"""Request and answer shapes of a model's status on a chosen timeframe and of its live skill."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .schemas import Answer, ModelId, Query, Timeframe

INTERVAL = ("95% interval [low, high], cluster-robust: every coin's forecast of one candle (and the candles a "
            "multi-candle label spans) counts as one correlated cluster; null with too few forecasts")


class StatusQuery(Query):
    timeframe: Timeframe | None = Field(None, description="the timeframe to describe (default: 1h when it is "
                                                          "ready there, else the first ready one)")


class LiveQuery(Query):
    timeframe: Timeframe | None = Field(None, description="candle length (default: as for the status)")
    horizon: int | None = Field(None, ge=1, le=500, description="candles ahead (default: the first it predicts)")
    days: float = Field(30, gt=0, le=365, description="window of forecast times, ending now")
    bucket: Literal["day", "week"] | None = Field(None, description="length of each point over time (default: "
                                                                      "day up to 1h candles, else week)")


class LiveSummary(Answer):
    window_days: float = Field(description="the window, in days")
    timeframe: str = Field(description="candle length")
    horizon: int = Field(description="candles ahead")
    n_scored: int = Field(description="served forecasts whose outcome is known, once per version, coin and candle")
    since: str = Field(description="start of the window (forecast time)")
    auc: float | None = Field(description="ROC AUC of the served probabilities")
    auc_ci95: list[float] | None = Field(description=INTERVAL)
    accuracy: float | None = Field(description="share of directions right (probability above 0.5 = up)")
    log_loss: float | None = Field(description="mean log loss")
    calibration_error: float | None = Field(description="expected calibration error over deciles")
    p_value: float | None = Field(description="one-sided test of AUC above 0.5, clustered by candle")
    drift: Literal["ok", "warning", "alarm", "insufficient_data"] = Field(
        description="live skill against the test figures; insufficient_data while too few forecasts are scored "
                    "for either test (none yet, or fewer than they need): nothing is claimed ok")
    drift_reason: str | None = Field(description="why drift is not ok (for insufficient_data: how many are "
                                                 "scored and how many each test needs)")


class CalibrationBin(Answer):
    p_mean: float = Field(description="mean served probability of the decile")
    observed: float = Field(description="share of its forecasts whose price went up")
    n: int = Field(description="forecasts in the decile")


class LivePoint(Answer):
    start: str = Field(description="start of the bucket (forecast time)")
    n: int = Field(description="scored forecasts in the bucket")
    auc: float | None = Field(description="AUC within the bucket (null when one outcome is absent)")
    auc_ci95: list[float] | None = Field(description=INTERVAL)
    accuracy: float = Field(description="share of directions right")
    log_loss: float = Field(description="mean log loss")


class LiveSkill(Answer):
    """``GET /models/<id>/live``: skill on the forecasts served, beside the out-of-sample test."""

    id: ModelId = Field(description="model id")
    timeframe: str = Field(description="candle length")
    horizon: int = Field(description="candles ahead")
    model_version: str | None = Field(description="the version served now (the window may hold older ones)")
    summary: LiveSummary = Field(description="over the whole window, as in the status's live field")
    test: dict[str, Any] | None = Field(description="the latest evaluation's test metrics at horizon 1 (auc, "
                                                    "auc_ci95, accuracy, log_loss, ece...); null when not "
                                                    "evaluated or at another horizon")
    test_period: dict[str, Any] | None = Field(description="the evaluated period and symbols")
    validation: dict[str, Any] | None = Field(description="the served version's validation metrics at this horizon")
    calibration: list[CalibrationBin] = Field(description="deciles of the served probability, lowest first")
    bucket: Literal["day", "week"] = Field(description="length of each point over time")
    over_time: list[LivePoint] = Field(description="skill per bucket, oldest first")
