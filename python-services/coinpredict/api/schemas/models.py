"""Shapes of the model endpoints: the list, one model's status (on a chosen timeframe), its live
skill, and the reload."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .common import Answer, Method, ModelId, Query, Status, Timeframe, VersionedId
from .versions import VersionChange


class ModelCounts(Answer):
    ready: int = Field(description="models that can answer on at least one timeframe")
    failed: int = Field(description="models whose artifacts did not load")
    not_trained: int = Field(description="models with no trained version")


class ModelSummary(Answer):
    id: ModelId = Field(description="model id")
    family: str = Field(description="lstm, gru, transformer, cnn, boosting or ensemble")
    params: dict[str, Any] = Field(description="architecture parameters")
    status: Status = Field(description="ready on at least one timeframe, failed to load, or not trained")
    timeframes: list[str] = Field(description="timeframes where the model is ready")
    model_version: str | None = Field(description="version shown (1h when ready there)")
    skill: str | None = Field(description="whether it beats chance: from the test evaluation, else validation")
    reason: str | None = Field(description="why it is not ready")


class EnsembleSummary(Answer):
    id: Literal["ensemble"] = Field(description="the ensemble's id")
    timeframes: list[str] = Field(description="timeframes with a trained ensemble")
    methods: list[Method] = Field(description="combination methods a request may choose")
    status: Literal["ready", "not_trained"] = Field(description="ready on at least one timeframe, or not trained")


class MoveSummary(Answer):
    id: Literal["move"] = Field(description="the move-size model's id")
    kind: Literal["move_size"] = Field(description="what it forecasts: the size of the move, not its direction")
    timeframes: list[str] = Field(description="timeframes where it is ready (the others answer by the rule)")
    model_version: str | None = Field(description="version shown (1h when ready there)")
    status: Literal["ready", "failed", "not_trained"] = Field(description="ready on at least one timeframe, "
                                                                          "failed to load, or not trained")


class ModelList(Answer):
    count: int = Field(description="number of single models")
    models: list[ModelSummary] = Field(description="every single model, in registry order")
    ensemble: EnsembleSummary = Field(description="the ensemble over them")
    move: MoveSummary = Field(description="the move-size model behind each answer's move (not a direction "
                                          "model, not in the ensemble)")


class Serving(Answer):
    """Summed over every worker (whichever one answers), over every timeframe, since the service started."""

    requests: int = Field(description="predictions asked of this model")
    errors: int = Field(description="of which the service failed to answer (the model failed, or a model or "
                                    "data source was not available: 5xx); client mistakes are not errors")
    refused: int = Field(description="of which were refused for what they asked (an unknown symbol, an "
                                     "untrained timeframe or horizon: 4xx) or asked before they could be "
                                     "answered (no model trained yet, too little history)")
    p50_ms: float | None = Field(description="median answer time, estimated from the latency histogram of "
                                             "/metrics (linear within its bucket, as histogram_quantile)")
    p95_ms: float | None = Field(description="95th percentile answer time, estimated the same way")


class ModelMetrics(Answer):
    validation: dict[str, Any] = Field(description="metrics on the validation period (auc, accuracy, log_loss...)")
    test: dict[str, Any] = Field(description="out-of-sample metrics from the latest evaluation, when run")
    test_period: dict[str, Any] | None = Field(None, description="the evaluated period and symbols")
    validation_by_horizon: dict[str, dict[str, Any]] | None = Field(
        None, description="validation metrics of each horizon it predicts (keys: candles ahead)")


class FeatureImportance(Answer):
    name: str = Field(description="feature (a booster's lagged inputs are named ..._lag<k>)")
    mean_abs_contribution: float = Field(ge=0, description="mean |contribution| to the log-odds on validation rows")


class Importance(Answer):
    """A model's global importance, computed when its version was trained."""

    method: Literal["tree_shap", "gradient_x_input"] = Field(description="how the contributions were taken (to the "
                                                                         "log-odds; the move model's: to the log "
                                                                         "range it forecasts)")
    rows: int = Field(ge=0, description="validation rows averaged over (a sample)")
    by_horizon: dict[str, list[FeatureImportance]] = Field(description="per horizon, the 20 features of largest "
                                                                       "mean |contribution|, largest first")


