"""Every timeframe of the folder: `--timeframe all`, horizons per timeframe, and a timeframe too short for
the networks training its boosters alone and saying so."""

import json
from dataclasses import replace

import numpy as np
import pytest

from coinpredict import create_app
from coinpredict.cli.train import timeframes
from coinpredict.common.times import iso
from coinpredict.data.sources.csvdir import CsvFolderSource
from coinpredict.data.timeframes import DEFAULT_HORIZONS, TIMEFRAMES, default_horizons
from coinpredict.training import pipeline
from coinpredict.training.split import validation_length
from tests.conftest import SYNTHETIC_END_MS

HOUR = 3_600_000


def test_every_timeframe_has_horizons_and_the_default_ones_are_unchanged():
    assert {tf: default_horizons(tf) for tf in DEFAULT_HORIZONS} == DEFAULT_HORIZONS
    assert default_horizons("15m") == (1, 4, 16) and default_horizons("2h") == (1, 3, 12)
    assert all(default_horizons(tf)[0] == 1 for tf in TIMEFRAMES)


def test_all_is_every_timeframe_the_folder_has_or_aggregates(synthetic_dir):
    assert timeframes("all") == ["all"] and timeframes("default") == ["1h", "4h", "1d"]
    # an hourly folder: 1h itself and every timeframe that aggregates exactly from it, never 1m or 5m
    assert CsvFolderSource(synthetic_dir).trainable_timeframes() == ["1h", "2h", "4h", "1d", "1w"]


def test_validation_never_takes_more_than_a_third_of_the_usable_history():
    class Rows:  # the two arrays validation_length reads
        t = np.arange(300) * 7 * 24 * HOUR
        can_end = np.arange(300) >= 200

    week = 7 * 24 * HOUR
    end = int(Rows.t[-1]) + week
    length = validation_length(Rows, pipeline.PROFILES["default"], week, end)
    assert length == 100 * week // 3 // week * week  # not 400 weeks
    Rows.can_end = np.ones(300, bool)
    assert validation_length(Rows, pipeline.PROFILES["default"], week, end) == 100 * week  # a third of 300


@pytest.fixture()
def thin_profile(monkeypatch):
    """The smoke profile as if the folder had too little history for the networks."""
    monkeypatch.setitem(pipeline.PROFILES, "smoke", replace(pipeline.PROFILES["smoke"], min_network_windows=10**9))


def test_too_little_history_trains_the_boosters_and_says_why(synthetic_dir, tmp_path, thin_profile):
    models = tmp_path / "models"
    run = pipeline.train_models(data_dir=synthetic_dir, timeframe="1h", end=iso(SYNTHETIC_END_MS), models_dir=models,
                                profile="smoke", model_ids=["lightgbm", "gru_standard", "ensemble"])
    assert list(run.models) == ["lightgbm", "ensemble"] and list(run.skipped) == ["gru_standard"]
    why = run.skipped["gru_standard"]
    assert "too little history on 1h for the networks" in why and "need 1,000,000,000" in why
    assert run.to_dict()["skipped"] == {"gru_standard": why}
    assert json.loads((models / "1h" / "untrained.json").read_text()) == {"gru_standard": why}
    client = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": models,
                         "offline": True}).test_client()
    status = client.get("/models/gru_standard/status?timeframe=1h").get_json()
    assert status["status"] == "not_trained" and status["reason"] == why
    assert client.get("/models/lightgbm/status?timeframe=1h").get_json()["status"] == "ready"


def test_a_later_run_that_trains_the_model_clears_its_reason(synthetic_dir, tmp_path):
    models = tmp_path / "models"
    (models / "1h").mkdir(parents=True)
    (models / "1h" / "untrained.json").write_text(json.dumps({"lightgbm": "old", "lstm_standard": "old"}))
    run = pipeline.train_models(data_dir=synthetic_dir, timeframe="1h", end=iso(SYNTHETIC_END_MS), models_dir=models,
                                profile="smoke", model_ids=["lightgbm"])
    assert run.skipped == {} and list(run.models) == ["lightgbm"]
    assert json.loads((models / "1h" / "untrained.json").read_text()) == {"lstm_standard": "old"}
