"""What every task of a training job shares inside the worker (``jobs.fanout`` runs them): progress,
a heartbeat and a log tail into its record, stopping when cancelled, ending it as failed or cancelled,
and the reaper.

A job that does not succeed leaves nothing behind: the versions it wrote are unserved until its very
end, and are deleted with its prepared data when it fails or is cancelled (by the reaper when a worker
running one of its tasks was killed)."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..common.files import TMP_PREFIX, writer_is_dead
from ..config import Settings
from ..data.origin import DOWNLOADED_OHLCV, SHARED_OHLCV, SYNTHETIC_OHLCV
from ..data.sources.csvdir import folder_problem
from ..errors import ArtifactError, Conflict, NotFound
from ..models.artifacts import model_root
from ..models.base import MANIFEST, read_manifest
from ..models.registry import ENSEMBLE_ID, MODEL_IDS, MOVE_ID
from ..training.pipeline import RunCancelled, RunResult
from ..training.versions import clean_partial, delete_version
from .store import JobStore
from .tasks import TaskRecords

log = logging.getLogger(__name__)
HEARTBEAT_S = 2.0
REPORT_EVERY_S = 1.0
JOBS_FOLDER = ".jobs"  # MODELS_DIR/.jobs/<job id>/: a running job's prepared data, beside its versions


class JobCancelled(RunCancelled):
    """Raised from a progress report once cancelling was asked for (or the job was ended as dead while
    its worker was paused); unwinds the training run up to the point where it starts promoting."""


def training_data_dir(settings: Settings) -> Path | None:
    """Candles a job trains on, looked for where ``make run`` looks (data.origin): OHLCV_DIR when set (and
    nothing else then, not even when it is empty), else the shared folder beside the repository, what
    make run downloaded into data/ohlcv, the synthetic market it wrote."""
    if settings.ohlcv_dir is not None:
        return None if folder_problem(settings.ohlcv_dir) else Path(settings.ohlcv_dir)
    return next((f for f in (SHARED_OHLCV, DOWNLOADED_OHLCV, SYNTHETIC_OHLCV) if folder_problem(f) is None), None)


class Reporter:
    """Progress, stage and log lines into the job's record (at most once a second, plus every stage
    change), with a heartbeat thread so a long booster fit still shows the job alive."""

    def __init__(self, store: JobStore, job_id: str):
        self.store, self.job_id = store, job_id
        self.lines: deque[str] = deque(maxlen=40)
        self.cancelled = threading.Event()
        self._state = (0.0, "starting")
        self._last = 0.0
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True, name=f"job-{job_id}-heartbeat")

    def __enter__(self) -> Reporter:
        self._beat.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._beat.join(5)

    def __call__(self, fraction: float, stage: str) -> None:
        changed = stage.split(":")[0] != self._state[1].split(":")[0]
        self._state = (fraction, stage)
        if changed or time.monotonic() - self._last >= REPORT_EVERY_S:
            self._flush()
        if self.cancelled.is_set():
            raise JobCancelled()

    def line(self, text: str) -> None:
        self.lines.append(text)

    def _flush(self) -> None:
        self._last = time.monotonic()
        fraction, stage = self._state
        if self.store.report(self.job_id, progress=fraction, stage=stage, log=list(self.lines)):
            self.cancelled.set()

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                self._flush()
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the job; the next beat retries
                log.exception("job %s: heartbeat failed", self.job_id)


class _LogTail(logging.Handler):
    """The training log's INFO lines, as the job's log tail."""

    def __init__(self, reporter: Reporter):
        super().__init__(logging.INFO)
        self.reporter = reporter
        self.thread = threading.get_ident()  # the job's own lines: a worker may run several jobs at once

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        self.reporter.line(f"{time.strftime('%H:%M:%S', time.gmtime(record.created))} {record.getMessage()}")


@contextmanager
def log_tail(reporter: Reporter) -> Iterator[None]:
    """The training log's INFO lines of this thread go into the job's log tail while it runs."""
    handler = _LogTail(reporter)
    watched = [logging.getLogger(n) for n in ("coinpredict.training", "coinpredict.models")]
    for logger in watched:
        logger.addHandler(handler)
        logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))
    try:
        yield
    finally:
        for logger in watched:
            logger.removeHandler(handler)


def fail_job(job: dict, exc: BaseException, store: JobStore, settings: Settings) -> str:
    """End the job as cancelled (asked for) or failed, and delete the versions it wrote."""
    if isinstance(exc, JobCancelled):
        store.finish(job["id"], "cancelled", stage="cancelled while running; nothing it trained is served")
        outcome = "cancelled"
    else:
        log.error("job %s failed", job["id"], exc_info=exc)
        store.finish(job["id"], "failed", error=_public(f"{type(exc).__name__}: {exc}", settings), stage="failed")
        outcome = "failed"
    discard_versions(settings.models_dir, job["timeframe"], job["id"])
    TaskRecords(store).forget(job["id"])
    return outcome


def _public(message: str, settings: Settings) -> str:
    """A failure as a job record keeps it: the training folder named by its role, not its path (the
    API also redacts MODELS_DIR and the like)."""
    folder = training_data_dir(settings)
    message = message.replace(str(Path(settings.store_path).parent / "training-candles"), "the stored candles")
    return message.replace(str(folder), "the training candles folder") if folder else message


def job_result(results: RunResult, end: str) -> dict:
    """A training job's JSON result (the API's shape) from the run's typed result."""
    models = results.models
    return {"versions": {m: r.version for m, r in models.items()}, "promoted": results.promoted,
            "gate": {m: r.gate for m, r in models.items()},
            "validation": {m: r.validation for m, r in models.items()},
            "end": end, "horizons": list(results.horizons), "seconds": round(results.seconds, 1),
            "data_range": {k: results.ranges.get(k) for k in ("train", "valid", "end_exclusive")}}


