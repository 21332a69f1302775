"""``"explain": true`` on /predict/single, and the global importance in /models/<id>/status: a booster's
reasons add up to the probability it answered, a network's come with its attention over the window,
the ensemble's combine its members', an answer without explain is unchanged, a bad explain is a 400,
and a version saved before importance was kept still has a status."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from coinpredict import create_app
from coinpredict.api.openapi import openapi_document
from coinpredict.models.artifacts import IMPORTANCE_FILE, current_dir


def single(client, **body) -> dict:
    response = client.post("/predict/single", json={"symbol": "BTC", **body})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def logistic(z: float) -> float:
    return float(1 / (1 + np.exp(-z)))


@pytest.mark.parametrize("model", ["xgboost", "lightgbm", "catboost"])
def test_a_boosters_reasons_add_up_to_its_probability(client, model):
    body = single(client, model=model, explain=True)
    why = body["explanation"]
    assert why["method"] == "tree_shap" and len(why["features"]) == 10 and why["attention"] is None
    sizes = [abs(f["contribution"]) for f in why["features"]]
    assert sizes == sorted(sizes, reverse=True)
    total = why["base"] + sum(f["contribution"] for f in why["features"]) + why["rest"]
    assert total == pytest.approx(why["logit"], abs=1e-6)
    assert logistic(why["logit"]) == pytest.approx(body["probability_up"], abs=1e-6)
    assert all(f["value"] is None or np.isfinite(f["value"]) for f in why["features"])


def test_an_attention_networks_reasons_and_attention(client):
    body = single(client, model="transformer_standard", explain=True)
    why = body["explanation"]
    assert why["method"] == "gradient_x_input" and why["base"] is None and len(why["features"]) == 10
    assert logistic(why["logit"]) == pytest.approx(body["probability_up"], abs=1e-6)
    window = client.get("/models/transformer_standard/status").get_json()["window"]
    candles = why["attention"]["candles"]
    assert len(candles) == window and candles[-1]["t"] == body["as_of"]
    assert sum(c["weight"] for c in candles) == pytest.approx(1, abs=1e-4)
    assert single(client, model="cnn_tcn", explain=True)["explanation"]["attention"] is None


def test_the_ensembles_reasons_combine_its_members_by_weight(client):
    body = single(client, explain=True)
    why = body["explanation"]
    assert why["method"] == "weighted_members" and len(why["features"]) == 10
    members = why["members"]
    assert set(members) == {k for k, w in body["weights"].items() if w > 0}
    assert sum(m["weight"] for m in members.values()) == pytest.approx(1, abs=1e-5)
    assert why["logit"] == pytest.approx(sum(m["weight"] * m["logit"] for m in members.values()), abs=1e-5)
    for model_id, m in members.items():  # each member's log-odds is the one its probability came from
        assert logistic(m["logit"]) == pytest.approx(body["members"][model_id], abs=1e-6)


@pytest.mark.parametrize("model", ["ensemble", "xgboost", "gru_standard"])
def test_without_explain_the_answer_is_unchanged(client, synthetic_now, model):
    plain = single(client, model=model)
    off = single(client, model=model, explain=False)
    on = single(client, model=model, explain=True)
    assert "explanation" not in plain and "explanation" not in off
    for other in (off, on):
        assert {k: v for k, v in other.items() if k not in ("latency_ms", "explanation")} == \
            {k: v for k, v in plain.items() if k != "latency_ms"}


@pytest.mark.parametrize("value", ["true", 1, 0, None, [], {}, "yes"])
def test_a_bad_explain_is_a_400(client, value):
    response = client.post("/predict/single", json={"symbol": "BTC", "model": "xgboost", "explain": value})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_value" and error["field"] == "explain"


def test_explain_is_for_single_predictions_only(client):
    response = client.post("/predict/batch", json={"items": [{"symbol": "BTC", "explain": True}]})
    assert response.status_code == 200
    assert response.get_json()["results"][0]["error"]["code"] == "unknown_field"


def test_the_document_declares_explain_and_explanation():
    schemas = openapi_document()["components"]["schemas"]
    assert schemas["SingleRequest"]["properties"]["explain"]["type"] == "boolean"
    assert "explanation" in schemas["Prediction"]["properties"] and "Explanation" in schemas
    assert "importance" in schemas["ModelStatus"]["properties"]


def test_status_has_the_global_importance(client):
    for model in ("xgboost", "lstm_standard"):
        importance = client.get(f"/models/{model}/status").get_json()["importance"]
        top = importance["by_horizon"]["1"]
        assert 0 < len(top) <= 20 and top[0]["mean_abs_contribution"] > 0


def test_a_version_without_importance_still_has_a_status(synthetic_dir, trained_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(trained_dir, models)
    folder = current_dir(models, "1h", "xgboost")
    (folder / IMPORTANCE_FILE).unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["files"][IMPORTANCE_FILE]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    client = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": models,
                         "offline": True}).test_client()
    response = client.get("/models/xgboost/status")
    assert response.status_code == 200 and response.get_json()["status"] == "ready"
    assert "importance" not in response.get_json()
    assert single(client, model="xgboost", explain=True)["explanation"]["method"] == "tree_shap"
