"""Every endpoint of API.md and every error class, through Flask's test client."""

from __future__ import annotations

import numpy as np
import pytest

from coinpredict.models.registry import MODEL_IDS

N_MODELS = len(MODEL_IDS)

API_IDS = ["lstm_standard", "lstm_bidirectional", "lstm_stacked", "gru_standard", "gru_bidirectional", "gru_stacked",
           "gru_attention", "gru_residual", "transformer_standard", "transformer_timeseries", "transformer_informer",
           "cnn_standard", "cnn_resnet", "cnn_multiscale", "cnn_dilated", "cnn_tcn", "xgboost", "lightgbm", "catboost"]
PREDICTION_FIELDS = {"symbol", "timeframe", "model", "as_of", "horizon", "probability_up", "signal", "confidence",
                     "model_version", "latency_ms", "expected_move_bps", "edge_bps", "cost_bps"}


def assert_error(resp, status, code=None):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.is_json, resp.get_data(as_text=True)[:200]
    body = resp.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_registry_matches_the_contract():
    assert list(MODEL_IDS) == API_IDS


def test_health(client, synthetic_now):
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and body["models_loaded"] == N_MODELS
    assert body["models"] == {"ready": N_MODELS, "failed": 0, "not_trained": 0}
    assert {"uptime_s", "version"} <= set(body)
    assert body["data"] == {"last_candle_age_s": 1800.0, "stale_symbols": 0, "stale_examples": [],
                            "by_timeframe": {"1h": {"symbols": 3, "last_candle_age_s": 1800.0, "stale_symbols": 0}}}


def test_health_is_degraded_while_candles_are_stale_and_counts_them(app, synthetic_now):
    from coinpredict.common import clock

    clock.use(lambda: synthetic_now + 86_400)  # a day later, the folder has no newer candles
    body = app.test_client().get("/health").get_json()
    assert body["status"] == "degraded" and body["data"]["stale_symbols"] == 3
    assert body["data"]["last_candle_age_s"] == 1800.0 + 86_400 and "BTCUSDT/1h" in body["data"]["stale_examples"]
    assert any("3 symbols have stale candles" in w for w in body["warnings"])


def test_models_list(client):
    body = client.get("/models/list").get_json()
    assert body["count"] == N_MODELS and [m["id"] for m in body["models"]] == API_IDS
    for m in body["models"]:
        assert {"id", "family", "params", "status", "timeframes", "model_version"} <= set(m)
        assert m["status"] == "ready" and m["timeframes"] == ["1h"] and m["skill"] in ("none", "some")


@pytest.mark.parametrize("model_id", API_IDS + ["ensemble"])
def test_model_status(client, model_id):
    body = client.get(f"/models/{model_id}/status").get_json()
    assert {"id", "status", "family", "params", "trained_at", "training", "metrics", "serving"} <= set(body)
    assert body["status"] == "ready" and "auc" in body["metrics"]["validation"]
    assert {"requests", "errors", "p50_ms", "p95_ms"} <= set(body["serving"])


def test_unknown_model_status_is_404(client):
    assert_error(client.get("/models/nope/status"), 404, "unknown_model")


def test_single_prediction_with_every_model_and_serving_figures(client):
    for model_id in API_IDS:
        body = client.post("/predict/single", json={"symbol": "btc", "model": model_id}).get_json()
        assert PREDICTION_FIELDS <= set(body), body
        assert body["symbol"] == "BTCUSDT" and body["model"] == model_id
        assert 0 < body["probability_up"] < 1 and body["signal"] in ("BUY", "SELL", "HOLD")
        assert body["confidence"] == pytest.approx(abs(2 * body["probability_up"] - 1), abs=1e-5)
        assert body["as_of"].endswith("Z")
    serving = client.get("/models/gru_attention/status").get_json()["serving"]
    assert serving["requests"] >= 1 and serving["p50_ms"] is not None


@pytest.mark.parametrize("spelling", ["BTC", "btc", "BTCUSDT", "BTC/USDT", "BTC_USDT", "btc-usdt"])
def test_symbol_spellings(client, spelling):
    assert client.post("/predict/single", json={"symbol": spelling, "model": "xgboost"}).get_json()["symbol"] == \
        "BTCUSDT"


def test_ensemble_answer(client):
    body = client.post("/predict/single", json={"symbol": "ETH"}).get_json()
    assert body["model"] == "ensemble" and body["method"] == "weighted_average"
    assert set(body["members"]) == set(API_IDS) and body["failed_members"] == {}
    assert abs(sum(body["weights"].values()) - 1) < 1e-4 and body["uncertainty"] >= 0
    assert min(body["members"].values()) <= body["probability_up"] <= max(body["members"].values())
    for method in ("median", "best"):
        assert client.post("/predict/single", json={"symbol": "ETH", "method": method}).get_json()["method"] == method


