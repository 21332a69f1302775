"""Scheduled walk-forward retraining: each trained timeframe is retrained as an ordinary job (seen in
/jobs) once ``RETRAIN_EVERY`` of newer candles exist than its served models were trained on, with the
``if_better`` gate: the candidate is served only if it beats the serving version on the newest candles
neither trained on.

Stateless: what is due follows from the served manifests (their training end), the job records (a
scheduled job already tried up to some end) and the newest candle on the market's clock, so a restart
never schedules twice what one would. Two schedulers deciding at the same instant (two workers both
leading across a lease hand-over) cannot both queue it: each job's record carries a key of its
timeframe and end that the database holds unique, and the second insert is refused as already queued."""

from __future__ import annotations

import logging
from collections import Counter

from ..common.times import iso, to_ms
from ..data.export import trainable_symbols
from ..data.market import MarketData
from ..data.timeframes import TIMEFRAME_MS
from ..errors import DataError
from ..models.artifacts import trained_timeframes
from .queue import JobQueue, served_runs
from .store import AlreadyQueued

log = logging.getLogger(__name__)


def served_run(models_dir, timeframe: str) -> tuple[int, str, tuple[int, ...]] | None:
    """(training end in ms, profile, horizons) that most served models of ``timeframe`` were trained with."""
    runs: Counter = Counter()
    for (end, profile, horizons), n in served_runs(models_dir, timeframe).items():
        if end:
            runs[(to_ms(end), profile or "default", horizons)] += n
    return runs.most_common(1)[0][0] if runs else None


class RetrainScheduler:
    def __init__(self, queue: JobQueue, market: MarketData):
        self.queue, self.market = queue, market
        self.settings = queue.settings

    def _candles(self, timeframe: str) -> tuple[str, int] | None:
        """Where a job would train (``store`` or ``folder``) and the end (exclusive, ms) of its candles."""
        store = self.market.live_store
        if store is not None and len(trainable_symbols(store, timeframe)) >= 2:
            newest = max(last for s, _, last, _ in store.summary(timeframe))
            return "store", newest + TIMEFRAME_MS[timeframe]
        try:
            return "folder", self.queue.last_candle(timeframe) + TIMEFRAME_MS[timeframe]
        except (DataError, ValueError, OSError):
            return None

    def _last_scheduled_end(self, timeframe: str) -> int:
        ends = [to_ms(j["params"]["end"]) for j in self.queue.store.list(limit=200)
                if j["timeframe"] == timeframe and j["params"].get("scheduled") and j["params"].get("end")]
        return max(ends, default=0)

    def run_once(self) -> list[dict]:
        """Queue every retraining that is due now; returns the jobs queued."""
        queued = []
        trained = set(trained_timeframes(self.settings.models_dir))
        for timeframe, every_s in self.settings.retrain_every.items():
            if timeframe not in trained or timeframe not in TIMEFRAME_MS or self.queue.store.active(timeframe):
                continue
            served, candles = served_run(self.settings.models_dir, timeframe), self._candles(timeframe)
            if served is None or candles is None:
                continue
            trained_end, profile, horizons = served
            source, end = candles
            if end - max(trained_end, self._last_scheduled_end(timeframe)) < every_s * 1000:
                continue
            params = {"models": "all", "profile": profile, "promote": "if_better", "end": iso(end),
                      "scheduled": True, "data": source}
            if horizons:
                params["horizons"] = list(horizons)
            try:
                job = self.queue.submit("train", timeframe, params, schedule_key=f"retrain:{timeframe}:{end}")
            except AlreadyQueued:
                log.info("retraining of %s up to %s was already queued by another worker", timeframe, iso(end))
                continue
            log.info("scheduled retraining of %s on candles up to %s (%s): job %s", timeframe, iso(end), source,
                     job["id"])
            queued.append(job)
        return queued
