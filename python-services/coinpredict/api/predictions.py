"""Prediction endpoints: validate with the schemas, call ``serving``, check the answer, return it."""

from __future__ import annotations

import time

from flask import Blueprint, request
from pydantic import ValidationError

from ..common.times import to_ms
from ..data.client_candles import OBJECT_KEYS, InvalidCandles, parse_candles
from ..data.symbols import normalise_symbol
from ..errors import BadRequest, ServiceError
from ..ledger import rows_of
from ..models.registry import ENSEMBLE_ID
from ..serving import PredictRequest
from ..serving.explain import explain
from .answers import checked, redact, redact_error, redact_prediction
from .body import json_body, json_object
from .errors import validation_error
from .observability import observe_predictions
from .schemas.predictions import (
    BatchRequest,
    BatchResponse,
    Prediction,
    PredictItem,
    SingleRequest,
    TopQuery,
    TopResponse,
)
from .state import state
from .strict import check_fields, unknown_field

bp = Blueprint("predictions", __name__, url_prefix="/predict")


def _known_candle_keys(rows: list) -> None:
    """A candle object holds the short or the long names only: a misspelt column is refused, not missing."""
    for i, row in enumerate(rows):
        unknown = [key for key in row if key not in OBJECT_KEYS] if isinstance(row, dict) else []
        if unknown:
            raise unknown_field(unknown[0], OBJECT_KEYS, f"candles.{i}")


def to_request(item: PredictItem) -> PredictRequest:
    try:
        symbol = normalise_symbol(item.symbol)
    except ValueError as exc:
        raise BadRequest(str(exc), field="symbol", code="invalid_symbol") from exc
    if item.method is not None and item.model != ENSEMBLE_ID:
        raise BadRequest(f"method chooses how the ensemble combines its members; model {item.model!r} is a single "
                         f"model: leave method out", field="method", code="invalid_value")
    rows = item.candles
    limit = state().settings.max_candles
    if rows is not None and len(rows) > limit:
        raise BadRequest(f"at most {limit} candles per request", field="candles", code="too_many_candles")
    if rows is not None:
        _known_candle_keys(rows)
    try:
        candles = parse_candles(rows, symbol, item.timeframe) if rows is not None else None
    except InvalidCandles as exc:
        raise BadRequest(str(exc), field="candles", code="invalid_candles") from exc
    return PredictRequest(symbol, item.timeframe, item.model, item.horizon, candles, item.method, to_ms(item.as_of))


def record(answers: list) -> None:
    """Put the answered predictions (and an ensemble's members) on the ledger's queue: no database
    write happens on the request path. Callers leave out answers as of a past close: the ledger holds
    live forecasts only, and such an answer is not one the service made then."""
    rows = []
    for answer in answers:
        if isinstance(answer, dict):  # members under the versions that answered, not those served by now
            rows += rows_of(answer, answer.get("member_versions"))
    state().recorder.record(rows)


@bp.post("/single")
def single():
    body = json_body(SingleRequest)
    req = to_request(body)
    try:
        answer = state().predictor.predict_one(req)
        if body.explain:
            answer["explanation"] = explain(state().predictor, req, answer)
    except ServiceError as exc:
        observe_predictions([req], [exc])
        raise
    observe_predictions([req], [answer])
    if req.as_of_ms is None:
        record([answer])
    return checked(Prediction, redact_prediction(answer))


@bp.post("/batch")
def batch():
    started = time.perf_counter()
    body = json_object()
    check_fields(BatchRequest, body)
    items = body.get("items")
    limit = state().settings.max_batch_items
    if not isinstance(items, list):
        raise BadRequest("items must be a list of prediction items", field="items", code="invalid_value")
    if len(items) > limit:
        raise BadRequest(f"a batch holds at most {limit} items; got {len(items)}", field="items",
                         code="batch_too_large")
    results: list = [None] * len(items)
    pending: list[tuple[int, PredictRequest]] = []
    for i, raw in enumerate(items):
        try:
            if not isinstance(raw, dict):
                raise BadRequest("each item must be an object with a symbol", field=f"items.{i}", code="invalid_value")
            check_fields(PredictItem, raw)  # relative to its item, as every item error
            pending.append((i, to_request(PredictItem.model_validate(raw))))
        except ValidationError as exc:
            results[i] = validation_error(exc)
        except ServiceError as exc:
            results[i] = exc
    reqs = [r for _, r in pending]
    answers = state().predictor.predict_many(reqs)
    observe_predictions(reqs, answers)
    record([answer for req, answer in zip(reqs, answers) if req.as_of_ms is None])
    for (i, _), answer in zip(pending, answers):
        results[i] = answer
    out = []
    for raw, res in zip(items, results):
        if isinstance(res, ServiceError):
            symbol = raw.get("symbol") if isinstance(raw, dict) else None
            out.append({"symbol": symbol if isinstance(symbol, str) else None, **redact_error(res),
                        "status": res.status})
        else:
            out.append(redact_prediction(res))
    return checked(BatchResponse, {"count": len(out), "results": out,
                                   "latency_ms": round((time.perf_counter() - started) * 1000, 2)})


@bp.get("/top100")
def top100():
    query = TopQuery.model_validate(request.args.to_dict())
    answer = state().predictor.top(query.timeframe, query.model, query.limit, query.horizon, to_ms(query.as_of),
                                   query.rank_by)
    observe_predictions(None, answer["results"])
    if query.as_of is None:
        record(answer["results"])
    for result in answer["results"]:
        redact_prediction(result)
    for skipped in answer["skipped"]:
        skipped["reason"] = redact(skipped["reason"])
    return checked(TopResponse, answer)