def _candles(candles, n):
    c = candles.last(n)
    return [{"t": int(t), "o": o, "h": h, "l": lo, "c": cl, "v": v}
            for t, o, h, lo, cl, v in zip(c.t, c.open, c.high, c.low, c.close, c.volume)]


@pytest.fixture()
def market_candles(app):
    return app.extensions["coinpredict"].market.candles("SOLUSDT", "1h", 500)


def test_client_candles_as_objects_and_rows(client, market_candles):
    objects = _candles(market_candles, 400)
    a = client.post("/predict/single", json={"symbol": "SOL", "model": "cnn_tcn", "candles": objects}).get_json()
    rows = [[c["t"], c["o"], c["h"], c["l"], c["c"], c["v"]] for c in objects]
    b = client.post("/predict/single", json={"symbol": "SOL", "model": "cnn_tcn", "candles": rows}).get_json()
    assert a["probability_up"] == b["probability_up"] and a["data_source"] == "request"
    iso = [{**c, "t": np.datetime_as_string(np.datetime64(c["t"], "ms"), unit="s") + "Z"} for c in objects]
    c = client.post("/predict/single", json={"symbol": "SOL", "model": "cnn_tcn", "candles": iso}).get_json()
    assert c["probability_up"] == a["probability_up"]


def test_client_candles_with_the_exchange_extra_columns_give_the_same_answer(client, market_candles):
    """Optional quote volume, trades and taker-buy fields (objects) or kline columns (rows) are accepted;
    the OHLCV models answer as without them."""
    objects = _candles(market_candles, 400)
    ask = {"symbol": "SOL", "model": "cnn_tcn"}
    plain = client.post("/predict/single", json={**ask, "candles": objects}).get_json()
    wide = [{**c, "qv": c["v"] * c["c"], "n": 10, "tbv": c["v"] / 2, "taker_buy_quote_volume": None}
            for c in objects]
    klines = [[c["t"], str(c["o"]), str(c["h"]), str(c["l"]), str(c["c"]), str(c["v"]), c["t"] + 3_599_999,
               str(c["v"] * c["c"]), 10, str(c["v"] / 2), str(c["v"] * c["c"] / 2), "0"] for c in objects]
    for candles in (wide, klines):
        got = client.post("/predict/single", json={**ask, "candles": candles})
        assert got.status_code == 200 and got.get_json()["probability_up"] == plain["probability_up"]


def test_no_train_serve_skew(client, app, market_candles):
    """/predict/single on sent candles equals the offline model on the same candles, for both heads: the
    direction's columns and the relative target's (``probability_outperform``) after them."""
    from coinpredict.features.datasets import build_pooled

    store = app.extensions["coinpredict"].store
    anchors = {"BTCUSDT": app.extensions["coinpredict"].market.candles("BTCUSDT", "1h", 500)}
    for model_id in ("gru_attention", "lightgbm", "transformer_timeseries"):
        entry = store.get("1h", model_id)
        data = build_pooled([market_candles], entry.feature_set, window=entry.manifest.window, horizons=(1,),
                            anchors=anchors)
        data.scale(entry.scaler)
        last = np.array([len(market_candles) - 1])
        x = data.windows(last) if entry.model.input_kind == "sequence" else data.tables(last)
        offline = entry.model.predict_proba(x)[0]  # one probability per horizon and target
        horizons = entry.manifest.horizons
        assert entry.manifest.targets == ["direction", "outperform"] and len(offline) == 2 * len(horizons)
        for j, horizon in enumerate(horizons):
            served = client.post("/predict/single", json={"symbol": "SOL", "model": model_id, "horizon": horizon,
                                                          "candles": _candles(market_candles, 500)}).get_json()
            assert served["probability_up"] == pytest.approx(float(offline[j]), abs=2e-6)
            assert served["probability_outperform"] == pytest.approx(float(offline[len(horizons) + j]), abs=2e-6)


