"""Versions over HTTP (Flask test client): list without a key; promote, roll back and delete with one;
409 for the version served; a corrupt version refused; reload that finds nothing changes nothing;
the document and the CORS policy cover the new endpoints."""

from __future__ import annotations

import re
import shutil

import pytest

from coinpredict import create_app
from coinpredict.api.cors import management_patterns
from coinpredict.common.files import write_atomic_text
from coinpredict.models.artifacts import CURRENT
from coinpredict.models.registry import MODEL_IDS
from tests.api.test_endpoints import assert_error
from tests.versioning import OLDER, clone_version, corrupt

KEY = {"X-API-Key": "k"}


@pytest.fixture()
def models(trained_dir, tmp_path):
    target = tmp_path / "models"
    shutil.copytree(trained_dir, target)
    return target


@pytest.fixture()
def ops(synthetic_dir, models):
    app = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": models, "offline": True,
                      "api_key": "k", "models_poll_s": 0})
    return app.test_client()


def predicted_version(c, model="lightgbm"):
    resp = c.post("/predict/single", json={"symbol": "BTC", "model": model})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["model_version"]


def test_versions_are_listed_without_a_key_and_changed_only_with_the_right_one(ops, models):
    newest = predicted_version(ops)
    clone_version(models, "1h", "lightgbm")
    listing = ops.get("/models/LightGBM/versions?timeframe=1h").get_json()
    assert listing["id"] == "lightgbm" and listing["serving"] == listing["current"] == newest
    assert [(v["version"], v["status"]) for v in listing["versions"]] == [(newest, "serving"), (OLDER, "available")]
    assert {"version", "trained_at", "data_range", "metrics", "status"} <= set(listing["versions"][0])

    body = {"timeframe": "1h", "version": OLDER}
    assert_error(ops.post("/models/lightgbm/promote", json=body), 401, "unauthorized")
    assert_error(ops.post("/models/lightgbm/promote", json=body, headers={"X-API-Key": "wrong"}), 401)
    assert_error(ops.delete(f"/models/lightgbm/versions/{OLDER}"), 401, "unauthorized")
    rolled = ops.post("/models/lightgbm/promote", json=body, headers=KEY).get_json()
    assert rolled["version"] == rolled["serving"] == OLDER and rolled["previous"] == newest
    assert rolled["status"] == "ready" and rolled["changed"] == [
        {"model": "lightgbm", "timeframe": "1h", "before": newest, "after": OLDER}]
    assert predicted_version(ops) == OLDER  # applied at once by the worker that answered

    error = assert_error(ops.delete(f"/models/lightgbm/versions/{OLDER}", headers=KEY), 409, "version_serving")
    assert error["field"] == "version"
    forward = ops.post("/models/lightgbm/promote", json={"version": newest}, headers=KEY).get_json()
    assert forward["serving"] == newest and predicted_version(ops) == newest
    gone = ops.delete(f"/models/lightgbm/versions/{OLDER.replace(':', '')}?timeframe=1h", headers=KEY).get_json()
    assert gone == {"id": "lightgbm", "timeframe": "1h", "deleted": OLDER, "serving": newest}
    assert [v["version"] for v in ops.get("/models/lightgbm/versions").get_json()["versions"]] == [newest]


def test_unknown_ids_timeframes_and_versions(ops):
    assert_error(ops.get("/models/nope/versions"), 404, "unknown_model")
    assert_error(ops.get("/models/lightgbm/versions?timeframe=4h"), 404, "not_trained")
    assert_error(ops.get("/models/lightgbm/versions?timeframe=7h"), 400, "invalid_value")
    assert_error(ops.post("/models/nope/promote", json={"version": OLDER}, headers=KEY), 404, "unknown_model")
    assert_error(ops.post("/models/lightgbm/promote", json={"version": "x"}, headers=KEY), 404, "unknown_version")
    assert_error(ops.post("/models/lightgbm/promote", json={"version": "x", "extra": 1}, headers=KEY), 400)
    assert_error(ops.post("/models/lightgbm/promote", json={}, headers=KEY), 400, "invalid_value")
    assert_error(ops.post("/models/lightgbm/promote", data="x", headers=KEY), 415)
    assert_error(ops.delete("/models/lightgbm/versions/..", headers=KEY), 404, "unknown_version")
    assert_error(ops.delete("/models/ensemble/versions/x", headers=KEY), 404, "unknown_version")


