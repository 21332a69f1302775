"""Jobs on a real task queue: Huey, on its embedded SQLite storage by default (no server to run) or on
Redis when ``REDIS_URL`` is set (several machines). The web enqueues; the worker process
(``scripts/worker.py``, the Procfile's ``worker:`` line) consumes. Job records live in the JobStore,
so what a job did survives the queue and both processes."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Settings
from ..data.listing import CsvListing, folder_last_candle
from ..data.sources.csvdir import CsvFolderSource
from ..data.timeframes import DEFAULT_HORIZONS
from ..errors import ArtifactError, DataError, Unavailable
from ..models.artifacts import current_dir
from ..models.base import read_manifest
from ..models.registry import ENSEMBLE_ID, MODEL_IDS
from .fanout import execute, run_task
from .runner import reap, training_data_dir
from .store import JobStore

if TYPE_CHECKING:
    from huey import Huey

log = logging.getLogger(__name__)
_OPENING = threading.RLock()
BUSY_RETRY_S = 5  # a job waiting for its timeframe's running job is looked at again this often
# A running job's tasks go before jobs not yet started (the embedded queue; Redis keeps order): workers
# finish what is running first, so a job's tasks are spread over the workers rather than two jobs crawl.
TASK_PRIORITY = 100


def make_huey(settings: Settings) -> Huey:
    """Task results are not kept: a job's outcome lives in its record, and kept results would only grow."""
    from huey import RedisHuey, SqliteHuey

    if settings.redis_url:
        return RedisHuey("coinpredict", url=settings.redis_url, results=False)
    Path(settings.queue_path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("coinpredict", filename=str(settings.queue_path), results=False)


def served_runs(models_dir: Path, timeframe: str) -> Counter:
    """How many served single models of ``timeframe`` each training run made, by (end_exclusive, profile,
    horizons), from their manifests alone (a job verifies what it loads)."""
    runs: Counter = Counter()
    for model_id in MODEL_IDS:
        directory = current_dir(models_dir, timeframe, model_id)
        try:
            manifest = read_manifest(directory) if directory else None
        except ArtifactError:
            continue
        if manifest is not None:
            training = manifest.training or {}
            runs[(training.get("end_exclusive"), training.get("profile"), tuple(manifest.horizons or ()))] += 1
    return runs


class JobQueue:
    """What the web and the worker share: the records (``store``) and the queue (``huey``). The queue is
    opened on first use: a web worker that only reads job records never imports huey (about 20 MB)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = JobStore(settings.database_url, stale_s=settings.job_stale_s)
        self._listings: dict[Path, CsvListing] = {}
        self._huey: Huey | None = None

    @property
    def huey(self) -> Huey:
        """The queue, with the job task registered on it (a consumer and ``pending()`` need that)."""
        if self._huey is None:
            with _OPENING:  # two request threads queueing the first job at once open one queue
                if self._huey is None:
                    huey = make_huey(self.settings)
                    self._run = huey.task(name="run_job")(self._execute)
                    self._task = huey.task(name="run_job_task")(self._execute_task)
                    self._huey = huey
        return self._huey

    def _execute(self, job_id: str) -> str:
        """A job's first task: prepare, then queue one task per model (``jobs.fanout``)."""
        outcome = execute(job_id, self.store, self.settings, self._enqueue_task)
        if outcome == "busy":
            self.store.report_waiting(job_id, "waiting for the running job of its timeframe")
            self._run.schedule((job_id,), delay=BUSY_RETRY_S)
        return outcome

    def _enqueue_task(self, job_id: str, task: str) -> None:
        if self.huey.storage.priority:
            self._task(job_id, task, priority=TASK_PRIORITY)
        else:
            self._task(job_id, task)

    def _execute_task(self, job_id: str, task: str) -> str:
        return run_task(job_id, task, self.store, self.settings)

    def submit(self, kind: str, timeframe: str, params: dict, *, priority: int = 0,
               schedule_key: str | None = None) -> dict:
        """Record the job, then queue it; when the queue cannot take it, the record ends as failed (it
        would otherwise wait forever and count against the queue limit) and the caller gets a 503.
        A higher ``priority`` runs before jobs queued earlier (the embedded queue; Redis keeps order).
        A ``schedule_key`` already recorded raises ``AlreadyQueued`` before anything is queued."""
        job = self.store.create(kind, timeframe, params, schedule_key=schedule_key)
        try:
            queue = self.huey  # the first job opens it
            if priority and queue.storage.priority:
                self._run(job["id"], priority=priority)
            else:
                self._run(job["id"])
        except Exception as exc:  # noqa: BLE001 - Redis down, SQLite file unwritable: any backend failure
            log.error("job %s could not be queued: %s", job["id"], exc)
            self.store.finish(job["id"], "failed", error="the task queue could not take it (unreachable)")
            raise Unavailable("the task queue is unreachable; try again shortly", code="queue_unavailable",
                              retry_after=30) from None
        return job

    def reap(self) -> list[dict]:
        return reap(self.store, self.settings.models_dir)

    def last_candle(self, timeframe: str) -> int:
        """Open time (ms) of the newest candle a job could train on (a cached folder summary)."""
        folder = training_data_dir(self.settings)
        if folder is None:
            raise DataError("no candles to train on")
        listing = self._listings.setdefault(folder, CsvListing(CsvFolderSource(folder)))
        return folder_last_candle(folder, timeframe, listing)

    def refit_ensemble(self, timeframe: str) -> dict | None:
        """Queue a refit of the ensemble over the members now served (after a promotion changed one),
        on the split most of them were trained on; None when one is already waiting or nothing fits."""
        if any(j["params"].get("models") == [ENSEMBLE_ID] and j["status"] == "queued"
               for j in self.store.active(timeframe)):
            return None
        runs = served_runs(self.settings.models_dir, timeframe)
        if not runs:
            return None
        (end, profile, horizons), _ = runs.most_common(1)[0]
        params = {"models": [ENSEMBLE_ID], "profile": profile or "default", "promote": "always", "end": end}
        if horizons:
            params["horizons"] = list(horizons)
        return self.submit("train", timeframe, params)


def queue_default_training(queue: JobQueue, *, from_store: bool = False,
                           profile: str = "default") -> list[tuple[str, dict | None]]:
    """``make run``'s first training: ``profile`` (TRAIN_PROFILE, default ``default``) on each default
    timeframe without a job queued or running, as (timeframe, job, or None where one waits). Each gets a
    priority by its place, 1h highest, so a 1h job queued again after an interrupted first run runs before
    the 4h and 1d jobs that run left queued: the first answer a user asks for is 1h's."""
    waiting = {j["timeframe"] for j in queue.store.active()}
    order = list(DEFAULT_HORIZONS)
    params = {"models": "all", "profile": profile, "promote": "always", **({"data": "store"} if from_store else {})}
    return [(tf, None if tf in waiting else queue.submit("train", tf, dict(params), priority=len(order) - place))
            for place, tf in enumerate(order)]
