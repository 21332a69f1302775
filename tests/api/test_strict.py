"""Nothing a client sends is silently ignored: unknown body fields and query parameters are a 400
``unknown_field`` naming them; timeframes are case-insensitive where unambiguous; ``unknown_model``
lists the valid ids; the OpenAPI document says all of it."""

from __future__ import annotations

import re

import pytest

from coinpredict.api.openapi import ROUTES, openapi_document
from coinpredict.models.registry import ENSEMBLE_ID, MODEL_IDS
from coinpredict.serving.answers import data_part
from tests.api.test_endpoints import assert_error
from tests.conftest import SYNTHETIC_END_MS


@pytest.mark.parametrize("body, field, hint", [
    ({"symbol": "BTC", "timeframes": "4h"}, "timeframes", "timeframe"),
    ({"symbol": "BTC", "modle": "lightgbm"}, "modle", "model"),
    ({"symbol": "BTC", "horizon": 1, "Horizon": 4}, "Horizon", "horizon"),
])
def test_a_misspelt_body_field_is_refused_by_name(client, body, field, hint):
    err = assert_error(client.post("/predict/single", json=body), 400, "unknown_field")
    assert err["field"] == field and repr(field) in err["message"] and f"did you mean {hint!r}" in err["message"]


def test_batch_refuses_unknown_fields_at_the_top_and_in_each_item(client, synthetic_now):
    err = assert_error(client.post("/predict/batch", json={"items": [{"symbol": "BTC"}], "item": []}), 400,
                       "unknown_field")
    assert err["field"] == "item"
    body = client.post("/predict/batch", json={"items": [{"symbol": "BTC"}, {"symbol": "ETH", "timeframes": "4h"}]})
    first, second = body.get_json()["results"]
    assert first["symbol"] == "BTCUSDT" and "probability_up" in first
    assert second["error"]["code"] == "unknown_field" and second["error"]["field"] == "timeframes"
    assert second["status"] == 400


def test_a_candle_object_with_an_unknown_column_is_refused(client):
    candle = {"t": SYNTHETIC_END_MS, "o": 1, "h": 2, "l": 1, "c": 2, "v": 5}
    err = assert_error(client.post("/predict/single", json={"symbol": "BTC", "candles": [
        candle, {**candle, "t": SYNTHETIC_END_MS + 3_600_000, "quote_vol": 3}]}), 400, "unknown_field")
    assert err["field"] == "candles.1.quote_vol" and "'quote_volume'" in err["message"]


MISSPELT = [("/predict/top100?timeframes=4h", "timeframes", "timeframe"), ("/symbols?timefame=4h", "timefame", None),
            ("/predictions/history?limt=5", "limt", "limit"), ("/candles?symbol=BTC&lmit=5", "lmit", "limit"),
            ("/jobs?state=queued", "state", "status"), ("/models/lightgbm/status?tf=4h", "tf", None),
            ("/models/lightgbm/live?day=3", "day", "days"), ("/models/lightgbm/versions?timeframe=1h&x=1", "x", None),
            ("/evaluation?horizn=1", "horizn", "horizon"), ("/health?verbose=1", "verbose", None),
            ("/models/list?timeframe=1h", "timeframe", None), ("/evaluation/list?x=1", "x", None),
            ("/openapi.json?x=1", "x", None), ("/metrics?x=1", "x", None), ("/jobs/abc?x=1", "x", None)]


@pytest.mark.parametrize("url, field, hint", MISSPELT)
def test_an_unknown_query_parameter_is_refused_by_name(client, url, field, hint):
    err = assert_error(client.get(url), 400, "unknown_field")
    assert err["field"] == field and repr(field) in err["message"]
    if hint:
        assert f"did you mean {hint!r}" in err["message"]


def test_the_query_parameters_api_md_lists_are_accepted(client, synthetic_now):
    assert client.get("/predict/top100?timeframe=1h&model=ensemble&limit=5").status_code == 200
    assert client.get("/symbols?timeframe=1h").status_code == 200
    assert client.get("/predictions/history?symbol=BTC&timeframe=1h&model=ensemble&horizon=1&since=2020-01-01"
                      "&limit=5").status_code == 200
    assert client.get("/candles?symbol=BTC&timeframe=1h&limit=5").status_code == 200
    assert client.get("/models/lightgbm/status?timeframe=1h").status_code == 200
    assert client.get("/jobs?status=queued&limit=5").status_code == 200


