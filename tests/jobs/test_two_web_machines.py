"""Two web machines on one shared ``MODELS_DIR`` (OPERATIONS, "Many machines"): two gunicorn masters, each
with a working folder of its own (its candle store, queue, database and metrics folder), serve the same
versions; a promotion over one machine's API and a CURRENT written by a worker elsewhere reach both, and
both answer a request with the same figures. Seconds are printed, not asserted (a loaded machine)."""

from __future__ import annotations

import shutil
import time
from contextlib import ExitStack

import requests

from coinpredict.common.files import write_atomic_text
from coinpredict.launch import procfile_server
from coinpredict.models.artifacts import CURRENT, current_dir
from tests.versioning import OLDER, clone_version

KEY = {"X-API-Key": "k"}
DEADLINE_S = 180  # a deadline for a condition, not a contract figure


def served(base: str) -> tuple[str, float]:
    resp = requests.post(f"{base}/predict/single", json={"symbol": "BTC", "model": "lightgbm"}, timeout=30)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    return body["model_version"], body["probability_up"]


def seconds_until_both_serve(bases: list[str], version: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE_S:
        if all(served(base)[0] == version for base in bases):
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"not every machine serves {version}: {[served(b) for b in bases]}")


def machine_env(folder, models, synthetic_dir) -> dict[str, str]:
    """What one web machine has of its own (everything but the models folder) and what it shares."""
    folder.mkdir()
    return {"OHLCV_DIR": str(synthetic_dir), "MODELS_DIR": str(models), "OFFLINE": "1", "WEB_CONCURRENCY": "1",
            "API_KEY": "k", "LOG_LEVEL": "WARNING", "STORE_PATH": str(folder / "candles.sqlite"),
            "QUEUE_PATH": str(folder / "queue.sqlite"), "DATABASE_URL": f"sqlite:///{folder / 'service.sqlite'}",
            "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics")}


def test_two_web_machines_follow_one_shared_models_folder(synthetic_dir, trained_dir, tmp_path):
    models = tmp_path / "shared-models"
    shutil.copytree(trained_dir / "1h" / "lightgbm", models / "1h" / "lightgbm")  # one model: quick to load
    newest = current_dir(models, "1h", "lightgbm").name
    clone_version(models, "1h", "lightgbm")
    with ExitStack() as stack:
        bases = []
        for name in ("machine-a", "machine-b"):
            env = machine_env(tmp_path / name, models, synthetic_dir)
            (tmp_path / name / "metrics").mkdir()
            bases.append(stack.enter_context(procfile_server(env, capture_output=True))[0])
        first = [served(base) for base in bases]
        assert first[0] == first[1], first  # same version, same probability

        promoted = requests.post(f"{bases[0]}/models/lightgbm/promote", json={"version": OLDER}, headers=KEY,
                                 timeout=30)
        assert promoted.status_code == 200 and promoted.json()["serving"] == OLDER, promoted.text
        assert served(bases[0])[0] == OLDER  # the machine that promoted serves it at once
        to_other = seconds_until_both_serve(bases, OLDER)

        # A worker on a third machine promotes by writing CURRENT: both web machines follow.
        write_atomic_text(models / "1h" / "lightgbm" / CURRENT, newest + "\n")
        followed = seconds_until_both_serve(bases, promoted.json()["previous"])
        again = [served(base) for base in bases]
        assert again[0] == again[1] == first[0], (again, first)
        for base in bases:
            status = requests.get(f"{base}/models/lightgbm/status", timeout=30).json()
            assert str(models) not in str(status)  # no server path in an answer
    print(f"the other machine served the promotion within {to_other:.1f} s, the new CURRENT within {followed:.1f} s")
