"""Hostile and sloppy requests get a clean 4xx in the error shape of API.md, never a 500."""

from __future__ import annotations

import json
import logging

import pytest

from coinpredict.data.symbols import normalise_symbol
from tests.api.test_endpoints import assert_error

JSON = "application/json"


def post(client, path, body, content_type=JSON, **kw):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(path, data=data, content_type=content_type, **kw)


@pytest.mark.parametrize("path", ["/predict/single", "/predict/batch"])
def test_deep_nesting_is_refused_before_parsing_and_logs_nothing(client, caplog, path):
    deep = '{"symbol": ' + "[" * 1000 + "]" * 1000 + "}"
    assert len(deep) < 2100
    with caplog.at_level(logging.INFO):
        err = assert_error(post(client, path, deep), 400, "malformed_json")
    assert "64" in err["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    item = {"items": [{"symbol": json.loads("[" * 500 + "]" * 500)}]}
    assert_error(post(client, "/predict/batch", item), 400, "malformed_json")
    # 60 levels are read (the nested symbol is then just the wrong type); brackets inside strings do not count.
    if path.endswith("single"):
        assert_error(post(client, path, {"symbol": json.loads("[" * 60 + "]" * 60)}), 400, "invalid_value")
    else:
        body = post(client, path, {"items": [{"symbol": "[" * 30 + "BTC"}]}).get_json()
        assert body["results"][0]["error"]["code"] == "invalid_symbol"


@pytest.mark.parametrize("body", ['{"symbol": "BTC", "horizon": NaN}', '{"symbol": "BTC", "horizon": Infinity}',
                                  '{"symbol": "BTC", "horizon": -Infinity}', '{"symbol": "BTC", "horizon": 1e999}',
                                  '{"symbol": "BTC", "horizon": ' + "9" * 5000 + "}", "\ufeff{}", "",
                                  '{"symbol": "BTC",}', "{'symbol': 'BTC'}"])
def test_only_strict_json_is_read(client, body):
    err = assert_error(post(client, "/predict/single", body.encode("utf-8")), 400, "malformed_json")
    assert "int_max_str_digits" not in err["message"] and "sys." not in err["message"]


def test_a_long_integer_is_named_in_the_api_words(client):
    err = assert_error(post(client, "/predict/single", '{"symbol": "BTC", "horizon": ' + "9" * 5000 + "}"), 400)
    assert "5000 digits" in err["message"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None,
                                          "application/json; charset=latin-1", "application/jsonx"])
def test_a_body_not_sent_as_json_is_415(client, content_type):
    resp = client.post("/predict/single", data='{"symbol": "BTC"}',
                       headers={"Content-Type": content_type} if content_type else {})
    assert_error(resp, 415, "unsupported_media_type")
    assert_error(client.post("/predict/batch", data='{"items": []}', content_type="text/plain"), 415)


def test_bodies_are_utf8(client):
    utf16 = '{"symbol": "BTC"}'.encode("utf-16")
    assert "UTF-8" in assert_error(post(client, "/predict/single", utf16), 400, "malformed_json")["message"]
    ok = post(client, "/predict/single", b'{"symbol": "BTC", "model": "xgboost"}', "application/json; charset=utf-8")
    assert ok.status_code == 200


@pytest.mark.parametrize("raw", ["ſhib", "ſol", "ıcp", "btc\u00df", "ＢＴＣ", "bt\u0441"])
def test_symbols_are_ascii(client, raw):
    with pytest.raises(ValueError):
        normalise_symbol(raw)
    assert_error(post(client, "/predict/single", {"symbol": raw}), 400, "invalid_symbol")
    body = post(client, "/predict/batch", {"items": [{"symbol": raw}, {"symbol": "sol"}]}).get_json()
    assert body["results"][0]["error"]["code"] == "invalid_symbol" and body["results"][1]["symbol"] == "SOLUSDT"


def test_model_ids_are_case_insensitive(client):
    for sent, canonical in (("ENSEMBLE", "ensemble"), ("LightGBM", "lightgbm"), ("Gru_Attention", "gru_attention")):
        body = post(client, "/predict/single", {"symbol": "BTC", "model": sent}).get_json()
        assert body["model"] == canonical
        assert client.get(f"/models/{sent}/status").get_json()["id"] == canonical
        assert client.get(f"/predict/top100?model={sent}&limit=2").get_json()["model"] == canonical
    batch = post(client, "/predict/batch", {"items": [{"symbol": "ETH", "model": "XGBOOST"}]}).get_json()
    assert batch["results"][0]["model"] == "xgboost"
    # Case-insensitive means ASCII case: a Unicode look-alike is not an id.
    assert_error(post(client, "/predict/single", {"symbol": "BTC", "model": "ENſEMBLE"}), 404, "unknown_model")
    assert_error(client.get("/models/ENſEMBLE/status"), 404, "unknown_model")


