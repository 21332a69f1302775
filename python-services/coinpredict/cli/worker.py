"""The worker process (the Procfile's ``worker:`` line): consumes the task queue, so training runs
here and never inside a web worker. Several may run (one or more per machine); each runs one job at a
time by default (``WORKER_THREADS``).

Every ``WORKER_TICK_S`` (wall seconds; what is due is read from the market clock, ``common.clock``) it
also keeps the service live: fetches each
watched symbol's candle shortly after it closes (live mode: the top-100 universe, the market-context
anchors and whatever was asked for in the last day, on every trained timeframe), scores the served
forecasts whose outcome candle has closed, and queues the retraining ``RETRAIN_EVERY`` makes due; on a
thread of its own it runs the strategies on paper at each close of their timeframe (``strategy.live``,
wired in ``worker_strategies``; ``STRATEGY_LATE_CANDLES``, default 1: how long a close waits for late
candles before it is skipped). Only
the worker holding the leader lease (``common.leader``) does so; the others run training jobs alone
and take the lease over when its holder dies.

At start and every few seconds it ends jobs whose worker died (a kill -9 leaves no trace otherwise) and
deletes what they left half done; on a normal stop it ends the job it was running as failed."""

from __future__ import annotations

import logging
import os
import sys
import threading

from coinpredict.common.leader import Leadership, make_lease
from coinpredict.config import Settings
from coinpredict.data.market import MarketData
from coinpredict.data.refresher import CandleRefresher
from coinpredict.data.universe import Universe
from coinpredict.jobs import JobQueue
from coinpredict.jobs.runner import discard_versions
from coinpredict.jobs.schedule import RetrainScheduler
from coinpredict.jobs.store import worker_name
from coinpredict.ledger import LedgerStore, score_due
from coinpredict.ledger.watch import watched_symbols
from coinpredict.models.artifacts import trained_timeframes
from coinpredict.strategy.live import LiveRunner
from coinpredict.strategy.store import StrategyStore

from .worker_strategies import MarketBars, ServedForecasts, TopByVolume

log = logging.getLogger("worker")
REAP_EVERY_S = 5.0


def reaper(queue: JobQueue, stop: threading.Event) -> None:
    while not stop.wait(REAP_EVERY_S):
        try:
            for job in queue.reap():
                log.warning("job %s ended as failed: its worker stopped reporting", job["id"])
        except Exception:  # noqa: BLE001 - a database hiccup must not stop the worker; the next round retries
            log.exception("reaping stale jobs failed")


class LiveLoop:
    """One round of the worker's live duties; a failure in one round is logged and the next retries."""

    def __init__(self, settings: Settings, queue: JobQueue):
        self.market = MarketData(settings)
        self.ledger = LedgerStore(settings.database_url)
        self.scheduler = RetrainScheduler(queue, self.market)
        live = self.market.live_store is not None and not settings.offline
        self.refresher = CandleRefresher(self.market) if live else None
        self.universe = Universe(None if settings.offline else settings.universe_url)
        self.models_dir = settings.models_dir
        self.strategies = LiveRunner(StrategyStore(settings.database_url), MarketBars(self.market),
                                     ServedForecasts(self.ledger, self.market, settings.models_dir),
                                     universe=TopByVolume(self.market),
                                     late=float(os.environ.get("STRATEGY_LATE_CANDLES", "1")))

    def run_once(self) -> dict:
        out = {}
        if self.refresher is not None:
            out["refresh"] = self.refresher.run_once(
                watched_symbols(self.universe, self.ledger, trained_timeframes(self.models_dir)))
        out["scores"] = score_due(self.ledger, lambda symbol, tf, last, end: self.market.candles(symbol, tf, last,
                                                                                                 end),
                                  read_market=self.market.held_series)
        out["retraining"] = [j["id"] for j in self.scheduler.run_once()]
        return out


def strategies_loop(runner: LiveRunner, stop: threading.Event, tick_s: float, leadership: Leadership) -> None:
    """The strategies on a thread of their own: a close computed through the serving path never delays the
    next candle's refresh (requests would then fetch it from the exchange themselves)."""
    while not stop.wait(tick_s):
        if not leadership.leading.is_set():
            continue
        try:
            for o in runner.run_once():
                log.info("strategy %s: close %s %s%s", o.strategy_id, o.close_time, o.status,
                         f" ({o.reason})" if o.reason else "")
        except Exception:  # noqa: BLE001 - as the live round: logged, the next round retries
            log.exception("strategies round failed")


def live_loop(settings: Settings, queue: JobQueue, stop: threading.Event, tick_s: float,
              leadership: Leadership) -> None:
    loop = LiveLoop(settings, queue)
    strategies = threading.Thread(target=strategies_loop, args=(loop.strategies, stop, tick_s, leadership),
                                  daemon=True, name="strategies")
    strategies.start()
    try:
        _live_rounds(loop, stop, tick_s, leadership)
    finally:
        strategies.join(10)  # a close cut short writes nothing: the next leader does it whole


def _live_rounds(loop: LiveLoop, stop: threading.Event, tick_s: float, leadership: Leadership) -> None:
    while not stop.wait(tick_s):
        if not leadership.leading.is_set():
            continue
        try:
            done = loop.run_once()
            refreshed = done.get("refresh", {})
            if refreshed.get("candles") or done["scores"]["scored"] or done["retraining"]:
                log.info("live: %s", done)
        except Exception:  # noqa: BLE001 - a hiccup (database busy, exchange answer) must not stop the loop
            log.exception("live round failed")


def main() -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s "
                                                                           "%(message)s")
    settings = Settings.from_env()
    queue = JobQueue(settings)
    queue.reap()
    stop = threading.Event()
    threading.Thread(target=reaper, args=(queue, stop), daemon=True, name="reaper").start()
    tick_s = float(os.environ.get("WORKER_TICK_S", "5"))
    leadership = Leadership(make_lease(settings.database_url, settings.redis_url, worker_name()), worker_name(),
                            renew_s=min(tick_s, 5.0))
    lease = threading.Thread(target=leadership.run, args=(stop,), daemon=True, name="lease")
    lease.start()
    live = threading.Thread(target=live_loop, args=(settings, queue, stop, tick_s, leadership), daemon=True,
                            name="live")
    live.start()
    threads = int(os.environ.get("WORKER_THREADS", "1"))
    log.info("worker %s: %d thread(s), queue %s, jobs in %s", worker_name(), threads,
             "redis" if settings.redis_url else "sqlite", settings.database_url.split("://", 1)[0])
    # Polls the queue at most every 2 s when idle (Huey backs off to 10 s by default): a job starts promptly.
    # A stop (Ctrl-C, SIGTERM) waits at most 2 s for a running job, so the cleanup below runs before a
    # supervisor's kill: the job is ended as failed and its unserved versions deleted.
    consumer = queue.huey.create_consumer(workers=threads, worker_type="thread", periodic=False, max_delay=2.0,
                                          shutdown_timeout=2.0)
    try:
        consumer.run()
    finally:
        stop.set()
        live.join(10)  # its round ends before the interpreter's exit shuts the thread pools it uses
        lease.join(5)  # the lease is given up: a follower takes over now, not when a Redis lease expires
        for job_id in queue.store.fail_held_by(worker_name(), "the worker was stopped while running it; nothing "
                                                               "it trained was promoted"):
            job = queue.store.get(job_id)
            discard_versions(settings.models_dir, job["timeframe"], job_id)
            log.warning("job %s ended as failed: the worker stopped", job_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
