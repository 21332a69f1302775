"""``/models/move/status`` and the versions endpoints for the move model: its manifest, metrics,
horizons and importance; 404 JSON when none is trained; versions listed, promoted and deleted like the
direction models' (never an ensemble refit)."""

from __future__ import annotations

import shutil

import pytest

from coinpredict import create_app
from coinpredict.features.datasets import table_columns
from coinpredict.features.pipeline import FeatureSet
from coinpredict.models.artifacts import current_dir, read_manifest
from coinpredict.models.move import HAR_COLUMNS
from tests.api.test_endpoints import assert_error
from tests.versioning import OLDER, clone_version

KEY = {"X-API-Key": "k"}


@pytest.fixture()
def models(trained_dir, tmp_path):
    target = tmp_path / "models"
    shutil.copytree(trained_dir, target)
    return target


def _client(synthetic_dir, models):
    return create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": models, "offline": True,
                       "api_key": "k", "models_poll_s": 0}).test_client()


def test_the_move_status_page(client, trained_dir):
    resp = client.get("/models/MOVE/status")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    manifest = read_manifest(current_dir(trained_dir, "1h", "move"))
    assert body["id"] == "move" and body["family"] == "move" and body["status"] == "ready"
    assert body["model_version"] == manifest.version == client.get("/models/list").get_json()["move"]["model_version"]
    assert body["timeframes"] == ["1h"] and body["timeframe"] == "1h" and body["horizons"] == [1, 4, 24]
    assert body["move"]["kind"] == "move_size" and body["move"]["quantiles"] == ["q05", "q25", "q50", "q75", "q95"]
    by_horizon = body["metrics"]["validation_by_horizon"]
    assert set(by_horizon) == {"1", "4", "24"} and 0 <= by_horizon["1"]["coverage_90"] <= 1
    assert body["metrics"]["validation"]["r2_log_move"] == by_horizon["1"]["r2_log_move"]
    names = set(table_columns(FeatureSet(tuple(manifest.feature_names)))) | set(HAR_COLUMNS)
    importance = body["importance"]
    assert importance["method"] == "tree_shap" and set(importance["by_horizon"]) == {"1", "4", "24"}
    for rows in importance["by_horizon"].values():
        sizes = [r["mean_abs_contribution"] for r in rows]
        assert 0 < len(rows) <= 20 and sizes == sorted(sizes, reverse=True) and {r["name"] for r in rows} <= names
    assert "data_dir" not in body["training"]
    assert_error(client.get("/models/move/status?timeframe=4h"), 404, "not_trained")
    assert_error(client.get("/models/move/live"), 404, "unknown_model")  # no direction: no live skill


def test_no_move_model_is_a_json_404_and_a_damaged_one_says_failed(synthetic_dir, models):
    weights = current_dir(models, "1h", "move") / "move-h0.txt"
    weights.write_text(weights.read_text()[:-200])
    failed = _client(synthetic_dir, models).get("/models/move/status").get_json()
    assert failed["status"] == "failed" and failed["timeframes"] == [] and "failed to load" in failed["reason"]
    shutil.rmtree(models / "1h" / "move")
    assert_error(_client(synthetic_dir, models).get("/models/move/status"), 404, "not_trained")


def test_move_versions_are_listed_promoted_and_deleted(synthetic_dir, models):
    c = _client(synthetic_dir, models)
    serving = c.get("/models/move/status").get_json()["model_version"]
    clone_version(models, "1h", "move")
    listed = c.get("/models/move/versions?timeframe=1h")
    assert listed.status_code == 200, listed.get_json()
    body = listed.get_json()
    assert body["id"] == "move" and body["serving"] == serving
    assert {v["version"] for v in body["versions"]} == {serving, OLDER}
    promoted = c.post("/models/move/promote", json={"timeframe": "1h", "version": OLDER}, headers=KEY).get_json()
    assert promoted["serving"] == OLDER and promoted["previous"] == serving and promoted["ensemble_job"] is None
    assert {"model": "move", "timeframe": "1h", "before": serving, "after": OLDER} in promoted["changed"]
    assert c.get("/models/move/status").get_json()["model_version"] == OLDER
    assert c.post("/predict/single", json={"symbol": "SOL"}).get_json()["move"]["model_version"] == OLDER
    assert_error(c.delete(f"/models/move/versions/{OLDER}?timeframe=1h", headers=KEY), 409)
    gone = c.delete(f"/models/move/versions/{serving}?timeframe=1h", headers=KEY)
    assert gone.status_code == 200 and gone.get_json()["deleted"] == serving
