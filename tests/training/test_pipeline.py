"""The training pipeline: one fit signature for every family, the time split with its embargo,
versions written atomically, and an ensemble refit from stored validation predictions."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from coinpredict.common.times import iso, to_ms
from coinpredict.data.sources.csvdir import load_folder
from coinpredict.data.timeframes import TIMEFRAME_MS
from coinpredict.models.artifacts import CURRENT, current_dir, load_manifest
from coinpredict.models.base import read_manifest
from coinpredict.models.options import FitOptions, TrainConfig
from coinpredict.models.registry import MODEL_IDS, create_model
from coinpredict.training.artifacts import save_version
from coinpredict.training.pipeline import PROFILES, make_split, train_models
from tests.conftest import SYNTHETIC_END_MS


@pytest.fixture()
def models(trained_dir, tmp_path):
    target = tmp_path / "models"
    shutil.copytree(trained_dir, target)
    return target


@pytest.fixture(scope="module")
def split(synthetic_dir):
    series = load_folder(synthetic_dir, "1h")
    return make_split(series, "1h", PROFILES["smoke"], (1, 4, 24), SYNTHETIC_END_MS)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_gives_the_options_every_family_takes(name):
    opts = FitOptions.of(PROFILES[name].fit_options(seed=3))
    assert opts.seed == 3 and isinstance(opts.config, TrainConfig) and opts.rounds == PROFILES[name].boost_rounds


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_every_family_refuses_an_unknown_fit_option(model_id, split):
    with pytest.raises(TypeError, match="unknown fit options: epochs"):
        create_model(model_id).fit(split.train, split.valid, epochs=3)


def test_the_split_keeps_an_embargo_and_the_end_exclusive(split):
    data, profile = split.data, PROFILES["smoke"]
    last_train, first_valid = data.t[split.train.ends].max(), data.t[split.valid.ends].min()
    assert first_valid - last_train > (profile.window + 1) * TIMEFRAME_MS["1h"]
    assert data.t[split.valid.ends].max() < SYNTHETIC_END_MS
    assert split.ranges["end_exclusive"] == iso(SYNTHETIC_END_MS)
    assert to_ms(split.ranges["train"][1]) == last_train
    assert np.nanmax(np.abs(np.nanmean(data.features[split.train.ends], axis=0))) < 0.1  # scaled on training rows


def test_a_new_version_keeps_the_old_and_moves_the_pointer(models):
    root = models / "1h" / "xgboost"
    before = current_dir(models, "1h", "xgboost")
    manifest = read_manifest(before)

    def write_weights(directory):
        shutil.copy(before / "model.json", directory / "model.json")
        return ["model.json"]

    save_version(models, "1h", "xgboost", manifest.with_fields(note="newer"), write_weights)
    after = current_dir(models, "1h", "xgboost")
    assert after != before and before.is_dir() and (root / CURRENT).read_text().strip() == after.name
    assert not list(root.glob(".tmp-*"))


def test_ensemble_refit_alone_uses_the_members_stored_validation_predictions(models, synthetic_dir):
    """Boosters are refit on validation rows after being validated; re-predicting them there would
    be in-sample. An ensemble trained on its own must reach exactly the figures of the full run."""
    _, first = load_manifest(models, "1h", "ensemble")
    _, booster = load_manifest(models, "1h", "lightgbm")
    assert booster.training["refit_on_train_and_validation"] and "validation_probs.npy" in booster.files
    train_models(data_dir=synthetic_dir, timeframe="1h", end=iso(SYNTHETIC_END_MS), models_dir=models,
                 profile="smoke", model_ids=["ensemble"])
    _, again = load_manifest(models, "1h", "ensemble")
    assert again.ensemble["validation_log_loss"] == first.ensemble["validation_log_loss"]
    assert again.validation["auc"] == first.validation["auc"]
    for manifest in (first, booster):  # validation AUC comes with its interval, for every horizon
        for m in manifest.metrics["validation_by_horizon"].values():
            assert m["auc_ci95"][0] < m["auc"] < m["auc_ci95"][1], m


def test_networks_see_fewer_windows_per_epoch_on_longer_candles():
    base = PROFILES["default"]
    samples = {tf: base.for_timeframe(tf).train.samples_per_epoch for tf in ("15m", "1h", "4h", "1d")}
    assert samples["15m"] == samples["1h"] == base.train.samples_per_epoch
    assert samples["4h"] == int(base.train.samples_per_epoch / 4 ** 0.75) and samples["1d"] < samples["4h"]
    assert base.for_timeframe("1d").train.epochs == base.train.epochs and base.train.samples_per_epoch == samples["1h"]


def test_training_a_subset_of_coins_still_reads_the_market_context(synthetic_dir, tmp_path, monkeypatch):
    """The anchor's candles come from the folder even when the symbols trained do not include it, with
    the same time bounds; the context columns are filled on the coin's rows."""
    from coinpredict.training import split as split_module

    seen = {}
    real = split_module.make_split

    def spy(series, timeframe, profile, horizon, end_ms, anchors=None, **kw):
        seen["anchors"], seen["split"] = anchors, real(series, timeframe, profile, horizon, end_ms, anchors, **kw)
        return seen["split"]

    monkeypatch.setattr(split_module, "make_split", spy)
    start = iso(SYNTHETIC_END_MS - 60 * 86_400_000)
    results = train_models(data_dir=synthetic_dir, timeframe="1h", end=iso(SYNTHETIC_END_MS), start=start,
                           models_dir=tmp_path / "models", profile="smoke", model_ids=["lightgbm"],
                           symbols=["SOLUSDT"])
    assert set(seen["anchors"]) == {"BTCUSDT"} and results["lightgbm"].valid_auc > 0
    btc = seen["anchors"]["BTCUSDT"]
    assert btc.t[0] >= to_ms(start) and btc.t[-1] < SYNTHETIC_END_MS
    data = seen["split"].data
    assert data.symbols == ["SOLUSDT"] and "btc_ret_1" in data.feature_set.names
    btc_ret = data.features[seen["split"].train.ends, data.feature_set.names.index("btc_ret_1")]
    assert np.std(btc_ret) > 0.5  # scaled, and filled (a missing anchor would leave only zeros)
    _, manifest = load_manifest(tmp_path / "models", "1h", "lightgbm")
    assert "btc_excess_24" in manifest.feature_names