def test_no_train_serve_skew_of_the_move_model(client, app, market_candles):
    """The move part served for sent candles equals evaluation's (``evaluation.move.move_rows``) on the
    same candles, at every horizon, centred on the answer's own probability_up."""
    from coinpredict.evaluation.move import move_rows
    from coinpredict.features.datasets import build_pooled
    from coinpredict.models.move import QUANTILE_NAMES

    entry = app.extensions["coinpredict"].store.moves["1h"]
    anchors = {"BTCUSDT": app.extensions["coinpredict"].market.candles("BTCUSDT", "1h", 500)}
    data = build_pooled([market_candles], entry.feature_set, window=entry.manifest.window, horizons=(1,),
                        anchors=anchors)
    data.scale(entry.scaler)
    last = np.array([len(market_candles) - 1])
    for horizon in entry.horizons:
        served = client.post("/predict/single", json={"symbol": "SOL", "model": "lightgbm", "horizon": horizon,
                                                      "candles": _candles(market_candles, 500)}).get_json()
        offline = move_rows(entry, data, last, horizon, np.array([served["probability_up"]]))
        move = served["move"]
        assert move["source"] == "model" and move["model_version"] == entry.version
        assert move["expected_bps"] == pytest.approx(float(offline.expected_bps[0]), abs=0.006)
        assert served["expected_move_bps"] == move["expected_bps"]
        for name, value in zip(QUANTILE_NAMES, offline.quantiles_bps[0]):
            assert move["quantiles_bps"][name] == pytest.approx(float(value), abs=0.006)


def test_answers_say_which_market_context_they_had(client, market_candles):
    """The 1h models read BTC's candles: a market answer and a client-candle answer (with and without the
    order-flow fields) both had BTC's candle; only the one that sent taker buys had order flow."""
    market = client.post("/predict/single", json={"symbol": "SOL"}).get_json()
    assert market["context"] == {"anchors": {"BTCUSDT": True}, "order_flow": False}
    objects = _candles(market_candles, 400)
    plain = client.post("/predict/single", json={"symbol": "SOL", "candles": objects}).get_json()
    wide = [{**c, "tbv": c["v"] * 0.6, "n": 40} for c in objects]
    flow = client.post("/predict/single", json={"symbol": "SOL", "candles": wide}).get_json()
    assert plain["context"] == {"anchors": {"BTCUSDT": True}, "order_flow": False}
    assert flow["context"] == {"anchors": {"BTCUSDT": True}, "order_flow": True}
    assert plain["probability_up"] == market["probability_up"]
    early = client.post("/predict/single", json={"symbol": "SOL", "model": "lightgbm",
                                                 "candles": objects[:-20]}).get_json()
    assert early["context"]["anchors"] == {"BTCUSDT": True} and early["as_of"] < market["as_of"]


def test_bad_client_candles_get_clear_400s(client, market_candles):
    good = _candles(market_candles, 400)
    err = assert_error(client.post("/predict/single", json={"symbol": "SOL", "candles": good[:50]}), 400,
                       "too_few_candles")
    assert "need at least" in err["message"] and err["needed"] > 50
    nan = [dict(c) for c in good]
    nan[10]["c"] = None
    assert "NaN" in assert_error(client.post("/predict/single", json={"symbol": "SOL", "candles": nan}), 400)["message"]
    assert "sorted" in assert_error(client.post("/predict/single", json={"symbol": "SOL", "candles": good[::-1]}),
                                    400)["message"]
    dup = good[:200] + good[199:]
    assert "duplicate" in assert_error(client.post("/predict/single", json={"symbol": "SOL", "candles": dup}),
                                       400)["message"]
    broken = [dict(c) for c in good]
    broken[5]["h"] = broken[5]["l"] / 2
    message = assert_error(client.post("/predict/single", json={"symbol": "SOL", "candles": broken}), 400)["message"]
    assert "impossible OHLC: high below open/close at rows [5]" in message  # the CSV reader's wording too


def test_gaps_in_client_candles_are_reported(client, market_candles):
    gappy = _candles(market_candles, 420)
    del gappy[300:305]
    body = client.post("/predict/single", json={"symbol": "SOL", "model": "xgboost", "candles": gappy}).get_json()
    assert body["gaps"] == {"count": 1, "missing_candles": 5}


def test_batch_keeps_order_and_isolates_bad_items(client):
    items = [{"symbol": "BTC"}, {"symbol": "FOO"}, {"symbol": 3}, {"symbol": "eth", "model": "xgboost"},
             "nonsense", {"symbol": "SOL", "model": "nope"}, {"symbol": "SOL", "timeframe": "3h"}]
    body = client.post("/predict/batch", json={"items": items}).get_json()
    assert body["count"] == len(items) and "latency_ms" in body
    r = body["results"]
    assert r[0]["symbol"] == "BTCUSDT" and r[0]["model"] == "ensemble"
    assert r[1]["error"]["code"] == "unknown_symbol" and r[1]["symbol"] == "FOO"
    assert r[2]["error"]["code"] == "invalid_value"
    assert r[3]["symbol"] == "ETHUSDT" and r[3]["model"] == "xgboost"
    assert PREDICTION_FIELDS <= set(r[0]) and PREDICTION_FIELDS <= set(r[3])
    assert "error" in r[4] and r[5]["error"]["code"] == "unknown_model" and r[6]["error"]["field"] == "timeframe"


