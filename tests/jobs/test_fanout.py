"""A training job spread over real worker processes (the Procfile's line, on the embedded SQLite job
records and queue): its member tasks run on both workers and it serves; cancelled mid-job, or with the
worker of one of its tasks killed with kill -9, it ends cancelled or failed with every version it wrote
deleted and nothing of it served; one worker alone runs a whole job.

Every wait is for a condition under a generous deadline, never a duration asserted. ``JOB_STALE_S`` is
10 heartbeats (2 s each), so a worker slowed by a loaded machine is not taken for a dead one."""

from __future__ import annotations

import os
import signal
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from coinpredict.config import Settings
from coinpredict.jobs import JobQueue
from coinpredict.jobs.runner import JOBS_FOLDER
from coinpredict.jobs.store import job_tasks
from coinpredict.launch import procfile_worker, stop_group
from coinpredict.models.artifacts import CURRENT
from coinpredict.models.base import read_manifest

DEADLINE_S = 300.0
STALE_S = 20
SMOKE = {"profile": "smoke", "promote": "always"}


@pytest.fixture(scope="module")
def workers(synthetic_dir, tmp_path_factory):
    """Two worker processes sharing the job records, the queue and MODELS_DIR; and the JobQueue a web
    process would submit with."""
    root = tmp_path_factory.mktemp("fanout")
    env = {"OHLCV_DIR": str(synthetic_dir), "MODELS_DIR": str(root / "models"), "OFFLINE": "1",
           "DATABASE_URL": f"sqlite:///{root / 'jobs.sqlite'}", "QUEUE_PATH": str(root / "queue.sqlite"),
           "JOB_STALE_S": str(STALE_S), "RETRAIN_EVERY": "off", "LOG_LEVEL": "WARNING"}
    queue = JobQueue(Settings(ohlcv_dir=synthetic_dir, models_dir=root / "models", offline=True,
                              database_url=env["DATABASE_URL"], queue_path=root / "queue.sqlite", job_stale_s=STALE_S))
    with ExitStack() as stack:
        procs = [stack.enter_context(procfile_worker(env)) for _ in range(2)]
        yield {"queue": queue, "procs": procs, "models": root / "models"}


def wait(queue: JobQueue, job_id: str, until, what: str) -> dict:
    deadline = time.time() + DEADLINE_S
    while not until(job := queue.store.get(job_id)):
        assert time.time() < deadline, f"{what}: {job}"
        time.sleep(0.2)
    return job


def ended(job: dict) -> bool:
    return job["status"] in ("succeeded", "failed", "cancelled")


def running_tasks(queue: JobQueue, job_id: str) -> list[tuple[str, str]]:
    with queue.store.engine.connect() as conn:
        return [(r.task, r.worker) for r in conn.execute(job_tasks.select().where(
            job_tasks.c.job_id == job_id, job_tasks.c.status == "running"))]


def versions_of(models: Path, job_id: str) -> list[Path]:
    return [p.parent for p in models.glob("1h/*/*/manifest.json") if read_manifest(p.parent).job == job_id]


def served(models: Path) -> dict[str, str]:
    return {p.parent.name: p.read_text() for p in models.glob(f"1h/*/{CURRENT}")}


def assert_left_nothing(models: Path, job_id: str) -> None:
    """Its versions, prepared data and half-written folders go (a task still training when the job ended
    deletes what it writes itself once it sees that)."""
    deadline = time.time() + DEADLINE_S
    while versions_of(models, job_id) or list((models / JOBS_FOLDER).glob(f"*{job_id}*")) or \
            list(models.glob("1h/*/.tmp-*")):
        assert time.time() < deadline, (versions_of(models, job_id), list(models.glob("1h/*/.tmp-*")))
        time.sleep(0.5)


def test_a_job_fans_out_over_two_workers_and_serves(workers):
    queue, models = workers["queue"], workers["models"]
    job = queue.submit("train", "1h", {**SMOKE, "models": ["lightgbm", "xgboost", "catboost", "ensemble", "move"]})
    progress = []
    done = wait(queue, job["id"], lambda j: progress.append(j["progress"]) or ended(j), "the job did not end")
    assert done["status"] == "succeeded", done
    assert progress == sorted(progress) and len(set(progress)) >= 3  # summed over the tasks, never going back
    workers_used = done["result"]["workers"]
    assert set(workers_used) == {"lightgbm", "xgboost", "catboost", "move"}
    assert len(set(workers_used.values())) == 2, workers_used  # the other worker took tasks too
    versions = done["result"]["versions"]
    assert sorted(done["result"]["promoted"]) == sorted(versions) and "ensemble" in versions
    now_served = served(models)
    for model_id, version in versions.items():
        assert now_served[model_id].strip() == version.replace(":", "")
    assert "move" in now_served
    ensemble = read_manifest(models / "1h" / "ensemble" / now_served["ensemble"].strip())
    assert ensemble.member_versions == {m: versions[m] for m in ("lightgbm", "xgboost", "catboost")}
    assert not (models / JOBS_FOLDER / job["id"]).exists()


def test_a_job_cancelled_mid_way_serves_nothing_and_keeps_no_version(workers):
    queue, models = workers["queue"], workers["models"]
    before = served(models)
    job = queue.submit("train", "1h", {**SMOKE, "models": ["gru_standard", "cnn_tcn", "lstm_standard",
                                                           "lightgbm", "ensemble", "move"]})
    wait(queue, job["id"], lambda j: running_tasks(queue, j["id"]) or ended(j), "no task started")
    queue.store.request_cancel(job["id"])
    done = wait(queue, job["id"], ended, "the cancel was not honoured")
    assert done["status"] == "cancelled", done
    assert_left_nothing(models, job["id"])
    assert served(models) == before


def test_a_task_worker_killed_fails_the_job_and_one_worker_alone_runs_the_next(workers):
    queue, models = workers["queue"], workers["models"]
    before = served(models)
    job = queue.submit("train", "1h", {**SMOKE, "models": ["gru_standard", "cnn_tcn", "lstm_standard", "xgboost",
                                                           "ensemble"]})
    seen: list[tuple[str, str]] = []  # the tasks running when first seen, read in one query
    wait(queue, job["id"], lambda j: seen.extend(running_tasks(queue, j["id"])) or seen or ended(j), "no task ran")
    assert seen, "the job ended before any of its tasks ran"
    # A network's task (seconds long) rather than the booster's: its worker is surely still at it.
    _, worker = min(seen, key=lambda tw: tw[0] == "xgboost")
    victim = next(p for p in workers["procs"] if os.getpgid(int(worker.rsplit(":", 1)[1])) == p.pid)
    stop_group(victim, signal.SIGKILL)
    done = wait(queue, job["id"], ended, "the dead task's job was not ended")
    assert done["status"] == "failed" and "stopped reporting" in done["error"], done
    assert_left_nothing(models, job["id"])
    assert served(models) == before

    alone = queue.submit("train", "1h", {**SMOKE, "models": ["lightgbm", "xgboost", "ensemble"]})
    result = wait(queue, alone["id"], ended, "one worker did not run the job")
    assert result["status"] == "succeeded", result
    [survivor] = set(result["result"]["workers"].values())
    assert os.getpgid(int(survivor.rsplit(":", 1)[1])) != victim.pid
    assert served(models)["lightgbm"].strip() == result["result"]["versions"]["lightgbm"].replace(":", "")
