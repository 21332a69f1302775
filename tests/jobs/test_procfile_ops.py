"""An ops session against the Procfile's lines, as deployed: the web (two gunicorn workers) and the
worker, on loopback, sharing an empty MODELS_DIR. Train over HTTP and watch progress, see every web
worker serve the new versions, roll back, delete, refuse a corrupt version, and kill -9 the worker in
the middle of a job.

Every wait is for a condition under a generous deadline, never a duration asserted: the seconds it took
every worker to serve a new version are printed. ``JOB_STALE_S`` is 15 heartbeats (2 s each), so a
worker slowed by a loaded machine is not taken for a dead one; the killed worker's job waits that out."""

from __future__ import annotations

import json
import shutil
import signal
import time
from pathlib import Path

import pytest
import requests

from coinpredict.launch import procfile_server, procfile_worker, stop_group
from coinpredict.models.artifacts import CURRENT

KEY = {"X-API-Key": "ops-key"}
DEADLINE_S = 180.0  # a deadline for a condition; the contract's 10 s is counted in polls (test_reloader)
WORKERS = 2


@pytest.fixture(scope="module")
def service(synthetic_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("ops")
    env = {"OHLCV_DIR": str(synthetic_dir), "MODELS_DIR": str(root / "models"), "OFFLINE": "1", "API_KEY": "ops-key",
           "DATABASE_URL": f"sqlite:///{root / 'jobs.sqlite'}", "QUEUE_PATH": str(root / "queue.sqlite"),
           "WEB_CONCURRENCY": "2", "JOB_STALE_S": "30", "MODELS_POLL_S": "1", "LOG_LEVEL": "WARNING"}
    with procfile_server(env) as (base, _), procfile_worker(env) as worker:
        yield {"base": base, "models": root / "models", "env": env, "worker": worker}


def wait_job(base: str, job_id: str, timeout: float = 900) -> tuple[dict, list[tuple[float, str]]]:
    """The finished job, and the (progress, stage) pairs seen while polling."""
    seen, deadline = [], time.time() + timeout
    while time.time() < deadline:
        job = requests.get(f"{base}/jobs/{job_id}", timeout=30).json()
        seen.append((job["progress"], job["stage"]))
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job, seen
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish: {seen[-3:]}")


def served_versions(base: str, model: str, n: int = 24) -> set[str]:
    """The versions many fresh connections (so both web workers) are served."""
    out = set()
    for _ in range(n):
        r = requests.post(f"{base}/predict/single", json={"symbol": "BTC", "model": model}, timeout=30,
                          headers={"Connection": "close"})
        out.add(r.json().get("model_version") if r.status_code == 200 else f"HTTP {r.status_code}")
    return out


def wait_in_step(base: str, model: str, version: str) -> float:
    """Seconds until many fresh connections (so both web workers) are all served ``version``."""
    started = time.time()
    while time.time() - started < DEADLINE_S:
        if served_versions(base, model) == {version}:
            return time.time() - started
        time.sleep(0.2)
    raise AssertionError(f"{model}: workers serve {served_versions(base, model)}, not {version}")


def wait_every_worker_refused(base: str, model: str) -> None:
    """Until each web worker's status answer reports the refused new version (it has looked, and kept the
    one it served)."""
    refused, deadline = set(), time.time() + DEADLINE_S
    while len(refused) < WORKERS:
        assert time.time() < deadline, f"only workers {refused} refused the new {model} version"
        resp = requests.get(f"{base}/models/{model}/status", timeout=30, headers={"Connection": "close"})
        if resp.status_code == 200 and resp.json()["load_error"]:
            refused.add(resp.headers["X-Worker-Id"])
        time.sleep(0.1)


def test_ops_session(service):
    base, models = service["base"], service["models"]
    assert requests.post(f"{base}/predict/single", json={"symbol": "BTC"}, timeout=30).json()["error"]["code"] == \
        "model_not_ready"
    assert requests.post(f"{base}/jobs", json={"profile": "smoke"}, timeout=30).status_code == 401
    assert requests.post(f"{base}/jobs", json={"profile": "smoke"}, headers={"X-API-Key": "nope"},
                         timeout=30).status_code == 401
    r = requests.post(f"{base}/jobs", json={"timeframe": "1h", "profile": "smoke", "promote": "always",
                                            "models": ["lightgbm", "xgboost", "gru_standard", "ensemble"]},
                      headers=KEY, timeout=30)
    assert r.status_code == 202 and r.json()["status"] == "queued"
    job, seen = wait_job(base, r.json()["id"])
    assert job["status"] == "succeeded", job
    stages = {stage.split(":")[0] for _, stage in seen}
    assert any(stage.startswith("training ") for stage in stages), stages
    assert len({p for p, _ in seen}) >= 3 and [p for p, _ in seen] == sorted(p for p, _ in seen)
    v1 = job["result"]["versions"]["lightgbm"]
    took = wait_in_step(base, "lightgbm", v1)
    wait_in_step(base, "ensemble", job["result"]["versions"]["ensemble"])

    second, _ = wait_job(base, requests.post(f"{base}/jobs", json={"timeframe": "1h", "profile": "smoke",
                                                                     "models": ["lightgbm"], "promote": "always"},
                                             headers=KEY, timeout=30).json()["id"])
    v2 = second["result"]["versions"]["lightgbm"]
    assert v2 != v1
    wait_in_step(base, "lightgbm", v2)

    versions = requests.get(f"{base}/models/lightgbm/versions?timeframe=1h", timeout=30).json()
    assert versions["serving"] == v2 and {v["version"] for v in versions["versions"]} == {v1, v2}
    rollback = requests.post(f"{base}/models/lightgbm/promote", json={"timeframe": "1h", "version": v1},
                             headers=KEY, timeout=30)
    assert rollback.status_code == 200, rollback.json()
    wait_in_step(base, "lightgbm", v1)
    refit, _ = wait_job(base, rollback.json()["ensemble_job"])  # its members changed: so does the ensemble
    assert refit["status"] == "succeeded" and refit["result"]["promoted"] == ["ensemble"], refit
    wait_in_step(base, "ensemble", refit["result"]["versions"]["ensemble"])
    refused = requests.delete(f"{base}/models/lightgbm/versions/{v1}?timeframe=1h", headers=KEY, timeout=30)
    assert refused.status_code == 409
    assert requests.delete(f"{base}/models/lightgbm/versions/{v2}?timeframe=1h", headers=KEY,
                           timeout=30).status_code == 200
    assert [v["version"] for v in requests.get(f"{base}/models/lightgbm/versions?timeframe=1h",
                                               timeout=30).json()["versions"]] == [v1]

    corrupt_current(models / "1h" / "xgboost")
    wait_every_worker_refused(base, "xgboost")
    assert served_versions(base, "xgboost") == {job["result"]["versions"]["xgboost"]}
    status = requests.get(f"{base}/models/xgboost/status", timeout=30).json()
    assert status["status"] == "ready" and str(models) not in json.dumps(status)
    print(f"every web worker served a new version {took:.1f} s after the job ended")


def corrupt_current(root: Path) -> None:
    """A new current version whose weights were damaged after it was written."""
    current = root / (root / CURRENT).read_text().strip()
    broken = root / (current.name + "-broken")
    shutil.copytree(current, broken)
    weights = next(p for p in broken.iterdir() if p.name not in ("manifest.json", "validation_probs.npy"))
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    (root / CURRENT).write_text(broken.name + "\n")


def test_a_worker_killed_mid_job_leaves_a_failed_job_and_no_version(service, synthetic_dir):
    base, models = service["base"], service["models"]
    before = {p for p in models.rglob("manifest.json")}
    r = requests.post(f"{base}/jobs", json={"timeframe": "1h", "profile": "smoke",
                                            "models": ["xgboost", "lightgbm", "catboost", "gru_standard", "cnn_tcn"],
                                            "promote": "always"}, headers=KEY, timeout=30)
    job_id = r.json()["id"]
    deadline = time.time() + DEADLINE_S
    while requests.get(f"{base}/jobs/{job_id}", timeout=30).json()["progress"] < 0.4:
        assert time.time() < deadline
        time.sleep(0.2)
    stop_group(service["worker"], signal.SIGKILL)
    job, _ = wait_job(base, job_id, timeout=DEADLINE_S)
    assert job["status"] == "failed" and "stopped reporting" in job["error"], job
    assert {p for p in models.rglob("manifest.json")} == before  # the versions it had written are gone
    assert not list(models.glob("1h/*/.tmp-*"))
    with procfile_worker(service["env"]):  # a new worker takes the next job
        again, _ = wait_job(base, requests.post(f"{base}/jobs", json={"timeframe": "1h", "profile": "smoke",
                                                                       "models": ["xgboost"]},
                                                headers=KEY, timeout=30).json()["id"])
    assert again["status"] == "succeeded" and again["result"]["gate"]["xgboost"]["basis"]
