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