class MoveFacts(Answer):
    """What the move-size model forecasts, on its status page."""

    kind: Literal["move_size"] = Field(description="the size of the move, not its direction")
    target: str = Field(description="what each horizon's regression predicts")
    quantiles: list[str] = Field(description="the return quantiles each answer's move carries")
    calibration: str = Field(description="where the quantiles' shape comes from")


class ModelStatus(Answer):
    """One model (the ensemble, or the move-size model): training, validation and test metrics, serving
    figures."""

    id: VersionedId = Field(description="model id (lower-case)")
    status: Status = Field(description="ready on at least one timeframe, failed to load, or not trained")
    family: str = Field(description="lstm, gru, transformer, cnn, boosting, ensemble or move")
    params: dict[str, Any] = Field(description="architecture parameters it was trained with")
    timeframes: list[str] = Field(description="timeframes where it is ready")
    timeframe: str | None = Field(description="the timeframe this status describes")
    model_version: str | None = Field(description="the version served")
    trained_at: str | None = Field(description="ISO 8601 UTC")
    training: dict[str, Any] = Field(description="data range, symbols, epochs and other training facts")
    skill: str | None = Field(description="whether it beats chance")
    metrics: ModelMetrics = Field(description="validation and out-of-sample test metrics")
    serving: Serving = Field(description="serving figures of every worker")
    live: dict[str, Any] | None = Field(None, description="skill on the forecasts it served whose outcome is known "
                                                          "(window_days, n_scored, auc, accuracy, log_loss, "
                                                          "calibration_error, since, drift: ok | warning | alarm | "
                                                          "insufficient_data, drift_reason)")
    reason: str | None = Field(None, description="why it is not ready")
    load_error: str | None = Field(None, description="a newer version CURRENT names that did not load, and why; "
                                                     "the version served is the previous good one")
    feature_hash: str | None = Field(None, description="hash of the feature list it was trained on")
    n_features: int | None = Field(None, description="features per candle")
    window: int | None = Field(None, description="candles per input window")
    horizon: int | None = Field(None, description="candles ahead it predicts by default (the first of horizons)")
    horizons: list[int] | None = Field(None, description="every horizon it predicts, one output each")
    n_parameters: int | None = Field(None, description="trainable parameters")
    ensemble: dict[str, Any] | None = Field(None, description="ensemble: members, weights and method")
    move: MoveFacts | None = Field(None, description="the move-size model only: what it forecasts; its metrics "
                                                     "are of the log range and the quantiles' coverage")
    importance: Importance | None = Field(None, description="global importance on validation rows; absent for "
                                                            "versions trained before it was kept")


class Reloaded(Answer):
    reloaded: bool = Field(description="true once the current versions are loaded; false when the reload found "
                                       "nothing loadable and kept serving what it had (reason says why)")
    models: ModelCounts = Field(description="single models by status after the reload")
    changed: list[VersionChange] = Field([], description="models whose served version changed on this worker")
    refused: list[str] = Field([], description="new versions that did not load; their models keep serving the "
                                               "previous version")
    reason: str | None = Field(None, description="why nothing changed")
    announced: bool | None = Field(None, description="whether every other worker and replica sharing MODELS_DIR "
                                                     "was told to reload (they do within MODELS_POLL_S seconds)")


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


class LiveRelative(Answer):
    n_scored: int = Field(description="served forecasts with a probability_outperform whose relative outcome is known")
    auc: float | None = Field(description="ROC AUC of probability_outperform against beating the market's mean")
    auc_ci95: list[float] | None = Field(description=INTERVAL)
    accuracy: float = Field(description="share right (probability_outperform above 0.5 = beat the market)")
    log_loss: float = Field(description="mean log loss")


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
    outperform: LiveRelative | None = Field(None, description="the same figures for probability_outperform "
                                                              "(the relative target); null without any scored")


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
