import json
import shutil

import numpy as np
import pytest

from coinpredict.errors import ArtifactError
from coinpredict.features.default import default_feature_set
from coinpredict.models.artifacts import current_dir, load_manifest, load_model
from coinpredict.models.ensemble import Ensemble
from coinpredict.models.manifest import Manifest
from coinpredict.models.registry import MODEL_IDS
from coinpredict.serving import ModelStore


@pytest.fixture()
def models(trained_dir, tmp_path):
    target = tmp_path / "models"
    shutil.copytree(trained_dir, target)
    return target


def test_every_model_and_the_ensemble_were_trained_and_load(trained_dir):
    store = ModelStore(trained_dir).load_all()
    assert store.counts() == {"ready": len(MODEL_IDS), "failed": 0, "not_trained": 0}
    assert "1h" in store.ensembles
    manifest = store.get("1h", "gru_attention").manifest.to_dict()
    for key in ("feature_names", "feature_hash", "scaler", "window", "training", "metrics", "code_version", "files"):
        assert key in manifest
    assert manifest["feature_hash"] == default_feature_set("1h").hash


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
    assert store.counts()["ready"] == len(MODEL_IDS) - 1


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


def test_a_manifest_that_is_not_a_json_object_is_refused_naming_the_file(models):
    (current_dir(models, "1h", "lightgbm") / "manifest.json").write_text("[1, 4]")
    with pytest.raises(ArtifactError, match="manifest.json: unreadable manifest") as refused:
        load_model(models, "1h", "lightgbm")
    assert refused.value.public == "manifest.json: unreadable manifest"


def test_shape_mismatch_is_refused(models):
    path = current_dir(models, "1h", "lstm_standard") / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["params"]["hidden"] = 7
    path.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="weights.safetensors"):  # torch builds the module from the params
        load_model(models, "1h", "lstm_standard", runtime="torch")


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


def test_every_trained_manifest_reads_and_writes_back_unchanged(trained_dir):
    for model_id in ("lightgbm", "gru_standard", "ensemble"):
        raw = json.loads((current_dir(trained_dir, "1h", model_id) / "manifest.json").read_text())
        typed = Manifest.from_dict(raw)
        assert typed.to_dict() == raw and not typed.extra
        _, loaded = load_manifest(trained_dir, "1h", model_id)
        assert loaded == typed and loaded.output_horizons == raw["horizons"]
    assert typed.family == "ensemble" and set(typed.member_versions) >= {"lightgbm"} and typed.by_horizon


def test_unknown_keys_and_nulls_survive_and_an_old_single_horizon_manifest_reads():
    raw = {"feature_names": ["a"], "feature_hash": "h", "window": 16, "horizon": 4, "scaler": None,
           "note": {"from": "a future version"}, "training": {"job": "j1"}}
    typed = Manifest.from_dict(raw)
    assert typed.extra == {"note": {"from": "a future version"}} and typed.to_dict() == raw
    assert typed.output_horizons == [4] and typed.has("scaler") and not typed.has("params")
    assert typed.job == "j1" and Manifest().output_horizons == [1] and Manifest().to_dict() == {}
    changed = typed.with_fields(window=32, other=1)
    assert changed.window == 32 and changed.extra == {"note": {"from": "a future version"}, "other": 1}
    assert typed.window == 16 and "scaler" in changed.to_dict()
