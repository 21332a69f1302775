"""Scheduled walk-forward retraining: due once RETRAIN_EVERY of candles newer than the served models'
training end exist; queued as an ordinary if_better job, never twice."""

from __future__ import annotations

import shutil

from coinpredict.common import clock
from coinpredict.config import Settings, parse_retrain_every
from coinpredict.data.market import MarketData
from coinpredict.data.sources.synthetic import SyntheticSource
from coinpredict.jobs import JobQueue
from coinpredict.jobs.schedule import RetrainScheduler
from tests.conftest import SYNTHETIC_END_MS, SYNTHETIC_SYMBOLS, write_ohlcv_csv

H = 3_600_000


def test_retrain_every_reads_per_timeframe_intervals_or_off():
    assert parse_retrain_every("1h=24h, 4h=3d,1d=1w") == {"1h": 86_400, "4h": 259_200, "1d": 604_800}
    assert parse_retrain_every("off") == {}


def test_due_retraining_is_queued_once_as_an_if_better_job(trained_dir, tmp_path):
    folder = tmp_path / "ohlcv"
    for hours_later in (10, 30):  # the folder grows: 10, then 30 candles past the models' training end
        now_s = (SYNTHETIC_END_MS + hours_later * H) / 1000
        source = SyntheticSource(SYNTHETIC_SYMBOLS, seed=11, clock=lambda now_s=now_s: now_s)
        for symbol in SYNTHETIC_SYMBOLS:
            write_ohlcv_csv(folder / "1h" / f"{symbol}.csv", source.fetch(symbol, "1h").last(2600))
        models = tmp_path / f"models-{hours_later}"
        shutil.copytree(trained_dir, models)
        settings = Settings(ohlcv_dir=folder, models_dir=models, offline=True,
                            database_url=f"sqlite:///{tmp_path / f'jobs-{hours_later}.sqlite'}",
                            queue_path=tmp_path / f"queue-{hours_later}.sqlite", retrain_every={"1h": 24 * 3600})
        previous = clock.use(lambda now_s=now_s: now_s)
        try:
            queue = JobQueue(settings)
            scheduler = RetrainScheduler(queue, MarketData(settings))
            queued = scheduler.run_once()
            if hours_later == 10:
                assert queued == []  # 10 new candles: not yet a day's worth
                continue
            [job] = queued
            assert job["timeframe"] == "1h" and job["status"] == "queued"
            assert job["params"] == {"models": "all", "profile": "smoke", "promote": "if_better",
                                     "end": "2025-06-16T21:00:00Z", "scheduled": True, "data": "folder",
                                     "horizons": [1, 4, 24]}
            assert scheduler.run_once() == []  # one job per timeframe at a time, and this end is tried
        finally:
            clock.use(previous)


def test_two_schedulers_racing_on_postgresql_queue_one_job_per_due_time(trained_dir, tmp_path, postgres):
    """Two workers both decide the same retraining is due before either records it (a barrier holds
    each at its insert): the database's unique key lets one job through, the other is already queued."""
    import threading
    import uuid

    import sqlalchemy as sa

    now_s = (SYNTHETIC_END_MS + 30 * H) / 1000
    source = SyntheticSource(SYNTHETIC_SYMBOLS, seed=11, clock=lambda: now_s)
    folder = tmp_path / "ohlcv"
    for symbol in SYNTHETIC_SYMBOLS:
        write_ohlcv_csv(folder / "1h" / f"{symbol}.csv", source.fetch(symbol, "1h").last(2600))
    models = tmp_path / "models"
    shutil.copytree(trained_dir, models)
    server = sa.make_url(postgres)
    name = f"schedule_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    database_url = server.set(database=name).render_as_string(hide_password=False)
    previous = clock.use(lambda: now_s)
    try:
        barrier = threading.Barrier(2, timeout=120)
        schedulers = []
        for i in range(2):
            settings = Settings(ohlcv_dir=folder, models_dir=models, offline=True, database_url=database_url,
                                queue_path=tmp_path / f"queue-{i}.sqlite", retrain_every={"1h": 24 * 3600})
            queue = JobQueue(settings)
            create = queue.store.create

            def held_create(*args, create=create, **kwargs):
                barrier.wait()  # both have decided; neither has recorded yet
                return create(*args, **kwargs)

            queue.store.create = held_create
            schedulers.append(RetrainScheduler(queue, MarketData(settings)))
        results: list = [None, None]

        def run(i):
            results[i] = schedulers[i].run_once()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        assert sorted(len(r) for r in results) == [0, 1], results
        [job] = [j for r in results for j in r]
        assert job["params"]["end"] == "2025-06-16T21:00:00Z" and job["schedule_key"] is not None
        assert [j["id"] for j in schedulers[0].queue.store.list()] == [job["id"]]
        for scheduler in schedulers:
            scheduler.queue.store.create = create  # no barrier: one alone would now wait forever
        assert schedulers[0].run_once() == [] and schedulers[1].run_once() == []  # this end is tried
    finally:
        clock.use(previous)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
