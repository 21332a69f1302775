"""Path settings mean the same in every process: relative ones are read from the directory the Procfile
lines start in (the repo root), by the web as by the worker; a candle folder with nothing in it says so."""

from __future__ import annotations

import os
import shutil

import pytest
import requests

from coinpredict import create_app
from coinpredict.config import REPO_ROOT, Settings
from coinpredict.jobs import JobStore
from coinpredict.launch import procfile_server
from coinpredict.models.registry import MODEL_IDS
from tests.conftest import SYNTHETIC_SYMBOLS


def relative(path) -> str:
    """``path`` as the Procfile lines would be given it: relative to the repo root they start in."""
    return os.path.relpath(path, REPO_ROOT)


def test_the_procfile_web_reads_relative_settings_from_where_it_starts(synthetic_dir, trained_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(trained_dir, models)
    jobs_url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    JobStore(jobs_url).create("train", "4h", {"models": "all"})  # what the worker's records already hold
    env = {"OHLCV_DIR": relative(synthetic_dir), "MODELS_DIR": relative(models),
           "DATABASE_URL": f"sqlite:///{relative(tmp_path / 'jobs.sqlite')}",
           "QUEUE_PATH": relative(tmp_path / "queue.sqlite"), "STORE_PATH": relative(tmp_path / "candles.sqlite"),
           "OFFLINE": "1", "WEB_CONCURRENCY": "1", "LOG_LEVEL": "WARNING"}
    with procfile_server(env, capture_output=True) as (base, _):
        listed = requests.get(f"{base}/symbols?timeframe=1h", timeout=30).json()
        assert listed["count"] == len(SYNTHETIC_SYMBOLS), listed
        candles = requests.get(f"{base}/candles", params={"symbol": "BTC", "limit": 5}, timeout=30)
        assert candles.status_code == 200 and candles.json()["count"] == 5
        health = requests.get(f"{base}/health", timeout=30).json()
        assert health["models_loaded"] == len(MODEL_IDS)
        assert not any("OHLCV_DIR" in w for w in health["warnings"]), health["warnings"]
        assert [j["timeframe"] for j in requests.get(f"{base}/jobs", timeout=30).json()["jobs"]] == ["4h"]


def test_a_relative_sqlite_url_is_made_absolute_once(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///data/x.sqlite")
    assert Settings.from_env().database_url == f"sqlite:///{tmp_path.resolve() / 'data' / 'x.sqlite'}"
    for kept in ("sqlite:////srv/x.sqlite", "sqlite://", "postgresql://u@h/db", "sqlite:///:memory:"):
        monkeypatch.setenv("DATABASE_URL", kept)
        assert Settings.from_env().database_url == kept


@pytest.mark.parametrize("layout", ["missing", "empty", "no candle file"])
def test_a_candle_folder_with_nothing_to_serve_makes_health_degraded(tmp_path, layout):
    folder = tmp_path / "ohlcv"
    if layout != "missing":
        (folder / "1h").mkdir(parents=True)
    if layout == "no candle file":
        (folder / "1h" / "README.txt").write_text("not candles")
    app = create_app({"TESTING": True, "ohlcv_dir": folder, "models_dir": tmp_path / "models", "offline": True})
    body = app.test_client().get("/health").get_json()
    assert body["status"] == "degraded"
    said = [w for w in body["warnings"] if w.startswith("OHLCV_DIR ")]
    assert len(said) == 1 and ("does not exist" if layout == "missing" else "no candle file") in said[0]
    assert str(tmp_path) not in str(body)


def test_a_folder_with_candles_has_no_folder_warning(synthetic_dir, tmp_path):
    app = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": tmp_path / "models", "offline": True})
    client = app.test_client()
    assert not any("OHLCV_DIR" in w for w in client.get("/health").get_json()["warnings"])
    # Nothing trained yet: the folder's candles are listed and served all the same.
    assert client.get("/symbols").get_json()["count"] == len(SYNTHETIC_SYMBOLS)
    assert client.get("/candles?symbol=BTC&limit=3").status_code == 200
