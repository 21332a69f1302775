"""Clients never see a server path or a library's exception text: the reasons of failed models are
the file and the problem; the log keeps the full detail."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil

from coinpredict import create_app
from coinpredict.models.artifacts import current_dir


def _break(models):
    """gru_stacked: a checksum mismatch; lightgbm: a garbage file whose checksum matches (the library
    itself refuses it); cnn_tcn: an unreadable manifest."""
    (current_dir(models, "1h", "gru_stacked") / "weights.safetensors").write_bytes(b"garbage")
    lgbm = current_dir(models, "1h", "lightgbm")
    (lgbm / "model.txt").write_text("not a lightgbm model\n")
    manifest = json.loads((lgbm / "manifest.json").read_text())
    manifest["files"]["model.txt"] = hashlib.sha256((lgbm / "model.txt").read_bytes()).hexdigest()
    (lgbm / "manifest.json").write_text(json.dumps(manifest))
    (current_dir(models, "1h", "cnn_tcn") / "manifest.json").write_text("{not json")


def test_failed_models_are_described_without_server_paths(synthetic_dir, trained_dir, tmp_path, caplog):
    models = tmp_path / "models"
    shutil.copytree(trained_dir, models)
    _break(models)
    with caplog.at_level(logging.ERROR):
        c = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": models}).test_client()
    assert str(models) in caplog.text  # the log names the file in full
    broken = {"gru_stacked": "weights.safetensors: checksum mismatch", "lightgbm": "model.txt: cannot load lightgbm",
              "cnn_tcn": "manifest.json: unreadable manifest"}
    listed = {m["id"]: m for m in c.get("/models/list").get_json()["models"]}
    for model_id, problem in broken.items():
        status = c.get(f"/models/{model_id}/status").get_json()
        for reason in (listed[model_id]["reason"], status["reason"]):
            assert reason.startswith("failed to load: ") and problem in reason and "/" not in reason
        refused = c.post("/predict/single", json={"symbol": "BTC", "model": model_id})
        assert refused.status_code == 503 and "/" not in refused.get_json()["error"]["message"]
    body = c.post("/predict/single", json={"symbol": "BTC"}).get_json()
    failed = {k: v for k, v in body["failed_members"].items() if k in broken}
    assert failed and all("/" not in v and str(tmp_path) not in v for v in failed.values())
    assert str(tmp_path) not in json.dumps(c.get("/models/list").get_json())