def job_folder(models_dir: Path, job_id: str) -> Path:
    """Where a job keeps its prepared data while it runs: in MODELS_DIR, which every worker shares."""
    return Path(models_dir) / JOBS_FOLDER / job_id


def discard_versions(models_dir: Path, timeframe: str, job_id: str) -> list[str]:
    """Delete the unserved versions a job wrote (it did not finish, so none of them counts) and its
    prepared data; a version it got to promote before it ended is served, and stays."""
    shutil.rmtree(job_folder(models_dir, job_id), ignore_errors=True)
    gone = []
    for model_id in (*MODEL_IDS, ENSEMBLE_ID, MOVE_ID):
        root = model_root(models_dir, timeframe, model_id)
        for folder in (p.parent for p in root.glob(f"*/{MANIFEST}")) if root.is_dir() else []:
            try:
                if read_manifest(folder).job != job_id:
                    continue
                gone.append(delete_version(models_dir, timeframe, model_id, folder.name))
            except (ArtifactError, Conflict, NotFound):  # unreadable, served, or already gone
                continue
    return gone


def reap(store: JobStore, models_dir: Path) -> list[dict]:
    """End jobs whose worker died and delete what they left: their versions and half-written folders
    (older than any live writer's: the dead job reported nothing for ``stale_s``)."""
    dead = store.reap_stale()
    for job in dead:
        discard_versions(models_dir, job["timeframe"], job["id"])
        TaskRecords(store).forget(job["id"])
    if dead:
        clean_partial(models_dir, older_than_s=store.stale_s)
        _clean_preparing(models_dir, older_than_s=store.stale_s)
    return dead


def _clean_preparing(models_dir: Path, older_than_s: float) -> None:
    """Prepared data a killed first task was still writing (``.jobs/.tmp-*``): its writer is gone, or it
    is older than any live writer's."""
    root = Path(models_dir) / JOBS_FOLDER
    for tmp in root.glob(f"{TMP_PREFIX}*") if root.is_dir() else []:
        try:
            if writer_is_dead(tmp.name) or tmp.stat().st_mtime < time.time() - older_than_s:
                shutil.rmtree(tmp, ignore_errors=True)
        except FileNotFoundError:
            continue
