"""``probability_outperform`` (the relative target) in every answer: single, batch, top100 and the
ensemble; ``rank_by=outperform`` on top100 (validated, in OpenAPI); and a model trained before the
target still loads and serves with ``probability_outperform`` null."""

from __future__ import annotations

import json
import shutil

import pytest

from coinpredict.common.times import iso
from coinpredict.models.artifacts import current_dir
from tests.api.test_endpoints import API_IDS, assert_error
from tests.conftest import SYNTHETIC_END_MS


def test_every_model_and_the_ensemble_answer_probability_outperform(client):
    for model_id in API_IDS:
        body = client.post("/predict/single", json={"symbol": "eth", "model": model_id}).get_json()
        assert 0 < body["probability_outperform"] < 1, (model_id, body)
    batch = client.post("/predict/batch", json={"items": [{"symbol": "btc", "model": "xgboost"},
                                                          {"symbol": "sol"}]}).get_json()
    assert all(0 < r["probability_outperform"] < 1 for r in batch["results"])


def test_the_ensembles_probability_outperform_is_its_rule_over_the_members(client):
    body = client.post("/predict/single", json={"symbol": "SOL"}).get_json()
    members = {m: client.post("/predict/single", json={"symbol": "SOL", "model": m}).get_json()
               for m, w in body["weights"].items() if w > 0}
    expected = sum(body["weights"][m] * a["probability_outperform"] for m, a in members.items())
    assert body["probability_outperform"] == pytest.approx(expected, abs=1e-5)


def test_top100_ranks_by_outperform_when_asked(client, synthetic_now):
    default = client.get("/predict/top100").get_json()
    assert default["rank_by"] == "up"
    body = client.get("/predict/top100?rank_by=outperform&model=lightgbm").get_json()
    assert body["rank_by"] == "outperform" and body["count"] == 3
    rel = [r["probability_outperform"] for r in body["results"]]
    assert rel == sorted(rel, reverse=True) and [r["rank"] for r in body["results"]] == [1, 2, 3]


@pytest.mark.parametrize("value", ["down", "OUTPERFORM", "", "probability_up"])
def test_rank_by_other_than_up_or_outperform_is_a_400(client, value):
    error = assert_error(client.get(f"/predict/top100?rank_by={value}"), 400, "invalid_value")
    assert error["field"] == "rank_by" and error["message"]


def test_rank_by_is_in_openapi(client):
    spec = client.get("/openapi.json").get_json()
    params = {p["name"]: p for p in spec["paths"]["/predict/top100"]["get"]["parameters"]}
    assert set(json.dumps(params["rank_by"]["schema"]).split('"')) >= {"up", "outperform"}
    fields = spec["components"]["schemas"]["Prediction"]["properties"]
    assert "probability_outperform" in fields


@pytest.fixture(scope="module")
def older_lightgbm(trained_dir, synthetic_dir, tmp_path_factory):
    """A copy of the smoke models whose served lightgbm was trained without the relative target (as every
    version before it was): its manifest names no targets and it has one output per horizon."""
    from coinpredict.training import split
    from coinpredict.training.pipeline import train_models

    models = tmp_path_factory.mktemp("models-old")
    shutil.copytree(trained_dir, models, dirs_exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(split, "forward_means", lambda *a, **k: None)
        train_models(data_dir=synthetic_dir, timeframe="1h", end=iso(SYNTHETIC_END_MS), models_dir=models,
                     profile="smoke", model_ids=["lightgbm"], promote="always")
    path = current_dir(models, "1h", "lightgbm") / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.pop("targets")  # written before the field existed
    path.write_text(json.dumps(manifest))
    return models


def test_a_model_trained_before_the_target_serves_with_it_null(older_lightgbm, synthetic_dir, synthetic_now):
    from coinpredict import create_app
    from coinpredict.models.artifacts import load_manifest

    _, manifest = load_manifest(older_lightgbm, "1h", "lightgbm")
    assert manifest.targets is None and manifest.state["n_outputs"] == len(manifest.horizons)
    app = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": older_lightgbm, "offline": True})
    client = app.test_client()
    body = client.post("/predict/single", json={"symbol": "btc", "model": "lightgbm"}).get_json()
    assert 0 < body["probability_up"] < 1 and body["probability_outperform"] is None
    ensemble = client.post("/predict/single", json={"symbol": "btc"}).get_json()
    assert "lightgbm" in ensemble["members"] and 0 < ensemble["probability_outperform"] < 1
    top = client.get("/predict/top100?model=lightgbm&rank_by=outperform").get_json()
    assert top["count"] == 0 and {s["symbol"] for s in top["skipped"] if "probability_outperform" in s["reason"]} \
        == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
    assert client.get("/predict/top100?model=lightgbm").get_json()["count"] == 3
