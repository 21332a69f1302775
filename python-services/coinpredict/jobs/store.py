"""Job records that outlive the processes running them: one table through SQLAlchemy, so the default
embedded SQLite file and a PostgreSQL ``DATABASE_URL`` behave the same.

The web writes a job as ``queued``; a worker claims it (``running``) only when no other job of the
same timeframe is running, reports progress and a heartbeat while it runs, and ends it. A running job
whose heartbeat stops (its worker was killed) is ended as ``failed`` by whoever looks next."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid

import sqlalchemy as sa

from ..common.database import make_engine
from ..common.migrate import upgrade_to_head

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")
LOG_LINES = 20

metadata = sa.MetaData()  # a change to its tables needs a migration (coinpredict/migrations)
jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("timeframe", sa.String(8), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("progress", sa.Float, nullable=False, default=0.0),
    sa.Column("stage", sa.String(200), nullable=False, default="queued"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float),
    sa.Column("finished_at", sa.Float),
    sa.Column("heartbeat_at", sa.Float),
    sa.Column("worker", sa.String(200)),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, default=False),
    sa.Column("result", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("log_tail", sa.Text, nullable=False, default="[]"),
    sa.Column("schedule_key", sa.String(80)),  # a scheduled job's timeframe and end: queued once (migration 0003)
)
# At most one running job per timeframe, enforced by the database itself: two workers claiming at the
# same instant cannot both win, on SQLite or on PostgreSQL (where READ COMMITTED lets both see none).
one_running = sa.Index("one_running_per_timeframe", jobs.c.timeframe, unique=True,
                       sqlite_where=jobs.c.status == "running", postgresql_where=jobs.c.status == "running")


# A fanned-out job's tasks (``jobs.fanout``): one row per member (and the move model), each with its own
# heartbeat, so the reaper sees which worker died; ``pending`` until the whole set is on the queue (migration 0007).
job_tasks = sa.Table(
    "job_tasks", metadata,
    sa.Column("job_id", sa.String(32), primary_key=True),
    sa.Column("task", sa.String(40), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending, queued, running, done
    sa.Column("progress", sa.Float, nullable=False, default=0.0),
    sa.Column("stage", sa.String(200)),
    sa.Column("worker", sa.String(200)),
    sa.Column("heartbeat_at", sa.Float),
    sa.Column("result", sa.Text),
    sa.Column("log_tail", sa.Text, nullable=False, default="[]"),
)

# One job per scheduled retraining: two workers scheduling the same due time insert one record between them.
one_per_schedule = sa.Index("one_job_per_schedule", jobs.c.schedule_key, unique=True)


class AlreadyQueued(Exception):
    """A job with the same ``schedule_key`` exists (another scheduler queued it first)."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _row(row) -> dict:
    job = dict(row._mapping)
    job["params"] = json.loads(job["params"])
    job["result"] = json.loads(job["result"]) if job["result"] else None
    job["log_tail"] = json.loads(job["log_tail"] or "[]")
    return job


