"""What answers say: no server path or internal URL, a described schema for every field, metrics."""

from __future__ import annotations

import json
import re
import shutil
import time

from coinpredict import create_app
from coinpredict.api.openapi import openapi_document
from coinpredict.models.artifacts import current_dir
from coinpredict.models.registry import MODEL_IDS


def _every_answer(c) -> list[str]:
    texts = [c.get(p).get_data(as_text=True) for p in ("/health", "/models/list", "/predict/top100?limit=5",
                                                         "/predict/top100?timeframe=4h", "/models/nope/status")]
    texts += [c.get(f"/models/{m}/status").get_data(as_text=True) for m in (*MODEL_IDS, "ensemble")]
    bodies = [{"symbol": "BTC"}, {"symbol": "BTC", "model": "gru_stacked"}, {"symbol": "FOO"},
              {"symbol": "BTC", "timeframe": "4h"}, {"symbol": "BTC", "timeframe": "4h", "model": "xgboost"},
              {"symbol": "BTC", "horizon": 7}]
    texts += [c.post("/predict/single", json=b).get_data(as_text=True) for b in bodies]
    texts.append(c.post("/predict/batch", json={"items": bodies}).get_data(as_text=True))
    return texts


def test_no_answer_names_a_server_path(synthetic_dir, trained_dir, tmp_path):
    """OHLCV_DIR and MODELS_DIR under a temporary folder; one model's weights corrupt, so its reason
    (which names the file) reaches /models/list, /models/<id>/status, 503s and failed_members."""
    ohlcv, models = tmp_path / "candles", tmp_path / "models"
    shutil.copytree(synthetic_dir, ohlcv)
    shutil.copytree(trained_dir, models)
    (current_dir(models, "1h", "gru_stacked") / "weights.safetensors").write_bytes(b"garbage")
    c = create_app({"TESTING": True, "ohlcv_dir": ohlcv, "models_dir": models, "offline": True}).test_client()
    texts = _every_answer(c)
    forbidden = [str(tmp_path), str(synthetic_dir), str(trained_dir), "/tmp/", "pytest-of"]
    for text in texts:
        assert not [f for f in forbidden if f in text], text[:500]
    single = json.loads(texts[-7])
    assert single["data_source"] == "csv" and "gru_stacked" in single["failed_members"]
    listed = {m["id"]: m for m in json.loads(texts[1])["models"]}
    assert listed["gru_stacked"]["reason"].startswith("failed to load: weights.safetensors")


def test_live_answers_do_not_name_the_exchange_url(trained_dir, tmp_path):
    from coinpredict.data.sources.synthetic import SyntheticSource
    from coinpredict.data.store import CandleStore

    behind = SyntheticSource(["ETHUSDT"], clock=lambda: time.time() - 7200)
    CandleStore(tmp_path / "s.sqlite").upsert(behind.fetch("ETHUSDT", "1h").last(600))
    c = create_app({"TESTING": True, "models_dir": trained_dir, "store_path": tmp_path / "s.sqlite",
                    "exchange_url": "http://127.0.0.1:9", "universe_url": "http://127.0.0.1:9"}).test_client()
    stale = c.post("/predict/single", json={"symbol": "ETH", "model": "xgboost"}).get_json()
    assert stale["stale_reason"] == "exchange unreachable" and stale["data_source"] == "store"
    texts = [json.dumps(stale), c.post("/predict/single", json={"symbol": "BTC"}).get_data(as_text=True),
             c.get("/health").get_data(as_text=True)]
    for text in texts:
        assert not [f for f in ("127.0.0.1", "klines", "HTTPConnectionPool", str(tmp_path)) if f in text], text[:500]


