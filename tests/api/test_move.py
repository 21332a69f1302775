"""The ``move`` part of every answer: from the move model when the timeframe serves one, from the rule
otherwise (an old model folder), quantiles ordered and finite on awkward candles; the list shows the
move model apart from the 19."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from coinpredict.common.signals import expected_move_bps
from coinpredict.models.move import QUANTILE_NAMES

N_DIRECTION_MODELS = 19


def _objects(c):
    return [{"t": int(t), "o": o, "h": h, "l": lo, "c": cl, "v": v}
            for t, o, h, lo, cl, v in zip(c.t, c.open, c.high, c.low, c.close, c.volume)]


@pytest.fixture()
def sol(app):
    return app.extensions["coinpredict"].market.candles("SOLUSDT", "1h", 500)


def _ordered_and_finite(move: dict) -> None:
    q = [move["quantiles_bps"][name] for name in QUANTILE_NAMES]
    assert all(math.isfinite(v) for v in q) and math.isfinite(move["expected_bps"]), move
    assert q == sorted(q), move
    assert move["expected_bps"] >= 0


def _gaps(objects):
    return objects[:200] + objects[230:480] + objects[483:]


def _flat(objects):
    price = objects[-250]["c"]
    return objects[:-250] + [{**c, "o": price, "h": price, "l": price, "c": price} for c in objects[-250:]]


def _spike(objects):
    last = objects[-1]
    return objects[:-1] + [{**last, "h": last["h"] * 100, "c": last["c"] * 100}]


@pytest.mark.parametrize("alter", [_gaps, _flat, _spike], ids=["gaps", "flat", "spike_100x"])
def test_quantiles_ordered_and_finite_on_awkward_candles(client, sol, alter):
    candles = alter(_objects(sol))
    for horizon in (1, 4, 24):
        got = client.post("/predict/single", json={"symbol": "SOL", "model": "lightgbm", "horizon": horizon,
                                                   "candles": candles})
        assert got.status_code == 200, got.get_json()
        body = got.get_json()
        assert body["move"]["source"] == "model"
        _ordered_and_finite(body["move"])
        assert body["expected_move_bps"] == body["move"]["expected_bps"]


def test_every_answer_carries_the_move_and_its_edge(client, synthetic_now):
    """Ensemble, batch and top100 answers carry ``move``; edge_bps is (2p - 1) x the model's expected move."""
    single = client.post("/predict/single", json={"symbol": "ETH"}).get_json()
    batch = client.post("/predict/batch", json={"items": [{"symbol": "BTC"}, {"symbol": "SOL", "model": "xgboost"}]})
    top = client.get("/predict/top100?limit=3").get_json()
    answers = [single, *batch.get_json()["results"], *top["results"]]
    for body in answers:
        assert body["move"]["source"] == "model"
        _ordered_and_finite(body["move"])
        p = body["probability_up"]
        assert body["edge_bps"] == pytest.approx((2 * p - 1) * body["move"]["expected_bps"], abs=0.02)
        q = body["move"]["quantiles_bps"]
        assert (q["q50"] > 0) == (p > 0.5) or abs(q["q50"]) < 0.02  # centred on probability_up


def test_models_list_shows_the_move_model_apart(client):
    body = client.get("/models/list").get_json()
    assert body["count"] == N_DIRECTION_MODELS and "move" not in {m["id"] for m in body["models"]}
    assert body["move"]["id"] == "move" and body["move"]["kind"] == "move_size"
    assert body["move"]["status"] == "ready" and body["move"]["timeframes"] == ["1h"]
    assert body["move"]["model_version"]
    assert "move" not in body["ensemble"].get("members", [])


@pytest.fixture(scope="module")
def without_move(trained_dir, tmp_path_factory):
    """A copy of the smoke models as a folder trained before the move model existed."""
    models = tmp_path_factory.mktemp("models-no-move")
    shutil.copytree(trained_dir, models, dirs_exist_ok=True)
    shutil.rmtree(models / "1h" / "move")
    return models


def test_an_old_model_folder_serves_the_rule(synthetic_dir, without_move, synthetic_now):
    from coinpredict import create_app

    app = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": without_move, "offline": True})
    client = app.test_client()
    candles = app.extensions["coinpredict"].market.candles("SOLUSDT", "1h", 500)
    for horizon in (1, 24):
        body = client.post("/predict/single", json={"symbol": "SOL", "horizon": horizon}).get_json()
        move = body["move"]
        assert move["source"] == "rule" and move["model_version"] is None
        rule = float(expected_move_bps(candles.close, np.array([len(candles) - 1]), horizon=horizon)[0])
        assert body["expected_move_bps"] == move["expected_bps"] == round(rule, 2)
        _ordered_and_finite(move)
    listed = client.get("/models/list").get_json()
    assert listed["move"]["status"] == "not_trained" and listed["count"] == N_DIRECTION_MODELS


def test_a_move_model_that_does_not_load_leaves_the_answers_on_the_rule(synthetic_dir, trained_dir, tmp_path,
                                                                        synthetic_now):
    from coinpredict import create_app
    from coinpredict.models.artifacts import current_dir

    models = tmp_path / "models"
    shutil.copytree(trained_dir, models)
    weights = current_dir(models, "1h", "move") / "move-h0.txt"
    weights.write_text(weights.read_text()[:-200])  # damaged on disk: its checksum no longer matches
    client = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": models,
                         "offline": True}).test_client()
    body = client.post("/predict/single", json={"symbol": "SOL"}).get_json()
    assert body["move"]["source"] == "rule" and body["probability_up"] > 0
    listed = client.get("/models/list").get_json()["move"]
    assert listed["status"] == "failed" and listed["timeframes"] == []
