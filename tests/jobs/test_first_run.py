"""``make run``'s first step (scripts/bootstrap.py): what it queues, in which order, and what it refuses."""

from __future__ import annotations

import os
import subprocess
import sys

from coinpredict.config import REPO_ROOT, Settings
from coinpredict.jobs import JobQueue


def bootstrap(env: dict[str, str], run_env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "bootstrap.py"), "--run-env", str(run_env)],
                          cwd=REPO_ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300)


def settings_env(tmp_path, **more) -> dict[str, str]:
    return {"MODELS_DIR": str(tmp_path / "models"), "DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.sqlite'}",
            "QUEUE_PATH": str(tmp_path / "queue.sqlite"), "STORE_PATH": str(tmp_path / "candles.sqlite"),
            "OFFLINE": "1", **more}


def queued_order(env: dict[str, str], monkeypatch) -> list[str]:
    """The timeframes of the queued jobs in the order the worker takes them."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    queue = JobQueue(Settings.from_env())
    return [queue.store.get(task.args[0])["timeframe"] for task in queue.huey.pending()]


def test_after_an_interrupted_first_run_1h_trains_first(synthetic_dir, tmp_path, monkeypatch):
    env = settings_env(tmp_path, OHLCV_DIR=str(synthetic_dir))
    first = bootstrap(env, tmp_path / "run.env")
    assert first.returncode == 0, first.stdout + first.stderr
    assert queued_order(env, monkeypatch) == ["1h", "4h", "1d"]
    # The worker took the 1h job, then make run was stopped: 1h ended as failed, 4h and 1d still queued.
    queue = JobQueue(Settings.from_env())
    taken = queue.huey.dequeue()
    assert queue.store.get(taken.args[0])["timeframe"] == "1h"
    queue.store.finish(taken.args[0], "failed", error="the worker was stopped while running it")
    again = bootstrap(env, tmp_path / "run.env")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "a 4h training job is already queued or running" in again.stdout
    assert queued_order(env, monkeypatch) == ["1h", "4h", "1d"]


def test_an_ohlcv_dir_without_candles_stops_make_run_before_it_trains(tmp_path, monkeypatch):
    (tmp_path / "empty" / "1h").mkdir(parents=True)
    for folder, said in ((tmp_path / "nowhere", "does not exist"), (tmp_path / "empty", "holds no candle file")):
        env = settings_env(tmp_path, OHLCV_DIR=str(folder))
        done = bootstrap(env, tmp_path / "run.env")
        assert done.returncode != 0
        assert "OHLCV_DIR" in done.stderr and said in done.stderr and "nothing is started" in done.stderr
        assert "queued job" not in done.stdout
        assert queued_order(env, monkeypatch) == []


def test_a_relative_ohlcv_dir_is_handed_on_resolved(synthetic_dir, tmp_path):
    env = settings_env(tmp_path, OHLCV_DIR=os.path.relpath(synthetic_dir, REPO_ROOT))
    done = bootstrap(env, tmp_path / "run.env")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "run.env").read_text() == f"OHLCV_DIR={synthetic_dir.resolve()}\n"
