"""Job records: one claim per timeframe at a time, cancelling, and reaping jobs whose worker died; on
the embedded SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import pytest

from coinpredict.jobs.store import JobStore, jobs


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    url = request.getfixturevalue("postgres")
    with JobStore(url).engine.begin() as conn:  # each test starts from no jobs
        conn.execute(jobs.delete())
    return url


@pytest.fixture
def store(database_url):
    def make(now) -> JobStore:
        return JobStore(database_url, stale_s=30, clock=lambda: now[0])
    return make


def test_one_running_job_per_timeframe(store):
    now = [1000.0]
    s = store(now)
    a, b, c = (s.create("train", tf, {"profile": "smoke"}) for tf in ("1h", "1h", "4h"))
    assert s.claim(a["id"], "w1") == "claimed"
    assert s.claim(b["id"], "w2") == "busy"  # same timeframe: waits
    assert s.claim(c["id"], "w2") == "claimed"  # another timeframe runs beside it
    assert s.claim(a["id"], "w2") == "gone"  # already taken
    assert s.counts() == {"queued": 1, "running": 2}
    assert s.finish(a["id"], "succeeded", result={"promoted": ["xgboost"]})
    assert not s.finish(a["id"], "failed", error="late")  # the first ending stands
    assert s.claim(b["id"], "w2") == "claimed"
    done = s.get(a["id"])
    assert done["status"] == "succeeded" and done["progress"] == 1.0 and done["result"] == {"promoted": ["xgboost"]}


def test_cancel_queued_at_once_and_running_at_its_next_report(store):
    now = [1000.0]
    s = store(now)
    queued, running = s.create("train", "1h", {}), s.create("train", "4h", {})
    assert s.request_cancel(queued["id"])["status"] == "cancelled"
    assert s.claim(queued["id"], "w") == "gone"
    s.claim(running["id"], "w")
    assert s.report(running["id"], progress=0.2, stage="training xgboost") is False
    assert s.request_cancel(running["id"])["status"] == "running"
    assert s.report(running["id"], progress=0.3, stage="training lightgbm") is True


def running_job(store) -> tuple[JobStore, list[float], dict]:
    """A store on a clock the test moves, and a 1h job claimed by worker ``w``."""
    now = [1000.0]
    s = store(now)
    job = s.create("train", "1h", {})
    s.claim(job["id"], "w")
    return s, now, job


def test_a_job_whose_worker_stopped_reporting_is_reaped_as_failed(store):
    s, now, job = running_job(store)
    now[0] += 20
    s.report(job["id"], progress=0.5, stage="training", log=[f"line {i}" for i in range(50)])
    assert s.get(job["id"])["log_tail"] == [f"line {i}" for i in range(30, 50)]
    now[0] += 25
    assert s.reap_stale() == []  # reported 25 s ago: alive
    now[0] += 10
    [dead] = s.reap_stale()
    assert dead["status"] == "failed" and "stopped reporting" in dead["error"]
    other = s.create("train", "1h", {})
    assert s.claim(other["id"], "w2") == "claimed"  # the dead job no longer holds its timeframe
    assert s.fail_held_by("w2", "stopped") == [other["id"]]


def claim_together(stores: list[JobStore], ids: list[str]) -> list[str]:
    """Each store claims its job at the same instant (a barrier releases both threads)."""
    import threading

    barrier, outcomes = threading.Barrier(len(stores)), []

    def claim(i: int) -> None:
        barrier.wait()
        outcomes.append(stores[i].claim(ids[i], f"w{i}"))
    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_two_workers_claiming_at_once_never_both_win(database_url):
    stores = [JobStore(database_url, stale_s=30) for _ in range(2)]
    for _ in range(15):
        with stores[0].engine.begin() as conn:
            conn.execute(jobs.delete())
        ids = [stores[0].create("train", "1h", {})["id"] for _ in range(2)]
        assert sorted(claim_together(stores, ids)) == ["busy", "claimed"]


def test_a_job_reaped_while_its_worker_was_paused_is_told_to_stop(store):
    s, now, job = running_job(store)
    now[0] += 100
    assert s.reap_stale()
    assert s.report(job["id"], progress=0.5) is True
