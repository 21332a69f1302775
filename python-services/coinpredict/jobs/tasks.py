"""The records of a fanned-out job's tasks (``store.job_tasks``): created ``pending`` by the job's
first task, ``queued`` once all of them are on the queue, claimed (``running``) by whichever worker
pulls one, ``done`` with their result. Each running task reports its own progress and heartbeat; the
job's record shows their sum, so GET /jobs/<id> reads as one job."""

from __future__ import annotations

import json

import sqlalchemy as sa

from .store import LOG_LINES, JobStore, job_tasks, jobs

FIRST, SPAN = 0.1, 0.85  # the job's progress: preparing up to FIRST, the tasks' mean over SPAN, the ending after


def _locked(conn: sa.Connection, job_id: str, now: float):
    """The job's status, its row locked for the rest of the transaction: a write comes first, which
    takes the row lock on PostgreSQL and the database's write lock on SQLite (whose driver begins a
    transaction only at the first write), so tasks deciding on the job's state take turns."""
    conn.execute(jobs.update().where(jobs.c.id == job_id, jobs.c.status == "running").values(heartbeat_at=now))
    return conn.execute(sa.select(jobs.c.status, jobs.c.cancel_requested).where(jobs.c.id == job_id)).first()


class TaskRecords:
    def __init__(self, store: JobStore):
        self.store, self.engine = store, store.engine

    def create(self, job_id: str, tasks: list[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(job_tasks.delete().where(job_tasks.c.job_id == job_id))
            conn.execute(job_tasks.insert(), [
                {"job_id": job_id, "task": t, "position": k, "status": "pending", "progress": 0.0, "log_tail": "[]"}
                for k, t in enumerate(tasks)])

    def all_queued(self, job_id: str) -> None:
        """Every task is on the queue: from now on a job whose tasks wait is not taken for a dead one, and
        the worker that queued them no longer holds the job (its tasks' workers do: ``fail_held_by``)."""
        with self.engine.begin() as conn:
            conn.execute(job_tasks.update().where(job_tasks.c.job_id == job_id, job_tasks.c.status == "pending")
                         .values(status="queued"))

    def claim(self, job_id: str, task: str, worker: str) -> str:
        """``claimed``; ``cancel`` when the job is to be cancelled (the caller ends it); ``gone`` when the
        job has ended or the task was taken already."""
        now = self.store.clock()
        with self.engine.begin() as conn:
            job = _locked(conn, job_id, now)
            if job is None or job.status != "running":
                return "gone"
            if job.cancel_requested:
                return "cancel"
            won = conn.execute(job_tasks.update().where(job_tasks.c.job_id == job_id, job_tasks.c.task == task,
                                                        job_tasks.c.status.in_(("pending", "queued")))
                               .values(status="running", worker=worker, heartbeat_at=now, stage="starting")).rowcount
        return "claimed" if won else "gone"

    def report(self, job_id: str, task: str, worker: str, *, progress: float, stage: str, log: list[str]) -> bool:
        """The task's progress and heartbeat, and the job's: progress summed over its tasks (never going
        back), this stage, the newest log lines of all its tasks. Returns whether the task must stop
        (cancelling was asked for, or the job ended: another task failed, or it was reaped)."""
        now = self.store.clock()
        with self.engine.begin() as conn:
            conn.execute(job_tasks.update().where(job_tasks.c.job_id == job_id, job_tasks.c.task == task,
                                                  job_tasks.c.status == "running")
                         .values(progress=max(0.0, min(1.0, float(progress))), stage=stage[:200], heartbeat_at=now,
                                 log_tail=json.dumps(log[-LOG_LINES:])))
            rows = conn.execute(sa.select(job_tasks.c.progress, job_tasks.c.log_tail)
                                .where(job_tasks.c.job_id == job_id)).all()
            summed = FIRST + SPAN * sum(r.progress for r in rows) / max(1, len(rows))
            lines = sorted(line for r in rows for line in json.loads(r.log_tail))[-LOG_LINES:]
            running = (jobs.c.id == job_id, jobs.c.status == "running")
            conn.execute(jobs.update().where(*running).values(heartbeat_at=now, stage=stage[:200], worker=worker,
                                                              log_tail=json.dumps(lines)))
            conn.execute(jobs.update().where(*running, jobs.c.progress < summed).values(progress=summed))
            row = conn.execute(sa.select(jobs.c.cancel_requested, jobs.c.status).where(jobs.c.id == job_id)).first()
        return row is None or bool(row.cancel_requested) or row.status != "running"

    def complete(self, job_id: str, task: str, result: dict, worker: str) -> tuple[bool, bool]:
        """Record a task's result; returns (the job still runs, this was its last task: its worker now
        holds the job, to end it). The job's row is locked first, so of two tasks ending at once exactly
        one sees that none is left."""
        with self.engine.begin() as conn:
            job = _locked(conn, job_id, self.store.clock())
            done = conn.execute(job_tasks.update().where(job_tasks.c.job_id == job_id, job_tasks.c.task == task,
                                                         job_tasks.c.status == "running")
                                .values(status="done", progress=1.0, result=json.dumps(result))).rowcount
            left = conn.execute(sa.select(sa.func.count()).where(job_tasks.c.job_id == job_id,
                                                                 job_tasks.c.status != "done")).scalar_one()
            running = job is not None and job.status == "running" and bool(done)
            if running and left == 0:
                conn.execute(jobs.update().where(jobs.c.id == job_id).values(worker=worker))
        return running, running and left == 0

    def results(self, job_id: str) -> dict[str, dict]:
        """Each done task's result, in the tasks' order."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(job_tasks.c.task, job_tasks.c.result)
                                .where(job_tasks.c.job_id == job_id, job_tasks.c.status == "done")
                                .order_by(job_tasks.c.position)).all()
        return {r.task: json.loads(r.result) for r in rows}

    def forget(self, job_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(job_tasks.delete().where(job_tasks.c.job_id == job_id))
