"""Every default timeframe and horizon answers (API.md): 1h 1/4/24, 4h 1/6, 1d 1/7; anything else is
a 404 ``not_trained`` that lists what is trained. Models are smoke-trained on synthetic candles: 1h
(all 19 and the ensemble) from the session fixture, 4h and 1d (a booster, a network and the
ensemble) here."""

from __future__ import annotations

import shutil

import pytest

from coinpredict.common.times import iso
from coinpredict.data.sources.synthetic import SyntheticSource
from coinpredict.data.timeframes import DEFAULT_HORIZONS
from coinpredict.models.registry import ENSEMBLE_ID
from tests.conftest import SYNTHETIC_END_MS, SYNTHETIC_SYMBOLS, write_ohlcv_csv

PAIRS = [(tf, h) for tf, horizons in DEFAULT_HORIZONS.items() for h in horizons]
FEW = ["lightgbm", "gru_standard", ENSEMBLE_ID]
HISTORY = {"4h": 1500, "1d": 1100}  # the smoke profile validates on at least 400 candles


@pytest.fixture(scope="module")
def every_timeframe(synthetic_dir, trained_dir, tmp_path_factory):
    from coinpredict.training.pipeline import train_models

    data = tmp_path_factory.mktemp("ohlcv-all")
    shutil.copytree(synthetic_dir / "1h", data / "1h")
    source = SyntheticSource(SYNTHETIC_SYMBOLS, seed=5, clock=lambda: SYNTHETIC_END_MS / 1000)
    for tf, n in HISTORY.items():
        for symbol in SYNTHETIC_SYMBOLS:
            write_ohlcv_csv(data / tf / f"{symbol}.csv", source.fetch(symbol, tf).last(n))
    models = tmp_path_factory.mktemp("models-all")
    shutil.copytree(trained_dir, models, dirs_exist_ok=True)
    for tf in HISTORY:
        train_models(data_dir=data, timeframe=tf, end=iso(SYNTHETIC_END_MS), models_dir=models, profile="smoke",
                     model_ids=FEW)
    return data, models


@pytest.fixture(scope="module")
def client(every_timeframe):
    from coinpredict import create_app

    data, models = every_timeframe
    return create_app({"TESTING": True, "ohlcv_dir": data, "models_dir": models, "offline": True}).test_client()


@pytest.mark.parametrize(("timeframe", "horizon"), PAIRS)
@pytest.mark.parametrize("model", ["lightgbm", ENSEMBLE_ID])
def test_each_default_timeframe_and_horizon_answers(client, timeframe, horizon, model):
    r = client.post("/predict/single", json={"symbol": "btc", "timeframe": timeframe, "horizon": horizon,
                                             "model": model})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["timeframe"], body["horizon"], body["symbol"]) == (timeframe, horizon, "BTCUSDT")
    assert 0 < body["probability_up"] < 1 and body["expected_move_bps"] > 0


def test_horizons_are_different_outputs_and_the_first_is_the_default(client):
    answers = {h: client.post("/predict/single", json={"symbol": "ETH", "model": "gru_standard", "horizon": h})
               .get_json() for h in (None, 1, 4, 24)}
    assert answers[None]["horizon"] == 1 and answers[None]["probability_up"] == answers[1]["probability_up"]
    assert len({answers[h]["probability_up"] for h in (1, 4, 24)}) == 3
    # the expected move grows with the horizon: the move model's per horizon (the rule's grows with its sqrt)
    moves = [answers[h]["move"] for h in (1, 4, 24)]
    assert [m["source"] for m in moves] == ["model"] * 3
    assert moves[0]["expected_bps"] < moves[1]["expected_bps"] < moves[2]["expected_bps"]
    assert [answers[h]["expected_move_bps"] for h in (1, 4, 24)] == [m["expected_bps"] for m in moves]


@pytest.mark.parametrize(("body", "field"), [
    ({"timeframe": "4h", "horizon": 4}, "horizon"),
    ({"timeframe": "1d", "horizon": 24, "model": "lightgbm"}, "horizon"),
    ({"timeframe": "2h"}, "timeframe"),
    ({"timeframe": "4h", "model": "catboost"}, "model"),
])
def test_what_is_not_trained_is_a_404_listing_what_is(client, body, field):
    r = client.post("/predict/single", json={"symbol": "BTCUSDT", **body})
    assert r.status_code == 404
    error = r.get_json()["error"]
    assert error["code"] == "not_trained" and error["field"] == field
    trained = error["details"]["trained"]
    assert {tf: v["horizons"] for tf, v in trained.items()} == {tf: list(h) for tf, h in DEFAULT_HORIZONS.items()}


def test_batch_items_take_their_own_horizon_and_match_single_answers(client):
    items = [{"symbol": "BTC", "timeframe": tf, "horizon": h, "model": "lightgbm"} for tf, h in PAIRS]
    items.append({"symbol": "BTC", "timeframe": "4h", "horizon": 5})
    results = client.post("/predict/batch", json={"items": items}).get_json()["results"]
    for item, result in zip(items[:-1], results):
        single = client.post("/predict/single", json=item).get_json()
        assert result["horizon"] == item["horizon"] and result["probability_up"] == single["probability_up"]
    assert results[-1]["error"]["code"] == "not_trained"


def test_top100_ranks_at_the_horizon_asked_for(client, synthetic_now):
    body = client.get("/predict/top100?timeframe=1h&horizon=24&limit=3").get_json()
    assert body["horizon"] == 24 and body["count"] == 3 and {r["horizon"] for r in body["results"]} == {24}
    r = client.get("/predict/top100?timeframe=4h&horizon=4")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_trained"
    assert client.get("/predict/top100?horizon=0").status_code == 400


def test_symbols_and_status_list_the_trained_horizons(client):
    trained = client.get("/symbols?timeframe=4h").get_json()["trained"]
    assert trained["4h"] == {"horizons": [1, 6], "models": 2} and trained["1h"]["horizons"] == [1, 4, 24]
    status = client.get("/models/lightgbm/status").get_json()
    assert status["horizons"] == [1, 4, 24] and set(status["metrics"]["validation_by_horizon"]) == {"1", "4", "24"}
