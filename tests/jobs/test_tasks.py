"""A fanned-out job's task records: claimed once, progress summed into the job and never going back,
exactly one task ending last, and the reaper telling a dead task's worker from tasks waiting their
turn; on the embedded SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import pytest

from coinpredict.jobs.store import JobStore, job_tasks, jobs
from coinpredict.jobs.tasks import FIRST, SPAN, TaskRecords


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    url = request.getfixturevalue("postgres")
    with JobStore(url).engine.begin() as conn:  # each test starts from no jobs
        conn.execute(job_tasks.delete())
        conn.execute(jobs.delete())
    return url


@pytest.fixture
def fanned(database_url):
    """(clock, store, records, job id): a running job whose three tasks are on the queue."""
    now = [1000.0]
    store = JobStore(database_url, stale_s=30, clock=lambda: now[0])
    job = store.create("train", "1h", {"profile": "smoke"})
    assert store.claim(job["id"], "coordinator") == "claimed"
    records = TaskRecords(store)
    records.create(job["id"], ["lightgbm", "xgboost", "move"])
    records.all_queued(job["id"])
    return now, store, records, job["id"]


def test_a_task_is_claimed_once_and_progress_is_summed_never_going_back(fanned):
    now, store, records, job_id = fanned
    assert records.claim(job_id, "lightgbm", "w1") == "claimed"
    assert records.claim(job_id, "lightgbm", "w2") == "gone"
    assert records.claim(job_id, "xgboost", "w2") == "claimed"
    assert not records.report(job_id, "lightgbm", "w1", progress=0.6, stage="training lightgbm", log=["a"])
    assert store.get(job_id)["progress"] == pytest.approx(FIRST + SPAN * 0.6 / 3)
    assert not records.report(job_id, "xgboost", "w2", progress=0.3, stage="training xgboost", log=["b"])
    job = store.get(job_id)
    assert job["progress"] == pytest.approx(FIRST + SPAN * 0.9 / 3)
    assert job["stage"] == "training xgboost" and job["worker"] == "w2" and job["log_tail"] == ["a", "b"]
    records.report(job_id, "xgboost", "w2", progress=0.1, stage="training xgboost", log=[])  # a refit restarts
    assert store.get(job_id)["progress"] == pytest.approx(FIRST + SPAN * 0.9 / 3)
    store.request_cancel(job_id)
    assert records.report(job_id, "lightgbm", "w1", progress=0.7, stage="training lightgbm", log=[])  # must stop
    assert records.claim(job_id, "move", "w3") == "cancel"  # the task that finds it ends it


def test_exactly_one_task_ends_last_and_holds_the_job(fanned):
    now, store, records, job_id = fanned
    for task, worker in (("lightgbm", "w1"), ("xgboost", "w2"), ("move", "w1")):
        assert records.claim(job_id, task, worker) == "claimed"
    assert records.complete(job_id, "lightgbm", {"k": 1}, "w1") == (True, False)
    assert records.complete(job_id, "lightgbm", {"k": 1}, "w1") == (False, False)  # recorded once
    assert records.complete(job_id, "move", {"k": 3}, "w1") == (True, False)
    assert records.complete(job_id, "xgboost", {"k": 2}, "w2") == (True, True)
    assert store.get(job_id)["worker"] == "w2"
    assert list(records.results(job_id)) == ["lightgbm", "xgboost", "move"]  # in the tasks' order
    assert store.fail_held_by("w1", "stopped") == []  # w1 ran tasks of it, none now
    assert store.fail_held_by("w2", "stopped") == [job_id]  # w2 is ending it
    assert records.results(job_id) == {}


def test_a_task_ending_after_its_job_ended_is_told_so(fanned):
    now, store, records, job_id = fanned
    assert records.claim(job_id, "lightgbm", "w1") == "claimed"
    store.finish(job_id, "failed", error="another task failed")
    assert records.complete(job_id, "lightgbm", {}, "w1") == (False, False)
    assert records.claim(job_id, "xgboost", "w2") == "gone"


def test_the_reaper_ends_a_job_whose_task_went_silent_not_one_whose_tasks_wait(fanned):
    now, store, records, job_id = fanned
    now[0] += 100  # nothing reported for long: its tasks wait on the queue behind another job's
    assert store.reap_stale() == []
    assert records.claim(job_id, "lightgbm", "w1") == "claimed"
    assert records.claim(job_id, "xgboost", "w2") == "claimed"
    now[0] += 20
    records.report(job_id, "xgboost", "w2", progress=0.5, stage="training xgboost", log=[])  # the job beats on
    now[0] += 20  # lightgbm's worker has said nothing for 40 s: killed
    assert store.fail_held_by("coordinator", "stopped") == []  # it queued the tasks: it holds the job no more
    [dead] = store.reap_stale()
    assert dead["id"] == job_id and dead["status"] == "failed" and "stopped reporting" in dead["error"]
    assert records.report(job_id, "xgboost", "w2", progress=0.6, stage="training xgboost", log=[])  # stops


def test_a_job_whose_tasks_were_not_all_queued_is_reaped_when_silent(database_url):
    """Its first task was killed while queueing them: the ones it did not queue would never run."""
    now = [1000.0]
    store = JobStore(database_url, stale_s=30, clock=lambda: now[0])
    job = store.create("train", "1h", {"profile": "smoke"})
    store.claim(job["id"], "coordinator")
    TaskRecords(store).create(job["id"], ["lightgbm", "xgboost"])
    now[0] += 40
    assert [j["id"] for j in store.reap_stale()] == [job["id"]]


def test_a_running_jobs_tasks_go_before_jobs_not_yet_started(tmp_path):
    """On the embedded queue the workers finish the running job first, rather than start the next."""
    from coinpredict.config import Settings
    from coinpredict.jobs import JobQueue

    queue = JobQueue(Settings(models_dir=tmp_path / "models", database_url=f"sqlite:///{tmp_path / 'j.sqlite'}",
                              queue_path=tmp_path / "q.sqlite", offline=True))
    queue.submit("train", "4h", {"profile": "smoke", "models": ["lightgbm"]}, priority=3)
    queue._enqueue_task("running-job", "xgboost")
    assert [queue.huey.dequeue().name for _ in range(2)] == ["run_job_task", "run_job"]
