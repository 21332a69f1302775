"""Explanations at the model level: a booster's contributions are its own exact ones (with the bias they
sum to the calibrated logit), a served network's gradient x input (finite differences through its ONNX
graph) agrees with torch's autograd, attention networks give a distribution over the window's candles
from their attention graph as torch computes it, and every version trained now keeps its importance."""

from __future__ import annotations

import numpy as np
import pytest

from coinpredict.features.pipeline import FeatureSet
from coinpredict.models.artifacts import IMPORTANCE_FILE, current_dir, load_model, read_importance
from coinpredict.models.base import read_manifest, sigmoid
from coinpredict.models.explain import BOOSTER_METHOD, NETWORK_METHOD, contributions, gradient_x_input
from coinpredict.models.exported import ATTENTION_GRAPH, ExportedNetwork
from coinpredict.models.registry import MODEL_IDS, MODEL_SPECS

NETWORKS = [m for m in MODEL_IDS if MODEL_SPECS[m].kind == "neural"]
ATTENTION_MODELS = ["gru_attention", "transformer_standard", "transformer_timeseries", "transformer_informer"]


def inputs(model, manifest: dict, n: int = 12) -> np.ndarray:
    rng = np.random.default_rng(3)
    shape = (n, model.n_features_in_) if model.input_kind == "table" else (n, manifest.window, model.n_features_in_)
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("library", ["xgboost", "lightgbm", "catboost"])
def test_booster_contributions_sum_to_its_logit(trained_dir, library):
    model, manifest = load_model(trained_dir, "1h", library)
    fs = FeatureSet(tuple(manifest.feature_names))
    x = inputs(model, manifest)
    for column in range(model.n_outputs_):
        got = contributions(model, x, column, fs)
        a, b = model.calibration_[column]
        assert got.method == BOOSTER_METHOD and got.values.shape == (len(x), model.n_features_in_)
        assert len(got.names) == model.n_features_in_
        logit = a * model.decision_function(x)[:, column] + b
        np.testing.assert_allclose(got.base + got.values.sum(axis=1), logit, rtol=0, atol=1e-5)
        np.testing.assert_allclose(sigmoid(got.logit), model.predict_proba(x)[:, column], rtol=0, atol=1e-6)
        assert np.ptp(got.values) > 0  # the trees use the inputs: not all contributions are zero


@pytest.mark.parametrize("model_id", NETWORKS)
def test_a_served_networks_gradient_x_input_agrees_with_torch(trained_dir, model_id):
    served, manifest = load_model(trained_dir, "1h", model_id)
    in_torch, _ = load_model(trained_dir, "1h", model_id, runtime="torch")
    assert isinstance(served, ExportedNetwork)
    fs = FeatureSet(tuple(manifest.feature_names))
    x = inputs(served, manifest)
    got = contributions(served, x, 0, fs)  # finite differences through the ONNX graph
    exact = contributions(in_torch, x, 0, fs)  # autograd
    assert got.method == exact.method == NETWORK_METHOD
    assert got.values.shape == (len(x), len(fs.names)) and got.base is None
    np.testing.assert_allclose(sigmoid(got.logit), served.predict_proba(x)[:, 0], atol=1e-6)
    scale = np.abs(exact.values).max(axis=1, keepdims=True)
    assert np.abs(got.values - exact.values).max() / scale.max() < 0.15
    large = np.abs(exact.values) > 0.2 * scale  # the features an explanation shows
    assert large.any() and np.all(np.sign(got.values[large]) == np.sign(exact.values[large]))


def test_finite_differences_match_a_known_gradient():
    """On a model whose gradient is known (linear in the window), each feature's contribution is exactly
    its weight times the feature summed over the window."""

    class Linear:
        n_outputs_ = 1

        def __init__(self, w):
            self.w = w

        def decision_function(self, x):
            return (x * self.w).sum(axis=(1, 2))[:, None]

    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 5)).astype(np.float32)
    x = rng.standard_normal((3, 8, 5)).astype(np.float32)
    grads, logits = gradient_x_input(Linear(w), x, 0)
    np.testing.assert_allclose(grads, (x * w).sum(axis=1), rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(logits, (x * w).sum(axis=(1, 2)), rtol=1e-5)


@pytest.mark.parametrize("model_id", ATTENTION_MODELS)
def test_attention_networks_attend_over_the_window_as_torch_does(trained_dir, model_id):
    served, manifest = load_model(trained_dir, "1h", model_id)
    in_torch, _ = load_model(trained_dir, "1h", model_id, runtime="torch")
    assert ATTENTION_GRAPH in manifest.files
    x = inputs(served, manifest)
    got = served.attention(x)
    assert got.shape == (len(x), manifest.window) and np.all(got >= 0)
    np.testing.assert_allclose(got.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(got, in_torch.attention(x), atol=1e-5)


def test_networks_without_attention_have_none(trained_dir):
    served, manifest = load_model(trained_dir, "1h", "cnn_standard")
    assert ATTENTION_GRAPH not in manifest.files and served.attention(inputs(served, manifest)) is None


@pytest.mark.parametrize("model_id", ["xgboost", "gru_attention"])
def test_every_version_keeps_its_global_importance(trained_dir, model_id):
    folder = current_dir(trained_dir, "1h", model_id)
    manifest = read_manifest(folder)
    assert IMPORTANCE_FILE in manifest.files  # checksummed with the version
    found = read_importance(folder, manifest)
    assert found["method"] == (BOOSTER_METHOD if model_id == "xgboost" else NETWORK_METHOD) and found["rows"] > 0
    assert set(found["by_horizon"]) == {str(h) for h in manifest.horizons}
    top = next(iter(found["by_horizon"].values()))
    sizes = [f["mean_abs_contribution"] for f in top]
    assert 0 < len(top) <= 20 and sizes == sorted(sizes, reverse=True) and sizes[0] > 0
    assert read_importance(folder, manifest.with_fields(files={})) is None  # a version saved before: none