def test_every_route_with_a_query_class_refuses_what_it_does_not_declare(client):
    """The known set comes from the route's own query class: each declared name passes the check (any
    later answer is about its value), a name it does not declare is refused."""
    for route in ROUTES:
        if route.method != "get" or route.query is None or "{" in route.path:
            continue
        for name in route.query.model_fields:
            r = client.get(f"{route.path}?{name}=1")
            assert r.get_json() is None or r.get_json().get("error", {}).get("code") != "unknown_field", route.path
        assert_error(client.get(f"{route.path}?undeclared=1"), 400, "unknown_field")


def test_the_dashboard_pages_keep_their_own_query_parameters(client):
    assert client.get("/ui/models/lightgbm?timeframe=1h").status_code == 200


@pytest.mark.parametrize("asked, served", [("1H", "1h"), ("4H", "4h"), ("1D", "1d"), ("1W", "1w")])
def test_timeframes_are_case_insensitive_where_unambiguous(client, asked, served):
    listing = client.get(f"/symbols?timeframe={asked}")
    assert listing.status_code == 200 and listing.get_json()["timeframe"] == served


def test_an_upper_case_timeframe_predicts_and_1M_is_refused_as_a_month(client, synthetic_now):
    answer = client.post("/predict/single", json={"symbol": "BTC", "timeframe": "1H"})
    assert answer.status_code == 200 and answer.get_json()["timeframe"] == "1h"
    err = assert_error(client.post("/predict/single", json={"symbol": "BTC", "timeframe": "1M"}), 400)
    assert err["field"] == "timeframe" and "month" in err["message"] and "1m" in err["message"]
    assert assert_error(client.get("/symbols?timeframe=15M"), 400)["field"] == "timeframe"


def test_unknown_model_lists_the_valid_ids(client):
    err = assert_error(client.post("/predict/single", json={"symbol": "BTC", "model": "lightgmb"}), 404,
                       "unknown_model")
    assert err["details"]["known"] == [*MODEL_IDS, ENSEMBLE_ID]
    assert "did you mean 'lightgbm'" in err["message"] and "gru_attention" in err["message"]
    for url in ("/models/nope/status", "/models/nope/versions", "/models/nope/live"):
        assert assert_error(client.get(url), 404, "unknown_model")["details"]["known"] == [*MODEL_IDS, ENSEMBLE_ID]


def test_answers_always_carry_data_stale_and_the_candle_age():
    from coinpredict.data.candles import Candles

    candles = Candles.from_arrays("BTCUSDT", "1h", [0, 3_600_000], [1, 1], [2, 2], [1, 1], [2, 2], [5, 5],
                                  source="csv")
    part = data_part(candles, "1h")
    assert part["data_stale"] is False and "last_candle_age_s" in part


def _components(doc: dict, ref: str) -> dict:
    return doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_the_document_refuses_unknown_fields_and_names_its_enums():
    doc = openapi_document()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert "400" in op["responses"], (method, path)
            body = op.get("requestBody")
            if body:
                schema = _components(doc, body["content"]["application/json"]["schema"]["$ref"])
                assert schema["additionalProperties"] is False, path
    assert _components(doc, "PredictItem")["additionalProperties"] is False
    enums = []

    def walk(node):
        if isinstance(node, dict):
            if "enum" in node and "1h" in node["enum"]:
                enums.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(doc)
    assert enums
    for node in enums:
        names = node["x-enum-varnames"]
        assert len(names) == len(node["enum"]) == len(set(names))
        assert all(re.fullmatch(r"[A-Z][A-Z0-9]*", n) for n in names)


def test_the_document_marks_times_and_always_present_fields():
    doc = openapi_document()
    prediction = _components(doc, "Prediction")
    assert {"data_stale", "last_candle_age_s", "as_of"} <= set(prediction["required"])
    assert prediction["properties"]["as_of"]["format"] == "date-time"
    top = _components(doc, "TopResponse")["properties"]["as_of"]
    assert {"type": "string", "format": "date-time"} in top["anyOf"]
    assert _components(doc, "Recorded")["properties"]["as_of"]["format"] == "date-time"
    assert "timeframe" in _components(doc, "JobRequest")["required"]
