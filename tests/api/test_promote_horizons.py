"""A version trained on other horizons than the served ones (``"horizons": [2]`` on 1h): its promotion
is refused with 409 ``incompatible_version`` unless forced; whatever is served (forced, or CURRENT
switched by hand), no request gets a 500 or an answer at a horizon it did not ask for: the ensemble
lists the member under ``failed_members`` and answers from the rest, a single-model request at the
default horizon is a 404 ``not_trained``. The versions list shows each version's profile and horizons."""

from __future__ import annotations

import shutil

import pytest

from coinpredict import create_app
from coinpredict.common.files import write_atomic_text
from coinpredict.models.artifacts import CURRENT, version_folder
from tests.api.test_endpoints import assert_error

KEY = {"X-API-Key": "k"}


@pytest.fixture()
def setup(with_other_horizons, synthetic_dir, tmp_path):
    source, other = with_other_horizons
    models = tmp_path / "models"
    shutil.copytree(source, models)
    app = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": models, "offline": True,
                      "api_key": "k", "models_poll_s": 0})
    return app.test_client(), models, other


def predict(c, **body):
    return c.post("/predict/single", json={"symbol": "BTC", **body})


def test_promoting_it_is_a_409_that_says_which_horizons_it_has_and_which_are_served(setup):
    c, _, other = setup
    served = predict(c, model="lightgbm").get_json()["model_version"]
    error = assert_error(c.post("/models/lightgbm/promote", json={"version": other}, headers=KEY), 409,
                         "incompatible_version")
    assert error["field"] == "version" and error["details"] == {"horizons": [2], "served_horizons": [1, 4, 24]}
    assert "predicts horizons 2" in error["message"] and "serves horizons 1, 4, 24" in error["message"]
    assert "/" not in error["message"]
    assert predict(c, model="lightgbm").get_json()["model_version"] == served
    listing = c.get("/models/lightgbm/versions").get_json()
    assert listing["current"] == served


def test_forced_it_is_served_with_the_default_horizon_intact(setup):
    c, _, other = setup
    forced = c.post("/models/lightgbm/promote", json={"version": other, "force": True}, headers=KEY)
    assert forced.status_code == 200 and forced.get_json()["serving"] == other
    assert_serving_stays_safe(c, other)


def test_a_current_switched_by_hand_never_gives_a_500(setup):
    c, models, other = setup
    write_atomic_text(models / "1h" / "lightgbm" / CURRENT, version_folder(other) + "\n")
    assert c.post("/models/reload", headers=KEY).get_json()["reloaded"]
    assert_serving_stays_safe(c, other)


def assert_serving_stays_safe(c, other: str) -> None:
    """lightgbm serves ``other`` (horizon 2 only) while the ensemble serves 1, 4 and 24."""
    for horizon in (None, 4):
        r = predict(c) if horizon is None else predict(c, horizon=horizon)
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert body["horizon"] == (horizon or 1) and "lightgbm" not in body["members"] and body["members"]
        reason = body["failed_members"]["lightgbm"]
        assert f"version {other} predicts horizons 2, not {horizon or 1}" in reason
    error = assert_error(predict(c, model="lightgbm"), 404, "not_trained")
    assert error["field"] == "horizon" and "predicts horizons 2" in error["message"]
    assert error["details"]["trained"]["1h"]["horizons"] == [1, 2, 4, 24]
    own = predict(c, model="lightgbm", horizon=2)
    assert own.status_code == 200 and own.get_json()["horizon"] == 2 and own.get_json()["model_version"] == other
    assert_error(predict(c, horizon=2), 404, "not_trained")  # the ensemble was not trained at 2
    items = [{"symbol": "BTC"}, {"symbol": "ETH", "model": "lightgbm"}, {"symbol": "ETH", "model": "lightgbm",
                                                                          "horizon": 2}]
    results = c.post("/predict/batch", json={"items": items}).get_json()["results"]
    assert results[0]["horizon"] == 1 and "lightgbm" in results[0]["failed_members"]
    assert results[1]["error"]["code"] == "not_trained" and results[2]["horizon"] == 2
    top = c.get("/predict/top100?limit=3")
    assert top.status_code == 200 and top.get_json()["horizon"] == 1
    assert_error(c.get("/predict/top100?model=lightgbm"), 404, "not_trained")
    listing = {v["version"]: v for v in c.get("/models/lightgbm/versions").get_json()["versions"]}
    assert listing[other]["status"] == "serving" and "lacks 1, 4, 24" in listing[other]["incompatible"]


def test_the_versions_list_shows_profile_and_horizons(setup):
    c, _, other = setup
    listing = c.get("/models/lightgbm/versions").get_json()
    rows = {v["version"]: v for v in listing["versions"]}
    served = rows[listing["serving"]]
    assert (served["profile"], served["horizons"], served["incompatible"]) == ("smoke", [1, 4, 24], None)
    assert (rows[other]["profile"], rows[other]["horizons"], rows[other]["status"]) == ("smoke", [2], "available")
    assert rows[other]["window"] == served["window"] == 16 and rows[other]["features"] == served["features"]
    ensemble = c.get("/models/ensemble/versions").get_json()["versions"][0]
    assert ensemble["horizons"] == [1, 4, 24] and ensemble["profile"] == "smoke" and ensemble["incompatible"] is None
