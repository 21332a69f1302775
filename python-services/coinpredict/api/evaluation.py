"""``GET /evaluation``, ``/evaluation/list`` and ``/evaluation/plots/<name>``: the reports that
``scripts/evaluate.py`` publishes into MODELS_DIR, their baselines and their plots, as they are on disk."""

from __future__ import annotations

import io
import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, request, send_file
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import NotFound, Unavailable
from ..serving.reports import PublishedReports, ReportUnreadable
from .schemas import Answer, Query, Timeframe
from .state import state

log = logging.getLogger(__name__)
bp = Blueprint("evaluation", __name__)
_KEY = "coinpredict.reports"
HOW = ("run scripts/evaluate.py --data-dir DIR --timeframe {tf} --horizon {h} --start ... --end ... --out DIR "
       "(it publishes its report into MODELS_DIR for this service)")


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


class SymbolScore(BaseModel):
    model_config = ConfigDict(extra="allow")
    n: int | None = Field(None, description="rows scored for the symbol")
    auc: float | None = Field(None, description="ROC AUC on the symbol")
    accuracy: float | None = Field(None, description="accuracy on the symbol")
    log_loss: float | None = Field(None, description="log loss on the symbol")


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
    plots: list[PlotInfo] = Field(description="the report's plots")
    available: list[ReportSummary] = Field(description="every published report")


class ReportRef(Answer):
    timeframe: Timeframe = Field(description="candle length")
    horizon: int = Field(description="candles ahead")


class EvaluationList(Answer):
    count: int = Field(ge=0, description="published reports that can be read")
    default: ReportRef | None = Field(description="the one GET /evaluation answers without a query (null: none)")
    available: list[ReportSummary] = Field(description="every published report, by timeframe and horizon")


FIELDS = ("timeframe", "horizon", "start", "end", "symbols", "n_rows", "fee_bps", "cost_bps", "evaluated_at",
          "seconds", "models", "baselines", "per_symbol", "audit")


def reports() -> PublishedReports:
    """This app's reader of MODELS_DIR's reports (its small cache lives with the app)."""
    found = current_app.extensions.get(_KEY)
    if found is None:
        found = current_app.extensions[_KEY] = PublishedReports(state().settings.models_dir)
    return found


def _choice(query: EvaluationQuery) -> tuple[str | None, int | None]:
    if query.timeframe is None and query.horizon is None:
        return reports().default() or (None, None)
    tf = query.timeframe or "1h"
    if query.horizon is not None:
        return tf, query.horizon
    return tf, next((h for t, h in reports().published() if t == tf), None)


def _not_evaluated(tf: str | None, h: int | None) -> NotFound:
    if tf is None:
        what = "no evaluation has been published yet"
    else:
        what = f"no evaluation published for {tf}" + (f" at horizon {h}" if h else "")
    return NotFound(f"{what}: {HOW.format(tf=tf or '1h', h=h or 1)}", code="not_evaluated",
                    details={"available": reports().summaries()})


def _unreadable(message: str) -> Unavailable:
    return Unavailable(f"{message}; run scripts/evaluate.py again to publish it anew", code="evaluation_unreadable")


def _report(tf: str | None, h: int | None) -> dict:
    if tf is None or h is None:
        raise _not_evaluated(tf, h)
    try:
        body = reports().report(tf, h)
    except ReportUnreadable as exc:
        raise _unreadable(str(exc)) from None
    if body is None:
        raise _not_evaluated(tf, h)
    return body


@bp.get("/evaluation")
def evaluation():
    tf, h = _choice(EvaluationQuery.model_validate(request.args.to_dict()))
    body = _report(tf, h)
    answer = {k: body.get(k) for k in FIELDS}
    answer.update(baselines=body.get("baselines") or {}, per_symbol=body.get("per_symbol") or {},
                  audit=body.get("audit") or {}, available=reports().summaries(),
                  plots=[{**p, "url": f"/evaluation/plots/{p['name']}?{urlencode({'timeframe': tf, 'horizon': h})}"}
                         for p in body.get("plots", [])])
    try:
        EvaluationReport.model_validate(answer)
    except ValidationError as exc:  # written by another version, or edited by hand
        first = exc.errors()[0]
        log.warning("published %s h%s report refused: %s", tf, h, exc)
        raise _unreadable(f"the {tf} horizon {h} report's metrics.json is not a report this service can read "
                          f"({'.'.join(map(str, first['loc']))}: {first['msg']})") from None
    return answer


@bp.get("/evaluation/list")
def evaluation_list():
    available = reports().summaries()
    default = reports().default()
    return {"count": len(available), "available": available,
            "default": {"timeframe": default[0], "horizon": default[1]} if default else None}


@bp.get("/evaluation/plots/<name>")
def plot(name: str):
    tf, h = _choice(EvaluationQuery.model_validate(request.args.to_dict()))
    _report(tf, h)  # 404 when none is published, 503 when it cannot be read
    try:
        found = reports().plot(tf, h, name)
    except ReportUnreadable as exc:
        raise _unreadable(str(exc)) from None
    if found is None:
        raise NotFound(f"no such plot in the {tf} horizon {h} evaluation (GET /evaluation lists its plots)",
                       code="unknown_plot")
    resp = send_file(io.BytesIO(found.data), mimetype="image/png", etag=found.etag, last_modified=found.modified,
                     conditional=True)
    resp.headers["Cache-Control"] = "no-cache"  # the same URL shows the next report once it is published
    return resp