def test_method_is_refused_for_a_single_model(client):
    err = assert_error(post(client, "/predict/single", {"symbol": "BTC", "model": "lightgbm", "method": "median"}),
                       400, "invalid_value")
    assert err["field"] == "method"
    body = post(client, "/predict/batch", {"items": [{"symbol": "BTC", "model": "xgboost", "method": "best"},
                                                     {"symbol": "BTC", "method": "best"}]}).get_json()
    assert body["results"][0]["error"]["field"] == "method" and body["results"][0]["status"] == 400
    assert body["results"][1]["method"] == "best"


def _rows(candles, n):
    c = candles.last(n)
    return [[int(t), o, h, lo, cl, v] for t, o, h, lo, cl, v in zip(c.t, c.open, c.high, c.low, c.close, c.volume)]


def test_batch_items_use_their_own_candles(client, app):
    candles = app.extensions["coinpredict"].market.candles("ETHUSDT", "1h", 500)
    rows = _rows(candles, 400)
    single = post(client, "/predict/single", {"symbol": "ETH", "model": "lightgbm", "candles": rows}).get_json()
    items = [{"symbol": "ETH", "model": "lightgbm", "candles": rows},
             {"symbol": "ETH", "model": "lightgbm"},
             {"symbol": "ETH", "model": "lightgbm", "candles": rows[:20]},
             {"symbol": "ETH", "model": "lightgbm", "candles": "many"},
             {"symbol": "ETH", "model": "lightgbm", "candles": [[1, 2, 3]]}]
    results = post(client, "/predict/batch", {"items": items}).get_json()["results"]
    assert results[0]["data_source"] == "request" and results[0]["probability_up"] == single["probability_up"]
    assert results[0]["candles_used"] == 400 and results[1]["data_source"] == "csv"
    assert results[2]["error"]["code"] == "too_few_candles" and results[2]["status"] == 400
    assert results[3]["status"] == 400 and results[4]["error"]["code"] == "invalid_candles"


def test_candle_objects_and_kline_rows_are_read_alike(client, app):
    candles = app.extensions["coinpredict"].market.candles("SOLUSDT", "1h", 500)
    rows = _rows(candles, 400)
    long_names = [{"time": r[0], "open": r[1], "high": r[2], "low": r[3], "close": r[4], "volume": r[5]} for r in rows]
    klines = [[*r, r[0] + 3_599_999, 0, 0, 0, 0, 0] for r in rows]
    answers = {post(client, "/predict/single", {"symbol": "SOL", "model": "xgboost", "candles": c}).get_json()[
        "probability_up"] for c in (rows, long_names, klines)}
    assert len(answers) == 1
    err = assert_error(post(client, "/predict/single", {"symbol": "SOL", "candles": [[True, 1, 1, 1, 1, 1]] * 50}),
                       400, "invalid_value")
    assert err["field"] == "candles"


def test_api_key_with_any_bytes_is_a_401_and_a_utf8_key_works(synthetic_dir, trained_dir):
    from coinpredict import create_app

    c = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": trained_dir,
                    "api_key": "cl\u00e9-s3cret"}).test_client()
    for wrong in ("cl\u00e9", "\u00ff\u00fe", "cl\u00c3\u00a9-s3creT", "x" * 4000):
        assert_error(c.post("/models/reload", headers={"X-API-Key": wrong}), 401, "unauthorized")
    # A UTF-8 key arrives as its bytes (a WSGI header is Latin-1 text): it matches.
    utf8_as_sent = "cl\u00e9-s3cret".encode().decode("latin-1")
    assert c.post("/models/reload", headers={"X-API-Key": utf8_as_sent}).status_code == 200


def test_the_nesting_scan_hides_brackets_in_strings_and_stays_linear():
    from coinpredict.api.body import nesting_depth

    assert nesting_depth(b'{"a": "[[[[", "b": [[1]]}') == 3
    assert nesting_depth(b'["x' + b"[" * 100) == 1  # an unterminated string hides the rest
    # Escaped quotes in an unterminated string once made the scan quadratic (minutes for 2 MB).
    assert nesting_depth(b'"' + b'\\"' * 1_000_000) == 0
