"""Lean web workers: the Procfile's web line, over models trained by this code, serves every network
from its ONNX graph; no worker process has PyTorch loaded (its shared library is not mapped), nor
scikit-learn and the parts of scipy only training uses."""

from __future__ import annotations

from pathlib import Path

import requests

from coinpredict.launch import procfile_server
from coinpredict.models.lean import NOT_FOR_SERVING
from coinpredict.models.registry import MODEL_IDS


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (bash -> gunicorn master -> workers), from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def mapped_libraries(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return ""


def test_web_workers_serve_every_network_without_torch(synthetic_dir, trained_dir):
    env = {"OHLCV_DIR": str(synthetic_dir), "MODELS_DIR": str(trained_dir), "OFFLINE": "1", "WEB_CONCURRENCY": "2",
           "LOG_LEVEL": "WARNING"}
    with procfile_server(env, capture_output=True) as (base, proc):
        items = [{"symbol": "BTCUSDT", "model": "ensemble"}, *({"symbol": "ETHUSDT", "model": m} for m in MODEL_IDS)]
        for _ in range(4):  # new connections, so both workers score
            answer = requests.post(f"{base}/predict/batch", json={"items": items}, timeout=60)
            assert answer.status_code == 200
            assert not [r for r in answer.json()["results"] if "error" in r], answer.text[:500]
        maps = {pid: mapped_libraries(pid) for pid in descendants(proc.pid)}
        workers = {pid: text for pid, text in maps.items() if "onnxruntime" in text}
        assert len(workers) == 2, "expected two web workers running ONNX Runtime"
        assert not [pid for pid, text in maps.items() if "libtorch" in text]
        # nor scikit-learn, nor the scipy it brings (xgboost's own scipy.sparse stays)
        for left_out in (*NOT_FOR_SERVING, "scipy/optimize", "scipy/stats"):
            assert not [pid for pid, text in workers.items() if f"/{left_out}/" in text], left_out
