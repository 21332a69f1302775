"""The README's first steps, as a new user takes them: a fresh clone with the shared candles beside it,
``OHLCV_DIR=../shared/data/ohlcv make run`` (the relative form the docs use; TRAIN_PROFILE=smoke so the
first training takes a minute, not fifteen), then an ensemble answer for BTC, a ranking as of the
folder's end, and the dashboard's overview without an error."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import requests

from coinpredict.launch import free_port
from tests.conftest import REPO

FIRST_JOB_S = 900  # the smoke 1h job on 18 real coins; generous for a loaded machine, never asserted as a speed


def fresh_clone(root, shared_ohlcv):
    """``root/repo``, a clone of this checkout, with ``root/shared`` standing for the shared folder beside it.
    The clone uses this checkout's virtual environment (installing another takes minutes): its setup stamp
    is kept newer than the clone's requirement files, so make does not reinstall the package from the clone
    into it, and PYTHONPATH (in the test's environment) points its processes at the clone's own code."""
    (root / "shared").symlink_to(shared_ohlcv.parent.parent)
    clone = root / "repo"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    (clone / ".venv").symlink_to(REPO / ".venv")
    stamp = REPO / ".venv" / ".requirements-installed"
    if not stamp.exists():
        pytest.skip("the virtual environment was not set up by make (no .venv/.requirements-installed)")
    for name in ("requirements.txt", "pyproject.toml"):
        os.utime(clone / name, (stamp.stat().st_mtime - 60,) * 2)
    return clone


def wait_for(what: str, check, deadline_s: float, proc):
    deadline = time.time() + deadline_s
    while True:
        try:
            found = check()
        except (requests.ConnectionError, requests.Timeout):
            found = None
        if found:
            return found
        assert proc.poll() is None, f"make run ended while waiting for {what}"
        assert time.time() < deadline, f"no {what} within {deadline_s:.0f} s"
        time.sleep(1)


def first_1h_job(base: str):
    jobs = requests.get(f"{base}/jobs", timeout=10).json()["jobs"]
    done = [j for j in jobs if j["timeframe"] == "1h" and j["status"] in ("succeeded", "failed")]
    return done[0] if done else None


def test_the_readme_first_steps_from_a_fresh_clone(tmp_path, shared_ohlcv, page):
    clone = fresh_clone(tmp_path, shared_ohlcv)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QUEUE_PATH", "MODELS_DIR",
                                                             "STORE_PATH", "CLOCK", "SYNTHETIC")}
    env.update(OHLCV_DIR="../shared/data/ohlcv", TRAIN_PROFILE="smoke", PORT=str(port), OFFLINE="1",
               PYTHONPATH=str(clone / "python-services"), LOG_LEVEL="WARNING")
    log = (tmp_path / "make-run.log").open("w")
    proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=clone, env=env, start_new_session=True,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_for("answer from /health", lambda: requests.get(f"{base}/health", timeout=10).json(), 240, proc)
        assert health["data_source"] == "csv" and not any("OHLCV_DIR" in w for w in health.get("warnings", []))
        symbols = requests.get(f"{base}/symbols?timeframe=1h", timeout=30).json()["symbols"]
        assert len(symbols) == len(list((shared_ohlcv / "1h").glob("*.csv")))  # before any model is trained
        job = wait_for("finished 1h training job", lambda: first_1h_job(base), FIRST_JOB_S, proc)
        assert job["status"] == "succeeded", job.get("error")

        single = wait_for("ensemble answer", lambda: (r := requests.post(
            f"{base}/predict/single", json={"symbol": "BTC"}, timeout=30)).status_code == 200 and r.json(), 60, proc)
        assert single["model"] == "ensemble" and single["symbol"] == "BTCUSDT" and 0 < single["probability_up"] < 1

        end = max(s["last"] for s in symbols)  # the folder's newest candle
        top = requests.get(f"{base}/predict/top100", params={"as_of": end}, timeout=120)
        assert top.status_code == 200, top.text
        assert top.json()["count"] > 0 and top.json()["as_of"] == end

        page.goto(base + "/")
        page.wait_for_selector("#models-counts:not(:has-text('…'))", timeout=30_000)
        page.wait_for_load_state("networkidle")
        assert page.problems == []
        assert page.locator("#data-source").inner_text().strip() != ""
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C, as a user stops it
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()
        print((tmp_path / "make-run.log").read_text()[-3000:])
