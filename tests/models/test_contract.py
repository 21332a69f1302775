"""One contract test run over every registered model id: trains on a small slice with a planted
signal per horizon (two outputs, each following its own column), both validation losses fall, save then
load gives identical predictions."""

from __future__ import annotations

import numpy as np
import pytest

from coinpredict.features.datasets import PooledData
from coinpredict.features.pipeline import FeatureSet
from coinpredict.models.artifacts import load_model
from coinpredict.models.base import DataView
from coinpredict.models.manifest import Manifest
from coinpredict.models.options import TrainConfig
from coinpredict.models.registry import MODEL_IDS, MODEL_SPECS, create_model
from coinpredict.training.artifacts import save_model

FEATURES = FeatureSet(("ret_z", "vol_z", "signal", "signal_b", "noise_b", "noise_c"))
HORIZONS = (1, 4)
WINDOW = 12


@pytest.fixture(scope="module")
def planted():
    """Horizon 1 follows the 'signal' column at t, horizon 4 the opposite of 'signal_b' (plus noise):
    any model that learns each head beats log(2) on both."""
    rng = np.random.default_rng(0)
    n = 6000
    x = rng.standard_normal((n, len(FEATURES))).astype(np.float32)
    y = np.column_stack([x[:, 2] + 0.7 * rng.standard_normal(n) > 0,
                         -x[:, 3] + 0.7 * rng.standard_normal(n) > 0]).astype(np.float32)
    can_end = np.zeros(n, bool)
    can_end[30:] = True
    data = PooledData(FEATURES, WINDOW, x, np.arange(n, dtype=np.int64) * 3_600_000, np.ones(n), y,
                      np.zeros(n, np.int32), ["XUSDT"], can_end, HORIZONS)
    ends = np.arange(30, n)
    return DataView(data, ends[:4500]), DataView(data, ends[4600:])


def _fit(model, train, valid):
    if model.input_kind == "table":
        return model.fit(train, valid, rounds=60, seed=0)
    return model.fit(train, valid, config=TrainConfig(epochs=4, samples_per_epoch=4096, batch_size=128,
                                                      max_valid=1000, patience=3, lr=3e-3, progress=False))


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_model_contract(model_id, planted, tmp_path):
    train, valid = planted
    model = create_model(model_id)
    assert model.family == MODEL_SPECS[model_id].family
    assert not hasattr(model, "n_features_in_")  # nothing learned before fit
    assert _fit(model, train, valid) is model
    model.calibrate(valid)
    x = valid.inputs(model.input_kind)
    p = model.predict_proba(x)
    assert p.shape == (len(valid), len(HORIZONS)) and np.all((p > 0) & (p < 1))
    y = valid.labels
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=0)
    assert np.all(loss < 0.64), f"validation log loss {loss} did not fall below chance (0.693) on every horizon"
    assert np.corrcoef(p[:, 0], p[:, 1])[0, 1] < 0.5  # two heads, not one answer twice
    if model.input_kind == "sequence":
        losses = [h["valid_loss"] for h in model.history_]
        assert min(losses) < 0.66
    manifest = Manifest(feature_names=list(FEATURES.names), feature_hash=FEATURES.hash, window=WINDOW, horizon=1,
                        horizons=list(HORIZONS), scaler={"mean": [0.0] * 6, "std": [1.0] * 6})
    save_model(model, tmp_path, "1h", manifest)
    loaded, saved = load_model(tmp_path, "1h", model_id)
    np.testing.assert_allclose(loaded.predict_proba(x), p, rtol=1e-5, atol=1e-6)
    assert saved.version and saved.describe["id"] == model_id
    assert loaded.describe()["family"] == model.family


@pytest.mark.parametrize("model_id", [m for m in MODEL_IDS if MODEL_SPECS[m].kind == "boosting"])
def test_booster_refit_on_train_and_validation_keeps_rounds_and_calibration(model_id, planted, tmp_path):
    train, valid = planted
    model = _fit(create_model(model_id), train, valid).calibrate(valid)
    rounds, calibration = model.rounds_used(), model.calibration_
    x = valid.inputs("table")
    before = model.predict_proba(x)
    model.refit(train, valid, max_rows=3000, seed=0)
    assert model.rounds_used() == rounds and model.calibration_ == calibration
    assert model.history_[-1] == {"refit_rows": 3000, "refit_rounds": rounds}
    after = model.predict_proba(x)
    assert not np.allclose(after, before)
    assert np.corrcoef(after[:, 0], valid.labels[:, 0])[0, 1] > 0.3  # still the planted signals
    assert np.corrcoef(after[:, 1], valid.labels[:, 1])[0, 1] > 0.3
    manifest = Manifest(feature_names=list(FEATURES.names), feature_hash=FEATURES.hash, window=WINDOW, horizon=1,
                        scaler={"mean": [0.0] * 6, "std": [1.0] * 6})
    save_model(model, tmp_path, "1h", manifest)
    loaded, _ = load_model(tmp_path, "1h", model_id)
    np.testing.assert_allclose(loaded.predict_proba(x), after, rtol=1e-5, atol=1e-6)