class JobStore:
    def __init__(self, url: str, *, stale_s: float = 60.0, clock=time.time):
        self.engine = make_engine(url)
        self.stale_s = stale_s
        self.clock = clock
        upgrade_to_head(self.engine)

    def create(self, kind: str, timeframe: str, params: dict, *, schedule_key: str | None = None) -> dict:
        """A queued record; with ``schedule_key`` at most one job ever holds it (``AlreadyQueued``)."""
        job_id = uuid.uuid4().hex[:16]
        try:
            with self.engine.begin() as conn:
                conn.execute(jobs.insert().values(
                    id=job_id, kind=kind, timeframe=timeframe, status="queued", params=json.dumps(params),
                    progress=0.0, stage="queued", created_at=self.clock(), cancel_requested=False,
                    log_tail="[]", schedule_key=schedule_key))
        except sa.exc.IntegrityError:
            if schedule_key is None:
                raise
            raise AlreadyQueued(schedule_key) from None
        return self.get(job_id)

    def get(self, job_id: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(jobs.select().where(jobs.c.id == job_id)).first()
        return _row(row) if row else None

    def list(self, *, limit: int = 50, status: str | None = None) -> list[dict]:
        query = jobs.select().order_by(jobs.c.created_at.desc()).limit(limit)
        if status:
            query = query.where(jobs.c.status == status)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(jobs.c.status, sa.func.count()).where(jobs.c.status.in_(ACTIVE))
                                .group_by(jobs.c.status)).all()
        found = dict(rows)
        return {s: int(found.get(s, 0)) for s in ACTIVE}

    def active(self, timeframe: str | None = None) -> list[dict]:
        query = jobs.select().where(jobs.c.status.in_(ACTIVE)).order_by(jobs.c.created_at)
        if timeframe:
            query = query.where(jobs.c.timeframe == timeframe)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def claim(self, job_id: str, worker: str) -> str:
        """``claimed``; ``busy`` when another job of its timeframe is running (a dead one holds it until
        it is reaped); ``gone`` when the job is no longer queued (cancelled, or already taken)."""
        now = self.clock()
        try:
            with self.engine.begin() as conn:
                won = conn.execute(jobs.update().where(jobs.c.id == job_id, jobs.c.status == "queued")
                                   .values(status="running", started_at=now, heartbeat_at=now, worker=worker,
                                           stage="starting")).rowcount
        except sa.exc.IntegrityError:  # one_running_per_timeframe: another job of the timeframe runs
            return "busy"
        return "claimed" if won else "gone"

    def report(self, job_id: str, *, progress: float | None = None, stage: str | None = None,
               log: list[str] | None = None) -> bool:
        """Progress and heartbeat of a running job; returns whether it must stop: cancelling was asked
        for, or it is no longer running (reaped as dead while its worker was paused)."""
        values: dict = {"heartbeat_at": self.clock()}
        if progress is not None:
            values["progress"] = max(0.0, min(1.0, float(progress)))
        if stage is not None:
            values["stage"] = stage[:200]
        if log is not None:
            values["log_tail"] = json.dumps(log[-LOG_LINES:])
        with self.engine.begin() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id, jobs.c.status == "running").values(**values))
            row = conn.execute(sa.select(jobs.c.cancel_requested, jobs.c.status).where(jobs.c.id == job_id)).first()
        return row is None or bool(row.cancel_requested) or row.status != "running"

    def report_waiting(self, job_id: str, stage: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id, jobs.c.status == "queued").values(stage=stage))

    def finish(self, job_id: str, status: str, *, result: dict | None = None, error: str | None = None,
               stage: str | None = None) -> bool:
        """End an active job; False when it had already ended (the first ending stands)."""
        values = {"status": status, "finished_at": self.clock(), "stage": stage or status,
                  "result": json.dumps(result, default=str) if result is not None else None, "error": error}
        if status == "succeeded":
            values["progress"] = 1.0
        with self.engine.begin() as conn:
            return bool(conn.execute(jobs.update().where(jobs.c.id == job_id, jobs.c.status.in_(ACTIVE))
                                     .values(**values)).rowcount)

    def request_cancel(self, job_id: str) -> dict | None:
        """A queued job is cancelled at once; a running one is asked to stop at its next report."""
        with self.engine.begin() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id, jobs.c.status == "queued")
                         .values(status="cancelled", finished_at=self.clock(), stage="cancelled before it started",
                                 cancel_requested=True))
            conn.execute(jobs.update().where(jobs.c.id == job_id, jobs.c.status == "running")
                         .values(cancel_requested=True, stage="cancelling"))
        return self.get(job_id)

    def reap_stale(self) -> list[dict]:
        """End running jobs whose worker stopped reporting (killed, or its machine went away): a task of
        it that runs without a heartbeat, or the job itself silent while none of its tasks waits on the
        queue (its first task, or the one ending it, was killed)."""
        cutoff = self.clock() - self.stale_s
        task_dead = sa.exists().where(job_tasks.c.job_id == jobs.c.id, job_tasks.c.status == "running",
                                      job_tasks.c.heartbeat_at < cutoff)
        waiting = sa.exists().where(job_tasks.c.job_id == jobs.c.id, job_tasks.c.status.in_(("queued", "running")))
        with self.engine.connect() as conn:
            dead = [r.id for r in conn.execute(sa.select(jobs.c.id).where(
                jobs.c.status == "running", sa.or_(task_dead, sa.and_(jobs.c.heartbeat_at < cutoff, ~waiting))))]
        ended = []
        for job_id in dead:
            if self.finish(job_id, "failed", error=f"the worker running it stopped reporting for over "
                                                   f"{self.stale_s:.0f} s (killed or crashed); the versions it "
                                                   f"wrote and did not serve are deleted", stage="worker lost"):
                ended.append(self.get(job_id))
        return ended

    def fail_held_by(self, worker: str, reason: str) -> list[str]:
        """End the jobs a stopping worker still holds: those it runs a task of, and those it prepares or
        ends (named as their worker while none of their tasks waits or runs)."""
        waiting = sa.exists().where(job_tasks.c.job_id == jobs.c.id, job_tasks.c.status.in_(("queued", "running")))
        with self.engine.connect() as conn:
            held = [r.id for r in conn.execute(sa.select(jobs.c.id).where(jobs.c.status == "running",
                                                                          jobs.c.worker == worker, ~waiting))]
            held += [r.job_id for r in conn.execute(sa.select(job_tasks.c.job_id).where(
                job_tasks.c.status == "running", job_tasks.c.worker == worker))]
        ended = [j for j in dict.fromkeys(held) if self.finish(j, "failed", error=reason, stage="worker stopped")]
        with self.engine.begin() as conn:  # their other tasks stop at their next report: no record needed
            conn.execute(job_tasks.delete().where(job_tasks.c.job_id.in_(ended)))
        return ended
