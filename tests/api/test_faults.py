"""Faults degrade one answer, not the service: a corrupt model, an unreachable exchange, fuzzed bodies."""

from __future__ import annotations

import json
import shutil
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coinpredict import create_app
from coinpredict.models.artifacts import current_dir
from coinpredict.models.registry import MODEL_IDS


def test_a_corrupt_model_fails_alone_and_the_ensemble_answers_without_it(synthetic_dir, trained_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(trained_dir, models)
    (current_dir(models, "1h", "gru_stacked") / "weights.safetensors").write_bytes(b"garbage")
    c = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": models}).test_client()
    health = c.get("/health").get_json()
    assert health["status"] == "degraded" and health["models"]["failed"] == 1
    assert health["models_loaded"] == len(MODEL_IDS) - 1
    listed = {m["id"]: m for m in c.get("/models/list").get_json()["models"]}
    assert listed["gru_stacked"]["status"] == "failed" and "weights.safetensors" in listed["gru_stacked"]["reason"]
    body = c.post("/predict/single", json={"symbol": "BTC"}).get_json()
    assert "gru_stacked" in body["failed_members"] and "gru_stacked" not in body["members"]
    assert len(body["members"]) == len(MODEL_IDS) - 1
    resp = c.post("/predict/single", json={"symbol": "BTC", "model": "gru_stacked"})
    assert resp.status_code == 503 and resp.get_json()["error"]["code"] == "model_not_ready"


def test_unreachable_exchange_with_nothing_stored_for_the_symbol_is_503_with_retry_after(trained_dir, tmp_path):
    from coinpredict.data.sources.synthetic import SyntheticSource
    from coinpredict.data.store import CandleStore

    two_hours_ago = SyntheticSource(["ETHUSDT"], clock=lambda: time.time() - 7200)  # the store is behind
    CandleStore(tmp_path / "s.sqlite").upsert(two_hours_ago.fetch("ETHUSDT", "1h").last(600))
    c = create_app({"TESTING": True, "models_dir": trained_dir, "store_path": tmp_path / "s.sqlite",
                    "exchange_url": "http://127.0.0.1:9", "universe_url": "http://127.0.0.1:9"}).test_client()
    resp = c.post("/predict/single", json={"symbol": "BTC", "model": "xgboost"})
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    assert resp.get_json()["error"]["code"] == "data_unavailable"
    stale = c.post("/predict/single", json={"symbol": "ETH", "model": "xgboost"}).get_json()
    assert stale["data_stale"] is True and stale["last_candle_age_s"] >= 7200 and stale["data_source"] == "store"
    assert "unreachable" in stale["stale_reason"]
    health = c.get("/health").get_json()
    assert health["status"] == "degraded" and any("stale" in w for w in health["warnings"])


def test_an_unreachable_exchange_with_an_empty_store_is_503_never_invented_prices(trained_dir, tmp_path):
    c = create_app({"TESTING": True, "models_dir": trained_dir, "store_path": tmp_path / "s.sqlite",
                    "exchange_url": "http://127.0.0.1:9", "universe_url": "http://127.0.0.1:9"}).test_client()
    assert c.get("/health").get_json()["data_source"] == "live"
    for model in ("xgboost", "ensemble"):
        resp = c.post("/predict/single", json={"symbol": "BTC", "model": model})
        assert resp.status_code == 503 and resp.headers["Retry-After"]
        assert resp.get_json()["error"]["code"] == "data_unavailable"


def test_synthetic_market_on_request_answers_hold_with_warnings(trained_dir, tmp_path):
    c = create_app({"TESTING": True, "models_dir": trained_dir, "store_path": tmp_path / "s.sqlite",
                    "synthetic": True, "universe_url": "http://127.0.0.1:9"}).test_client()
    health = c.get("/health").get_json()
    assert health["status"] == "degraded" and health["data_source"] == "synthetic"
    for model in ("xgboost", "ensemble"):
        body = c.post("/predict/single", json={"symbol": "BTC", "model": model}).get_json()
        assert body["data_source"] == "synthetic" and "synthetic" in body["warning"]
        assert body["signal"] == "HOLD" and "not real" in body["signal_reason"]
    top = c.get("/predict/top100?model=lightgbm&limit=100").get_json()
    assert top["count"] > 50 and {r["signal"] for r in top["results"]} == {"HOLD"}


def test_no_models_at_all_is_degraded_and_503(synthetic_dir, tmp_path):
    c = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": tmp_path / "empty"}).test_client()
    assert c.get("/health").get_json()["status"] == "degraded"
    assert c.get("/models/list").get_json()["models"][0]["status"] == "not_trained"
    assert c.post("/predict/single", json={"symbol": "BTC"}).status_code == 503


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
                           lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids,
                                                                                        max_size=4), max_leaves=12)
fields = st.fixed_dictionaries({}, optional={"symbol": json_values | st.sampled_from(["BTC", "eth", "x/y"]),
                                             "timeframe": json_values | st.just("1h"), "model": json_values,
                                             "horizon": json_values, "candles": json_values, "items": json_values,
                                             "method": json_values})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(body=fields | json_values)
def test_malformed_requests_never_get_a_500(client, body):
    for path in ("/predict/single", "/predict/batch"):
        resp = client.post(path, data=json.dumps(body), content_type="application/json")
        assert resp.status_code < 500 or resp.status_code == 503, resp.get_data(as_text=True)
        assert resp.is_json
