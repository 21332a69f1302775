"""``make run`` on an empty MODELS_DIR: the web answers at once (503 model_not_ready, the queued
training in /health) while the worker trains; Ctrl-C stops the web and the worker together."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import requests

from coinpredict.config import REPO_ROOT
from coinpredict.data.origin import SHARED_OHLCV
from coinpredict.data.sources.csvdir import CsvFolderSource
from coinpredict.data.sources.synthetic import SyntheticSource
from coinpredict.launch import free_port
from tests.conftest import SYNTHETIC_END_MS, SYNTHETIC_SYMBOLS, write_ohlcv_csv


def session_processes(sid: int) -> list[str]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,sid=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.split()[1] == str(sid)]


def stop_make_run(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's foreground group
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    deadline = time.time() + 10
    while session_processes(proc.pid) and time.time() < deadline:
        time.sleep(0.2)
    assert not session_processes(proc.pid), "make run left processes behind"


def first_health(proc: subprocess.Popen, base: str, within_s: float) -> dict:
    """``/health``'s first answer from the ``make run`` in ``proc``."""
    started = time.time()
    while time.time() - started < within_s:
        try:
            return requests.get(f"{base}/health", timeout=5).json()
        except (requests.ConnectionError, requests.Timeout):
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")[-2000:]
            time.sleep(0.3)
    raise AssertionError("make run did not serve")


def test_make_run_with_nothing_set_serves_the_candles_it_trains_on(tmp_path):
    if CsvFolderSource(SHARED_OHLCV).problem():
        pytest.skip(f"the shared candle folder is absent ({SHARED_OHLCV})")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("OHLCV_DIR", "SYNTHETIC")}
    env.update({"PORT": str(port), "MODELS_DIR": str(tmp_path / "models"), "OFFLINE": "1",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.sqlite'}", "QUEUE_PATH": str(tmp_path / "queue.sqlite"),
                "STORE_PATH": str(tmp_path / "candles.sqlite"), "LOG_LEVEL": "WARNING", "WEB_CONCURRENCY": "1"})
    proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=REPO_ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        health = first_health(proc, base, 120)
        assert health["data_source"] == "csv"  # the shared folder the jobs train on, not the synthetic market
        listed = requests.get(f"{base}/symbols?timeframe=1h", timeout=30).json()
        assert listed["count"] == len(CsvFolderSource(SHARED_OHLCV).symbols("1h"))
        assert requests.get(f"{base}/candles?symbol=BTC&limit=3", timeout=30).status_code == 200
    finally:
        stop_make_run(proc)
    said = proc.stdout.read().decode(errors="replace")
    assert "SYNTHETIC" not in said and "train the default profile on 1h candles from the shared candle folder" in said


def test_make_run_serves_at_once_and_trains_in_the_worker(tmp_path):
    source = SyntheticSource(SYNTHETIC_SYMBOLS, seed=5, clock=lambda: SYNTHETIC_END_MS / 1000)
    for symbol in SYNTHETIC_SYMBOLS:  # a year: enough for the default profile's validation period
        write_ohlcv_csv(tmp_path / "ohlcv" / "1h" / f"{symbol}.csv", source.fetch(symbol, "1h").last(9000))
    port = free_port()
    env = {**os.environ, "PORT": str(port), "MODELS_DIR": str(tmp_path / "models"),
           "OHLCV_DIR": str(tmp_path / "ohlcv"), "OFFLINE": "1",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.sqlite'}",
           "QUEUE_PATH": str(tmp_path / "queue.sqlite"), "LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=REPO_ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        health = first_health(proc, base, 90)
        assert health["models_loaded"] == 0 and health["status"] == "degraded"
        assert {j["timeframe"] for j in requests.get(f"{base}/jobs", timeout=5).json()["jobs"]} == {"1h", "4h", "1d"}
        single = requests.post(f"{base}/predict/single", json={"symbol": "BTC"}, timeout=10)
        assert single.status_code == 503 and single.json()["error"]["code"] == "model_not_ready"
        assert single.headers["Retry-After"]
        deadline = time.time() + 60
        while True:
            health = requests.get(f"{base}/health", timeout=5).json()
            if health["jobs"]["running"]:
                break
            assert time.time() < deadline, f"the worker never started the first job: {health}"
            time.sleep(0.5)
        assert health["warnings"][-1].startswith("no trained models yet: training 1h")
    finally:
        stop_make_run(proc)