def test_management_is_off_without_an_api_key(synthetic_dir, models):
    c = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": models, "offline": True,
                    "models_poll_s": 0}).test_client()
    assert c.get("/models/ensemble/versions").status_code == 200
    assert_error(c.post("/models/ensemble/promote", json={"version": OLDER}), 403, "management_disabled")
    assert_error(c.delete(f"/models/ensemble/versions/{OLDER}"), 403, "management_disabled")


def test_a_corrupt_version_is_refused_and_a_corrupt_current_leaves_the_previous_serving(ops, models):
    served = predicted_version(ops, "xgboost")
    folder = corrupt(clone_version(models, "1h", "xgboost"))
    error = assert_error(ops.post("/models/xgboost/promote", json={"version": OLDER}, headers=KEY), 409,
                         "version_unusable")
    assert "checksum mismatch" in error["message"] and "/" not in error["message"]
    write_atomic_text(models / "1h" / "xgboost" / CURRENT, folder.name + "\n")  # a bad copy, straight to CURRENT
    reload = ops.post("/models/reload", headers=KEY).get_json()
    assert reload["reloaded"] and reload["announced"] and reload["models"]["ready"] == len(MODEL_IDS)
    assert reload["refused"] and reload["refused"][0].startswith("xgboost (1h): version " + OLDER)
    status = ops.get("/models/xgboost/status").get_json()
    assert status["status"] == "ready" and status["model_version"] == served
    assert OLDER in status["load_error"] and "still serving" in status["load_error"]
    assert predicted_version(ops, "xgboost") == served
    listing = ops.get("/models/xgboost/versions").get_json()
    assert listing["serving"] == served and listing["current"] == OLDER
    assert {v["version"]: v["status"] for v in listing["versions"]} == {served: "serving", OLDER: "refused"}
    health = ops.get("/health").get_json()
    assert health["status"] == "degraded" and any("xgboost (1h)" in w for w in health["warnings"])
    assert_error(ops.delete(f"/models/xgboost/versions/{served}", headers=KEY), 409, "version_serving")


def test_a_reload_that_finds_nothing_loadable_changes_nothing(ops, models):
    shutil.rmtree(models)
    models.mkdir()
    reload = ops.post("/models/reload", headers=KEY).get_json()
    assert reload["reloaded"] is False and "holds no trained model" in reload["reason"]
    assert reload["models"]["ready"] == len(MODEL_IDS) and predicted_version(ops)
    health = ops.get("/health").get_json()
    assert health["models_loaded"] == len(MODEL_IDS) and reload["reason"] in health["warnings"]
    assert not any("/" in w.split("MODELS_DIR")[-1] for w in health["warnings"] if "MODELS_DIR" in w)


def test_serving_figures_count_every_request(ops):
    for _ in range(3):
        predicted_version(ops, "cnn_standard")
    ops.post("/predict/single", json={"symbol": "NOPE", "model": "cnn_standard"})  # a client's typo
    serving = ops.get("/models/cnn_standard/status").get_json()["serving"]
    assert serving["requests"] == 4 and serving["errors"] == 0 and serving["refused"] == 1
    assert 0 < serving["p50_ms"] <= serving["p95_ms"]


def test_the_document_and_cors_cover_every_management_endpoint(ops):
    doc = ops.get("/openapi.json").get_json()
    paths = doc["paths"]
    assert "security" not in paths["/models/{id}/versions"]["get"]
    for path, method in [("/models/{id}/promote", "post"), ("/models/{id}/versions/{version}", "delete"),
                         ("/models/reload", "post")]:
        op = paths[path][method]
        assert op["security"] == [{"apiKey": []}] and {"401", "403"} <= set(op["responses"])
    assert "409" in paths["/models/{id}/versions/{version}"]["delete"]["responses"]
    assert {p["name"] for p in paths["/models/{id}/versions/{version}"]["delete"]["parameters"]} == {
        "id", "version", "timeframe"}
    managed = {re.sub(r"\{[^}]+\}", "x", path) for path, operations in paths.items()
               for op in operations.values() if op.get("security")}
    patterns = [re.compile(p) for p in management_patterns(ops.application)]
    assert len(patterns) == len(managed) and all(any(p.match(path) for p in patterns) for path in managed)
    refused = ops.post("/models/lightgbm/promote", json={"version": OLDER}, headers={**KEY, "Origin": "https://x.example"})
    assert_error(refused, 403, "cross_origin_refused")
