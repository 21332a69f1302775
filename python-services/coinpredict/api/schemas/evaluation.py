"""Shapes of ``GET /evaluation`` and ``/evaluation/list``: a published report, its baselines and
plots, and the list of reports."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .common import Answer, Query, Timeframe


class EvaluationQuery(Query):
    timeframe: Timeframe | None = Field(None, description="candle length of the report; with neither timeframe nor "
                                                          "horizon, 1h at horizon 1 when published, else the first "
                                                          "published")
    horizon: int | None = Field(None, ge=1, le=500, description="candles ahead; the timeframe's first published "
                                                                "horizon when omitted")


class Score(BaseModel):
    """One model's or baseline's out-of-sample figures (a report may carry more than these)."""

    model_config = ConfigDict(extra="allow")
    n: int | None = Field(None, description="rows scored")
    auc: float | None = Field(None, description="ROC AUC")
    auc_ci95: list[float | None] | None = Field(None, description="95% interval of the AUC, cluster-robust (every "
                                                "coin's forecast of one candle counts as one correlated group)")
    accuracy: float | None = Field(None, description="share of directions right at 0.5")
    log_loss: float | None = Field(None, description="log loss")
    brier: float | None = Field(None, description="Brier score")
    ece: float | None = Field(None, description="expected calibration error")
    p_value: float | None = Field(None, description="one-sided test that accuracy beats chance and the majority")
    ic: float | None = Field(None, description="correlation of probability_up with the realised return")
    skill: str | None = Field(None, description="whether it beats chance (none, weak, some...)")
    backtest: dict[str, Any] | None = Field(None, description="the served signal traded net of fees: return_net, "
                                                              "sharpe_net, max_drawdown, trades, turnover...")
    ranking: dict[str, Any] | None = Field(None, description="ordering coins at one time: rank_ic, rank_ic_t, "
                                                             "top_bottom_bps_net...")
    outperform: dict[str, Any] | None = Field(None, description="the same for probability_outperform (models "
                                                                "trained with the relative target): n, auc against "
                                                                "beating the evaluated coins' mean return, rank_ic, "
                                                                "rank_ic_t, top_bottom_bps_net, ranking")


class SymbolScore(BaseModel):
    model_config = ConfigDict(extra="allow")
    n: int | None = Field(None, description="rows scored for the symbol")
    auc: float | None = Field(None, description="ROC AUC on the symbol")
    accuracy: float | None = Field(None, description="accuracy on the symbol")
    log_loss: float | None = Field(None, description="log loss on the symbol")


class Combination(BaseModel):
    """One row of the ensemble's comparison."""

    model_config = ConfigDict(extra="allow")
    auc: float | None = Field(None, description="ROC AUC")
    auc_ci95: list[float | None] | None = Field(None, description="95% interval of the AUC, cluster-robust")
    rank_ic: float | None = Field(None, description="mean cross-sectional Spearman correlation with the return")
    model: str | None = Field(None, description="the best member's id")
    rule: str | None = Field(None, description="the ensemble's rule, chosen out of fold on validation")
    members: list[str] | None = Field(None, description="the members averaged")


class RelativeRow(Answer):
    """One model's direction and relative-target figures side by side."""

    auc_up: float | None = Field(None, description="AUC of probability_up against going up")
    auc_outperform: float | None = Field(None, description="AUC of probability_outperform against beating the "
                                                           "evaluated coins' mean return")
    rank_ic_up: float | None = Field(None, description="rank IC of probability_up against the return")
    rank_ic_outperform: float | None = Field(None, description="rank IC of probability_outperform against the return")
    top_bottom_bps_net_up: float | None = Field(None, description="top/bottom book by probability_up, net bps per "
                                                                  "period")
    top_bottom_bps_net_outperform: float | None = Field(None, description="the same book by probability_outperform")


class EnsembleComparison(Answer):
    ensemble: Combination | None = Field(None, description="the served ensemble")
    best_member: Combination = Field(description="the member with the best AUC on this period (hindsight)")
    mean_all: Combination | None = Field(None, description="equal-weight mean of every member scored")
    mean_boosters: Combination | None = Field(None, description="equal-weight mean of XGBoost, LightGBM, CatBoost")
    ensemble_minus_best_member: float | None = Field(None, description="the ensemble's AUC minus its best member's")


class PlotInfo(Answer):
    name: str = Field(description="file name, e.g. roc.png")
    title: str = Field(description="what it shows")
    url: str = Field(description="where to get it (image/png)")


class ReportSummary(Answer):
    timeframe: Timeframe = Field(description="candle length")
    horizon: int = Field(description="candles ahead")
    start: str = Field(description="first candle scored, ISO 8601 UTC")
    end: str = Field(description="end of the period (exclusive), ISO 8601 UTC")
    evaluated_at: str | None = Field(description="when the evaluation ran (null for a report from before the stamp)")


class EvaluationReport(Answer):
    timeframe: Timeframe = Field(description="candle length")
    horizon: int = Field(description="candles ahead")
    start: str = Field(description="first candle scored, ISO 8601 UTC")
    end: str = Field(description="end of the period (exclusive), ISO 8601 UTC")
    symbols: list[str] = Field(description="symbols scored")
    n_rows: int | None = Field(description="predictions scored per model")
    fee_bps: float | None = Field(description="fee per side the backtest paid")
    cost_bps: float | None = Field(description="round trip a trade had to beat")
    evaluated_at: str | None = Field(description="when the evaluation ran, ISO 8601 UTC")
    seconds: float | None = Field(description="how long it took")
    models: dict[str, Score] = Field(description="each model and the ensemble")
    baselines: dict[str, Score] = Field(description="coin_flip, always_up, majority, momentum, mean_reversion")
    per_symbol: dict[str, dict[str, SymbolScore]] = Field(description="model -> symbol -> its figures")
    audit: dict[str, Any] = Field(description="the look-ahead audit: re-predictions checked, mismatches")
    ensemble_comparison: EnsembleComparison | None = Field(None, description="the ensemble beside its best member "
                                                           "and the plain means (reports from before it: null)")
    outperform_comparison: dict[str, RelativeRow] | None = Field(
        None, description="per model with probability_outperform: its AUC, rank IC and top/bottom book beside "
                          "probability_up's (null when no model has the relative target)")
    plots: list[PlotInfo] = Field(description="the report's plots")
    available: list[ReportSummary] = Field(description="every published report")


class ReportRef(Answer):
    timeframe: Timeframe = Field(description="candle length")
    horizon: int = Field(description="candles ahead")


class EvaluationList(Answer):
    count: int = Field(ge=0, description="published reports that can be read")
    default: ReportRef | None = Field(description="the one GET /evaluation answers without a query (null: none)")
    available: list[ReportSummary] = Field(description="every published report, by timeframe and horizon")
