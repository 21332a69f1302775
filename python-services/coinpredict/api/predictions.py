"""Prediction endpoints: validate with the schemas, call ``serving``, return a dict."""

from __future__ import annotations

import json
import time

from flask import Blueprint, request
from pydantic import ValidationError

from ..data.client_candles import InvalidCandles, parse_candles
from ..data.symbols import normalise_symbol
from ..errors import BadRequest, ServiceError
from ..serving import PredictRequest
from .errors import validation_error
from .schemas import PredictItem, SingleRequest, TopQuery
from .state import state

bp = Blueprint("predictions", __name__, url_prefix="/predict")


def json_body() -> dict:
    raw = request.get_data(cache=True)  # reading enforces MAX_CONTENT_LENGTH (413)
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON: {exc}", code="malformed_json") from exc
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object", code="malformed_json")
    return body


def to_request(item: PredictItem) -> PredictRequest:
    try:
        symbol = normalise_symbol(item.symbol)
    except ValueError as exc:
        raise BadRequest(str(exc), field="symbol", code="invalid_symbol") from exc
    rows = getattr(item, "candles", None)
    if rows is not None and len(rows) > state().settings.max_candles:
        raise BadRequest(f"at most {state().settings.max_candles} candles per request", field="candles",
                         code="too_many_candles")
    try:
        candles = parse_candles(rows, symbol, item.timeframe) if rows is not None else None
    except InvalidCandles as exc:
        raise BadRequest(str(exc), field="candles", code="invalid_candles") from exc
    return PredictRequest(symbol, item.timeframe, item.model, item.horizon, candles, item.method)


@bp.post("/single")
def single():
    req = to_request(SingleRequest.model_validate(json_body()))
    return state().predictor.predict_one(req)


@bp.post("/batch")
def batch():
    started = time.perf_counter()
    body = json_body()
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
            pending.append((i, to_request(PredictItem.model_validate(raw))))
        except ValidationError as exc:
            results[i] = validation_error(exc)
        except ServiceError as exc:
            results[i] = exc
    answers = state().predictor.predict_many([r for _, r in pending])
    for (i, _), answer in zip(pending, answers):
        results[i] = answer
    out = []
    for raw, res in zip(items, results):
        if isinstance(res, ServiceError):
            symbol = raw.get("symbol") if isinstance(raw, dict) else None
            out.append({"symbol": symbol, **res.to_dict(), "status": res.status})
        else:
            out.append(res)
    return {"count": len(out), "results": out, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


@bp.get("/top100")
def top100():
    query = TopQuery.model_validate(request.args.to_dict())
    return state().predictor.top(query.timeframe, query.model, query.limit)
