"""``/openapi.json``, built from the pydantic classes that validate the requests and check the answers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel

from .. import __version__
from ..strategy.config import StrategyConfig
from .schemas import (
    candles,
    common,
    evaluation,
    health,
    history,
    jobs,
    models,
    predictions,
    strategies,
    symbols,
    versions,
)

ERRORS = {
    400: "the request is malformed (bad JSON, nesting deeper than 64, wrong types, out-of-range values, invalid "
         "or too few candles, a batch over its limit), or names a body field or query parameter the operation "
         "does not declare (code unknown_field, whose field names it)",
    401: "X-API-Key missing or wrong (the service runs with API_KEY)",
    403: "management is disabled (code management_disabled: the service runs without API_KEY), or a "
         "cross-origin request from an origin CORS_ORIGINS does not name",
    404: "unknown model id, unknown symbol, no market data for it, or a timeframe, model or horizon that is not "
         "trained (code not_trained, whose trained field lists what is); an unknown version (unknown_version); no "
         "evaluation published for the timeframe and horizon asked (not_evaluated), or no such plot in it "
         "(unknown_plot); an unknown strategy (unknown_strategy)",
    408: "the request did not arrive whole within HTTP_READ_TIMEOUT seconds; refused before the application "
         "reads it",
    409: "the version is being served (version_serving: promote another first), or it does not load "
         "(version_unusable), or the serving cannot use it (incompatible_version: it lacks a horizon the timeframe "
         "serves); the job has already ended (job_finished); the strategy is deleted (strategy_deleted: create a new "
         "one), or its book kept changing while resuming it (strategy_busy: try again)",
    413: "the body is larger than the service accepts (2 MiB)",
    414: "the request line (path and query) is too long; refused before the application reads it",
    415: "the body is not sent as Content-Type: application/json (UTF-8)",
    429: "too many jobs queued or running (too_many_jobs); Retry-After says when to try again",
    431: "a header, or all of them, too large; refused before the application reads the request",
    503: "the model or the data it needs is not available right now; Retry-After says when to try again; a "
         "published evaluation that cannot be read (evaluation_unreadable: run scripts/evaluate.py again)",
}
# Any request can name an unknown query parameter, arrive too slowly, or with too long a line or header.
ALWAYS = (400, 408, 414, 431)
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again",
                               "schema": {"type": "integer", "minimum": 1}}}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    answer: type[BaseModel] | None
    errors: tuple[int, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    media: str = "application/json"
    management: bool = False  # needs X-API-Key
    success: str = "200"


ROUTES = [
    Route("get", "/health", "Liveness, model counts and data-source warnings", health.Health),
    Route("get", "/models/list", "The single models with status, timeframes and skill, and the ensemble",
          models.ModelList),
    Route("get", "/models/{id}/status", "One model: training, validation and test metrics, serving figures",
          models.ModelStatus, (400, 404), query=models.StatusQuery),
    Route("get", "/models/{id}/live", "Live skill on the served forecasts: calibration and AUC over time, beside "
          "the test", models.LiveSkill, (400, 404), query=models.LiveQuery),
    Route("post", "/models/reload", "Reload the current model versions from MODELS_DIR on every worker "
          "(management)", models.Reloaded, (401, 403), management=True),
    Route("get", "/models/{id}/versions", "The versions of a model on a timeframe, newest first, and the one served",
          versions.VersionList, (400, 404), query=versions.VersionsQuery),
    Route("post", "/models/{id}/promote", "Serve a version (a rollback is a promotion of an older one; management)",
          versions.Promoted, (400, 401, 403, 404, 409, 413, 415), versions.PromoteRequest,
          management=True),
    Route("delete", "/models/{id}/versions/{version}", "Delete a version that is not served (management)",
          versions.VersionDeleted, (400, 401, 403, 404, 409), query=versions.VersionsQuery,
          management=True),
    Route("post", "/jobs", "Start a training job: the pipeline of scripts/train.py, run by the worker (management)",
          jobs.Job, (400, 401, 403, 413, 415, 429), jobs.JobRequest, management=True, success="202"),
    Route("get", "/jobs", "Jobs, newest first, with progress, stage, result and log tail", jobs.JobList,
          (400,), query=jobs.JobQuery),
    Route("get", "/jobs/{job_id}", "One job", jobs.Job, (404,)),
    Route("delete", "/jobs/{job_id}", "Cancel a queued or running job (management)", jobs.Job,
          (401, 403, 404, 409), management=True),
    Route("post", "/strategies", "Create a strategy trading the served forecasts on paper (management); it runs "
          "at once", strategies.Strategy, (400, 401, 403, 413, 415), StrategyConfig, management=True, success="201"),
    Route("get", "/strategies", "Every strategy with its equity, return, drawdown and status, newest first",
          strategies.StrategyList, (400,), query=strategies.StrategyListQuery),
    Route("get", "/strategies/{strategy_id}", "One strategy: its config, status, book (equity, cash, positions), "
          "figures and each limit's state", strategies.Strategy, (404,)),
    Route("put", "/strategies/{strategy_id}", "Change a strategy: the body is its next version, the book carries on "
          "(management)", strategies.Strategy, (400, 401, 403, 404, 409, 413, 415), StrategyConfig,
          management=True),
    Route("delete", "/strategies/{strategy_id}", "Stop a strategy for good; its history stays readable (management)",
          strategies.Strategy, (401, 403, 404), management=True),
    Route("post", "/strategies/{strategy_id}/pause", "Pause a strategy: it trades nothing until resumed (management)",
          strategies.Strategy, (401, 403, 404, 409), management=True),
    Route("post", "/strategies/{strategy_id}/resume", "Resume a paused strategy, or one its drawdown limit halted "
          "(management)", strategies.Strategy, (401, 403, 404, 409), management=True),
    Route("get", "/strategies/{strategy_id}/versions", "Every version of a strategy's config, oldest first",
          strategies.StrategyVersions, (404,)),
    Route("get", "/strategies/{strategy_id}/trades", "A strategy's fills, newest first", strategies.StrategyTrades,
          (400, 404), query=strategies.TradesQuery),
    Route("get", "/strategies/{strategy_id}/equity", "A strategy's equity per close, oldest first",
          strategies.StrategyEquity, (400, 404), query=strategies.EquityQuery),
    Route("get", "/strategies/{strategy_id}/events", "A strategy's limit events (locks, halts, cuts, refusals, "
          "cooldowns, resumes), newest first", strategies.StrategyEvents, (400, 404), query=strategies.EventsQuery),
    Route("get", "/predictions/history", "Served predictions and, once known, their outcomes, newest first",
          history.History, (400,), query=history.HistoryQuery),
    Route("post", "/predict/single", "One prediction", predictions.Prediction, (400, 404, 413, 415, 503),
          predictions.SingleRequest),
    Route("post", "/predict/batch", "Up to 500 predictions; one bad item fails only its own result",
          predictions.BatchResponse, (400, 413, 415), predictions.BatchRequest),
    Route("get", "/predict/top100", "The top coins of the universe ranked by probability_up (or, "
          "rank_by=outperform, by probability_outperform)", predictions.TopResponse,
          (400, 404, 503), query=predictions.TopQuery),
    Route("get", "/symbols", "The symbols with candles on a timeframe, their range and freshness, and what is trained",
          symbols.SymbolsResponse, (400,), query=symbols.SymbolsQuery),
    Route("get", "/candles", "A market's newest closed candles, oldest first (what the service holds; for charts)",
          candles.CandlesAnswer, (400, 404, 503), query=candles.CandlesQuery),
    Route("get", "/evaluation", "The latest published evaluation of a timeframe and horizon: every model's and "
          "baseline's out-of-sample figures, per symbol, the audit, its plots", evaluation.EvaluationReport,
          (400, 404, 503), query=evaluation.EvaluationQuery),
    Route("get", "/evaluation/list", "Every published evaluation, by timeframe and horizon", evaluation.EvaluationList),
    Route("get", "/evaluation/plots/{name}", "One plot of a published evaluation (PNG)", None, (400, 404, 503),
          query=evaluation.EvaluationQuery, media="image/png"),
    Route("get", "/openapi.json", "This document", None),
    Route("get", "/metrics", "Prometheus metrics of every worker", None, media="text/plain"),
    Route("get", "/docs", "A readable list of the endpoints", None, media="text/html"),
]
DESCRIPTION = ("Predicts whether a coin's close `horizon` candles ahead will be above the last close. Every error, "
               "whatever its status (including 405 for a method a path does not have, and errors raised before the "
               "application sees the request), is `{\"error\": {\"code\", \"message\", \"field\"?}}`. No 5xx other "
               "than 503 is ever intended. Prediction endpoints answer any origin (CORS_ORIGINS, default `*`); "
               "management endpoints answer cross-origin requests only from origins CORS_ORIGINS names.")


def _item_refs(node):
    """A list validated item by item (``x-items``) is documented with its item schema."""
    if isinstance(node, dict):
        if "x-items" in node:
            node["items"] = {"$ref": f"#/components/schemas/{node.pop('x-items')}"}
        for value in node.values():
            _item_refs(value)
    elif isinstance(node, list):
        for value in node:
            _item_refs(value)
    return node


class _Components:
    def __init__(self):
        self.schemas: dict = {}

    def ref(self, model: type[BaseModel]) -> dict:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        self.schemas.update(schema.pop("$defs", {}))
        self.schemas[model.__name__] = _item_refs(schema)
        return {"$ref": f"#/components/schemas/{model.__name__}"}


PATH_PARAMETERS = {
    "id": ("model id or 'ensemble' (case-insensitive); status and versions also take 'move' (the move-size model)",
           {"type": "string", "minLength": 1, "maxLength": 64}),
    "version": (versions.VERSION_FIELD, {"type": "string", "minLength": 1, "maxLength": 80}),
    "job_id": ("job id (from POST /jobs or GET /jobs)", {"type": "string", "minLength": 1, "maxLength": 64}),
    "strategy_id": ("strategy id (from POST /strategies or GET /strategies)",
                    {"type": "string", "minLength": 1, "maxLength": 64}),
    "name": ("a plot's file name as GET /evaluation lists it (roc.png)", {"type": "string", "minLength": 1,
                                                                          "maxLength": 64}),
}


def _parameters(route: Route) -> list[dict]:
    params = [{"name": name, "in": "path", "required": True, "description": PATH_PARAMETERS[name][0],
               "schema": PATH_PARAMETERS[name][1]} for name in PATH_PARAMETERS if f"{{{name}}}" in route.path]
    if route.query is not None:
        props = route.query.model_json_schema()["properties"]
        params += [{"name": k, "in": "query", "required": False, "description": v.get("description", ""),
                    "schema": {key: val for key, val in v.items() if key not in ("title", "description")}}
                   for k, v in props.items()]
    return params


def _operation(route: Route, parts: _Components, error: dict) -> dict:
    if route.answer is not None:
        content = {"application/json": {"schema": parts.ref(route.answer)}}
    elif route.media == "application/json":
        content = {"application/json": {"schema": {"type": "object"}}}
    else:
        content = {route.media: {"schema": {"type": "string"}}}
    responses: dict = {route.success: {"description": "success", "content": content}}
    for status in (*route.errors, *ALWAYS):
        responses[str(status)] = {"description": ERRORS[status], **error}
        if status in (429, 503):
            responses[str(status)]["headers"] = RETRY_AFTER
    op: dict = {"summary": route.summary, "operationId": f"{route.method}_{route.path.strip('/')}".replace(
        "/", "_").replace("{", "").replace("}", "").replace(".", "_"), "responses": responses}
    if route.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": parts.ref(route.body)}}}
    if params := _parameters(route):
        op["parameters"] = params
    if route.management:
        op["security"] = [{"apiKey": []}]
    return op


@cache
def openapi_document() -> dict:
    parts = _Components()
    error = {"content": {"application/json": {"schema": parts.ref(common.ErrorBody)}}}
    parts.ref(predictions.PredictItem)  # batch items refer to it
    paths: dict = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method] = _operation(route, parts, error)
    return {"openapi": "3.1.0",
            "info": {"title": "Crypto direction prediction service", "version": __version__,
                     "description": DESCRIPTION},
            "paths": paths,
            "components": {"schemas": parts.schemas, "securitySchemes": {"apiKey": {
                "type": "apiKey", "in": "header", "name": "X-API-Key",
                "description": "needed on management endpoints when the service runs with API_KEY"}}}}