def test_batch_limits(client):
    assert_error(client.post("/predict/batch", json={"items": [{"symbol": "BTC"}] * 501}), 400, "batch_too_large")
    assert_error(client.post("/predict/batch", json={"items": "BTC"}), 400)
    assert_error(client.post("/predict/batch", json={}), 400)


def test_top100(client, synthetic_now):
    body = client.get("/predict/top100?limit=100").get_json()
    assert {"as_of", "universe", "count", "results", "skipped", "latency_ms"} <= set(body)
    assert "bundled" in body["universe"] and body["count"] == 3
    probs = [r["probability_up"] for r in body["results"]]
    assert probs == sorted(probs, reverse=True) and [r["rank"] for r in body["results"]] == [1, 2, 3]
    assert all(PREDICTION_FIELDS <= set(r) for r in body["results"])
    assert {"symbol": "XRPUSDT", "reason": "no market data on 1h"} in body["skipped"]
    assert client.get("/predict/top100?limit=2&model=lightgbm").get_json()["count"] == 2
    assert_error(client.get("/predict/top100?limit=0"), 400)
    assert_error(client.get("/predict/top100?limit=abc"), 400)
    assert_error(client.get("/predict/top100?model=nope"), 404, "unknown_model")


def test_top100_skips_symbols_whose_candles_are_stale_and_says_why(client, synthetic_now):
    from coinpredict.common import clock

    clock.use(lambda: synthetic_now + 5 * 3600)  # the folder now ends 5 candles ago: beyond the 3 allowed
    body = client.get("/predict/top100?limit=100&model=lightgbm").get_json()
    assert body["count"] == 0
    reasons = {s["symbol"]: s["reason"] for s in body["skipped"]}
    assert all(reasons[s].startswith("stale data: its newest candle closed 5.5 h ago") for s in
               ("BTCUSDT", "ETHUSDT", "SOLUSDT"))
    single = client.post("/predict/single", json={"symbol": "BTC", "model": "lightgbm"}).get_json()
    assert single["data_stale"] is True and single["last_candle_age_s"] == 5.5 * 3600


@pytest.mark.parametrize("body, status, code", [
    ('{"symbol": ', 400, "malformed_json"),
    ("[1, 2]", 400, "malformed_json"),
    ('{"symbol": 5}', 400, "invalid_value"),
    ('{"symbol": "BTC", "timeframe": "7h"}', 400, "invalid_value"),
    ('{"symbol": "BTC", "horizon": 0}', 400, "invalid_value"),
    ('{"symbol": "BTC", "horizon": 3}', 404, "not_trained"),
    ('{"symbol": "B$C"}', 400, "invalid_symbol"),
    ('{"symbol": "BTC", "candles": "many"}', 400, "invalid_value"),
    ('{"symbol": "BTC", "method": "vote"}', 400, "invalid_value"),
    ('{"symbol": "BTC", "model": "nope"}', 404, "unknown_model"),
    ('{"symbol": "DOGE"}', 404, "unknown_symbol"),
    ('{"symbol": "BTC", "timeframe": "4h"}', 404, "not_trained"),
    ('{"symbol": "BTC", "timeframe": "4h", "model": "xgboost"}', 404, "not_trained"),
])
def test_error_classes(client, body, status, code):
    resp = client.post("/predict/single", data=body, content_type="application/json")
    assert_error(resp, status, code)
    if status == 503:
        assert resp.headers["Retry-After"]


def test_route_method_and_size_errors(client):
    assert_error(client.get("/nope"), 404, "not_found")
    assert_error(client.get("/predict/single"), 405, "method_not_allowed")
    assert_error(client.post("/predict/single", data="x" * (3 * 1024 * 1024), content_type="application/json"),
                 413, "payload_too_large")


def test_openapi_docs_metrics_and_cors(client):
    doc = client.get("/openapi.json").get_json()
    assert {"/predict/single", "/predict/batch", "/predict/top100", "/health", "/models/list"} <= set(doc["paths"])
    assert "SingleRequest" in doc["components"]["schemas"]
    assert client.get("/docs").status_code == 200
    client.get("/health")
    assert b"http_requests_total" in client.get("/metrics").data
    resp = client.get("/health", headers={"Origin": "https://trader.example"})
    assert resp.headers["Access-Control-Allow-Origin"] in ("*", "https://trader.example")
    assert resp.headers["X-Request-ID"]


def test_reload_needs_the_api_key_when_set(synthetic_dir, trained_dir):
    from coinpredict import create_app

    app = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": trained_dir, "api_key": "s3cret"})
    c = app.test_client()
    assert_error(c.post("/models/reload"), 401, "unauthorized")
    assert c.post("/models/reload", headers={"X-API-Key": "s3cret"}).get_json()["models"]["ready"] == N_MODELS
