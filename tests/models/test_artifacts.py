import json
import shutil

import numpy as np
import pytest

from coinpredict.errors import ArtifactError
from coinpredict.features.default import default_feature_set
from coinpredict.model_store import ModelStore
from coinpredict.models.ensemble import Ensemble
from coinpredict.models.registry import MODEL_IDS
from coinpredict.training.artifacts import CURRENT, current_dir, load_model


@pytest.fixture()
def models(trained_dir, tmp_path):
    target = tmp_path / "models"
    shutil.copytree(trained_dir, target)
    return target


def test_every_model_and_the_ensemble_were_trained_and_load(trained_dir):
    store = ModelStore(trained_dir).load_all()
    assert store.counts() == {"ready": 19, "failed": 0, "not_trained": 0}
    assert "1h" in store.ensembles
    manifest = store.get("1h", "gru_attention").manifest
    for key in ("feature_names", "feature_hash", "scaler", "window", "training", "metrics", "code_version", "files"):
        assert key in manifest
    assert manifest["feature_hash"] == default_feature_set("1h").hash


def test_a_new_version_keeps_the_old_and_moves_the_pointer(models):
    from coinpredict.training.artifacts import save_version

    root = models / "1h" / "xgboost"
    before = current_dir(models, "1h", "xgboost")
    manifest = json.loads((before / "manifest.json").read_text())

    def write_weights(directory):
        shutil.copy(before / "model.json", directory / "model.json")
        return ["model.json"]

    save_version(models, "1h", "xgboost", {**manifest, "note": "newer"}, write_weights)
    after = current_dir(models, "1h", "xgboost")
    assert after != before and before.is_dir() and (root / CURRENT).read_text().strip() == after.name
    assert not list(root.glob(".tmp-*"))


def test_corrupt_weights_are_refused_naming_the_file_and_others_still_load(models):
    weights = current_dir(models, "1h", "gru_standard") / "weights.safetensors"
    blob = bytearray(weights.read_bytes())
    blob[100:110] = b"\x00" * 10
    weights.write_bytes(bytes(blob))
    with pytest.raises(ArtifactError, match="weights.safetensors"):
        load_model(models, "1h", "gru_standard")
    store = ModelStore(models).load_all()
    assert store.get("1h", "gru_standard").status == "failed"
    assert "weights.safetensors" in store.get("1h", "gru_standard").reason
    assert store.counts()["ready"] == 18


def test_missing_weight_file_and_mismatched_features_are_refused(models):
    (current_dir(models, "1h", "lightgbm") / "model.txt").unlink()
    with pytest.raises(ArtifactError, match="model.txt"):
        load_model(models, "1h", "lightgbm")
    path = current_dir(models, "1h", "cnn_tcn") / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["feature_names"] = manifest["feature_names"][:-1]
    path.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="feature hash"):
        load_model(models, "1h", "cnn_tcn")


def test_shape_mismatch_is_refused(models):
    path = current_dir(models, "1h", "lstm_standard") / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["params"]["hidden"] = 7
    path.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="weights.safetensors"):
        load_model(models, "1h", "lstm_standard")


def test_ensemble_methods_and_missing_members():
    rng = np.random.default_rng(0)
    y = (rng.random(2000) > 0.5).astype(float)
    good = np.clip(0.5 + 0.2 * (y - 0.5) + 0.05 * rng.standard_normal(2000), 0.01, 0.99)
    members = {"c": rng.uniform(0.3, 0.7, 2000), "b": np.full(2000, 0.5), "a": good}
    ens = Ensemble(top_k=2).fit(members, y)
    assert ens.ranking_ == ["a", "b", "c"] and ens.best_ == "a"
    assert ens.weights_ == {"a": 0.5, "b": 0.5, "c": 0.0}
    out = ens.combine({k: v[:3] for k, v in members.items()})
    np.testing.assert_allclose(out["probability_up"], (good[:3] + 0.5) / 2)
    assert out["uncertainty"].shape == (3,) and out["weights"] == {"a": 0.5, "b": 0.5}
    partial = ens.combine({"b": members["b"][:3], "c": members["c"][:3]})  # a failed: c steps in
    assert partial["weights"] == {"b": 0.5, "c": 0.5}
    assert ens.combine({k: v[:3] for k, v in members.items()}, "best")["weights"] == {"a": 1.0}
    assert ens.combine({"b": members["b"][:3], "c": members["c"][:3]}, "best")["weights"] == {"b": 1.0}
    med = ens.combine({k: v[:3] for k, v in members.items()}, "median")["probability_up"]
    np.testing.assert_allclose(med, np.median(np.column_stack([members[k][:3] for k in "abc"]), axis=1))
    again = Ensemble.from_dict(ens.to_dict())
    assert again.ranking_ == ens.ranking_ and again.top_k == 2
    assert len(MODEL_IDS) == 19


def test_ensemble_refit_alone_uses_the_members_stored_validation_predictions(models, synthetic_dir):
    """Boosters are refit on validation rows after being validated; re-predicting them there would
    be in-sample. An ensemble trained on its own must reach exactly the figures of the full run."""
    from coinpredict.training.artifacts import load_manifest
    from coinpredict.training.pipeline import iso, train_models
    from tests.conftest import SYNTHETIC_END_MS

    _, first = load_manifest(models, "1h", "ensemble")
    _, booster = load_manifest(models, "1h", "lightgbm")
    assert booster["training"]["refit_on_train_and_validation"] and "validation_probs.npy" in booster["files"]
    train_models(data_dir=synthetic_dir, timeframe="1h", end=iso(SYNTHETIC_END_MS), models_dir=models,
                 profile="smoke", model_ids=["ensemble"])
    _, again = load_manifest(models, "1h", "ensemble")
    assert again["ensemble"]["validation_log_loss"] == first["ensemble"]["validation_log_loss"]
    assert again["metrics"]["validation"]["auc"] == first["metrics"]["validation"]["auc"]
