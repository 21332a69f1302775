"""Job records: one claim per timeframe at a time, cancelling, and reaping jobs whose worker died."""

from __future__ import annotations

from coinpredict.jobs.store import JobStore


def store(tmp_path, now) -> JobStore:
    return JobStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}", stale_s=30, clock=lambda: now[0])


def test_one_running_job_per_timeframe(tmp_path):
    now = [1000.0]
    s = store(tmp_path, now)
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


def test_cancel_queued_at_once_and_running_at_its_next_report(tmp_path):
    now = [1000.0]
    s = store(tmp_path, now)
    queued, running = s.create("train", "1h", {}), s.create("train", "4h", {})
    assert s.request_cancel(queued["id"])["status"] == "cancelled"
    assert s.claim(queued["id"], "w") == "gone"
    s.claim(running["id"], "w")
    assert s.report(running["id"], progress=0.2, stage="training xgboost") is False
    assert s.request_cancel(running["id"])["status"] == "running"
    assert s.report(running["id"], progress=0.3, stage="training lightgbm") is True


def test_a_job_whose_worker_stopped_reporting_is_reaped_as_failed(tmp_path):
    now = [1000.0]
    s = store(tmp_path, now)
    job = s.create("train", "1h", {})
    s.claim(job["id"], "w")
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