def test_every_schema_field_is_described_and_batch_and_top_are_typed():
    doc = openapi_document()
    parts = doc["components"]["schemas"]
    undescribed = [f"{name}.{field}" for name, schema in parts.items()
                   for field, prop in schema.get("properties", {}).items()
                   if not prop.get("description") and "$ref" not in prop]
    assert not undescribed
    assert parts["BatchRequest"]["properties"]["items"]["items"] == {"$ref": "#/components/schemas/PredictItem"}
    results = parts["BatchResponse"]["properties"]["results"]["items"]["anyOf"]
    assert {"$ref": "#/components/schemas/Prediction"} in results and {"$ref": "#/components/schemas/ItemError"} \
        in results
    assert parts["TopResponse"]["properties"]["results"]["items"] == {"$ref": "#/components/schemas/RankedPrediction"}
    prediction = parts["Prediction"]["properties"]
    for field in ("candles_used", "gaps", "last_candle_age_s", "warning", "stale_reason", "data_source"):
        assert field in prediction
    assert "|2 * probability_up - 1|" in prediction["confidence"]["description"]
    assert "HOLD" in prediction["signal"]["description"]
    assert {"warnings", "data_source", "timeframes"} <= set(parts["Health"]["properties"])
    assert {"skill", "reason"} <= set(parts["ModelSummary"]["properties"])
    reload = doc["paths"]["/models/reload"]["post"]
    assert {"401", "403"} <= set(reload["responses"]) and {"apiKey": []} in reload["security"]
    assert doc["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": doc["components"]["securitySchemes"]["apiKey"]["description"]}
    single = doc["paths"]["/predict/single"]["post"]["responses"]
    assert {"200", "400", "404", "413", "415", "503"} <= set(single)
    assert "Retry-After" in single["503"]["headers"]
    row = parts["PredictItem"]["properties"]["candles"]["anyOf"][0]["items"]["anyOf"][1]
    assert row["minItems"] == 6 and row["maxItems"] == 12 and row["prefixItems"][1]["type"] == "number"
    assert len(row["prefixItems"]) == 11 and "taker_buy_volume" in row["description"]  # kline rows as sent


def test_metrics_content_type_and_families(app, client):
    client.post("/predict/single", json={"symbol": "BTC", "model": "lightgbm"})
    client.post("/predict/single", json={"symbol": "BTC", "timeframe": "4h", "model": "lightgbm"})
    client.post("/predict/batch", json={"items": [{"symbol": "ETH"}, {"symbol": "FOO", "model": "xgboost"},
                                                  {"symbol": "SOL", "model": "made_up"}]})
    broken = app.extensions["coinpredict"].store.get("1h", "catboost").model
    broken.predict_proba = lambda x: 1 / 0  # the model's own failure: a 503 model_failed
    assert client.post("/predict/single", json={"symbol": "BTC", "model": "catboost"}).status_code == 503
    resp = client.get("/metrics")
    assert resp.headers["Content-Type"] == "text/plain; version=1.0.0; charset=utf-8"
    text = resp.get_data(as_text=True)
    assert 'coinpredict_prediction_requests_total{model="lightgbm",timeframe="1h"} 1.0' in text
    # Client mistakes are refusals by code, not errors: an error-rate alert does not fire on typos.
    refusals = 'coinpredict_prediction_refusals_total{code="%s",model="%s",timeframe="%s"} 1.0'
    assert refusals % ("not_trained", "lightgbm", "4h") in text
    assert refusals % ("unknown_symbol", "xgboost", "1h") in text
    assert refusals % ("unknown_model", "unknown", "1h") in text
    errors = [line for line in text.splitlines() if line.startswith("coinpredict_prediction_errors_total{")]
    assert errors == ['coinpredict_prediction_errors_total{model="catboost",timeframe="1h"} 1.0']
    assert "# HELP coinpredict_prediction_errors_total Predictions the service failed to give" in text
    assert 'coinpredict_prediction_seconds_count{model="ensemble",timeframe="1h"} 1.0' in text
    assert 'coinpredict_models{status="ready",timeframe="1h"} 19.0' in text
    assert re.search(r'coinpredict_model_version_info\{model="catboost",timeframe="1h",version="[^"]+"\} 1.0', text)
    age = re.search(r'coinpredict_newest_candle_age_seconds\{timeframe="1h"\} (\S+)', text)
    assert age and float(age.group(1)) > 0
    assert "SOLUSDT" not in text and "made_up" not in text


def test_asking_before_any_model_is_trained_is_a_refusal_not_an_error(synthetic_dir, tmp_path):
    client = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": tmp_path, "offline": True}) \
        .test_client()
    assert client.post("/predict/single", json={"symbol": "BTC"}).status_code == 503  # first training running
    text = client.get("/metrics").get_data(as_text=True)
    assert 'coinpredict_prediction_refusals_total{code="model_not_ready",model="ensemble",timeframe="1h"} 1.0' in text
    assert not [line for line in text.splitlines() if line.startswith("coinpredict_prediction_errors_total{")]
