#!/usr/bin/env python
"""The worker process (the Procfile's ``worker:`` line): consumes the task queue, so training runs
here and never inside a web worker; every minute it scores the served forecasts whose outcome is
known. Several may run (one or more per machine); each runs one job at a time by default
(``WORKER_THREADS``).

At start and every few seconds it ends jobs whose worker died (a kill -9 leaves no trace otherwise) and
deletes what they left half done; on a normal stop it ends the job it was running as failed."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python-services"))

from coinpredict.config import Settings  # noqa: E402
from coinpredict.data.market import MarketData  # noqa: E402
from coinpredict.jobs import JobQueue  # noqa: E402
from coinpredict.jobs.runner import discard_versions  # noqa: E402
from coinpredict.jobs.store import worker_name  # noqa: E402
from coinpredict.ledger import LedgerStore, score_due  # noqa: E402

log = logging.getLogger("worker")
REAP_EVERY_S = 5.0


def reaper(queue: JobQueue, stop: threading.Event) -> None:
    while not stop.wait(REAP_EVERY_S):
        try:
            for job in queue.reap():
                log.warning("job %s ended as failed: its worker stopped reporting", job["id"])
        except Exception:  # noqa: BLE001 - a database hiccup must not stop the worker; the next round retries
            log.exception("reaping stale jobs failed")


def schedule_scoring(queue: JobQueue, settings: Settings) -> None:
    """Every minute, score the recorded forecasts whose outcome candle has closed."""
    from huey import crontab

    ledger, market = LedgerStore(settings.database_url), MarketData(settings)

    @queue.huey.periodic_task(crontab(minute="*"), name="score_outcomes")
    def score_outcomes() -> dict:
        counts = score_due(ledger, lambda symbol, tf, last, end: market.candles(symbol, tf, last, end))
        if counts["scored"]:
            log.info("scored %d forecasts (%d wait for their candle)", counts["scored"], counts["pending"])
        return counts


def main() -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s "
                                                                           "%(message)s")
    settings = Settings.from_env()
    queue = JobQueue(settings)
    queue.reap()
    schedule_scoring(queue, settings)
    stop = threading.Event()
    threading.Thread(target=reaper, args=(queue, stop), daemon=True, name="reaper").start()
    threads = int(os.environ.get("WORKER_THREADS", "1"))
    log.info("worker %s: %d thread(s), queue %s, jobs in %s", worker_name(), threads,
             "redis" if settings.redis_url else "sqlite", settings.database_url.split("://", 1)[0])
    # Polls the queue at most every 2 s when idle (Huey backs off to 10 s by default): a job starts promptly.
    # A stop (Ctrl-C, SIGTERM) waits at most 2 s for a running job, so the cleanup below runs before a
    # supervisor's kill: the job is ended as failed and its unserved versions deleted.
    consumer = queue.huey.create_consumer(workers=threads, worker_type="thread", periodic=True, max_delay=2.0,
                                          shutdown_timeout=2.0)
    try:
        consumer.run()
    finally:
        stop.set()
        for job_id in queue.store.fail_held_by(worker_name(), "the worker was stopped while running it; nothing "
                                                               "it trained was promoted"):
            job = queue.store.get(job_id)
            discard_versions(settings.models_dir, job["timeframe"], job_id)
            log.warning("job %s ended as failed: the worker stopped", job_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
