"""Starts the Procfile's web command on a free loopback port and talks to it over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest
import requests

from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_procfile_web_command_serves(synthetic_dir, trained_dir):
    line = next(ln for ln in (REPO / "Procfile").read_text().splitlines() if ln.startswith("web:"))
    command = line.split(":", 1)[1].strip().replace("0.0.0.0", "127.0.0.1")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "OHLCV_DIR": str(synthetic_dir), "MODELS_DIR": str(trained_dir),
           "OFFLINE": "1", "WEB_CONCURRENCY": "1", "LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(["bash", "-c", command], cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                health = requests.get(f"{base}/health", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                if proc.poll() is not None or time.time() > deadline:
                    out = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else ""
                    pytest.fail(f"server did not start: {out[-2000:]}")
                time.sleep(0.3)
        assert health.status_code == 200 and health.json()["models_loaded"] == 19
        single = requests.post(f"{base}/predict/single", json={"symbol": "btc/usdt"}, timeout=30)
        assert single.status_code == 200 and single.json()["symbol"] == "BTCUSDT"
        missing = requests.get(f"{base}/nope", timeout=5)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
