"""Running one training job inside the worker: claim it, train with ``scripts/train.py``'s pipeline,
report progress, a heartbeat and a log tail while it runs, stop when cancelled, and end it.

A job that does not succeed leaves nothing behind: the versions it wrote are unserved until its very
end, and are deleted when it fails or is cancelled (by the reaper when its worker was killed)."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections import deque
from pathlib import Path

from ..common.times import iso
from ..config import Settings
from ..data.export import export_store, trainable_symbols
from ..data.listing import folder_last_candle
from ..data.origin import DOWNLOADED_OHLCV, SHARED_OHLCV, SYNTHETIC_OHLCV
from ..data.sources.csvdir import folder_problem
from ..data.stores import open_candle_store
from ..data.timeframes import TIMEFRAME_MS
from ..errors import ArtifactError, Conflict, NotFound
from ..models.artifacts import model_root
from ..models.base import MANIFEST, read_manifest
from ..models.registry import ENSEMBLE_ID, MODEL_IDS
from ..training.pipeline import RunCancelled, RunResult, summary_table, train_models
from ..training.versions import clean_partial, delete_version
from .store import JobStore, worker_name

log = logging.getLogger(__name__)
HEARTBEAT_S = 2.0
REPORT_EVERY_S = 1.0


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


def execute(job_id: str, store: JobStore, settings: Settings) -> str:
    """Run a queued job to its end; ``busy`` when another job of its timeframe runs (try later)."""
    claim = store.claim(job_id, worker_name())
    if claim != "claimed":
        return claim
    job = store.get(job_id)
    with Reporter(store, job_id) as reporter:
        handler = _LogTail(reporter)
        watched = [logging.getLogger(n) for n in ("coinpredict.training", "coinpredict.models")]
        for logger in watched:
            logger.addHandler(handler)
            logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))
        try:
            result = run_training(job, settings, reporter)
        except JobCancelled:
            discard_versions(settings.models_dir, job["timeframe"], job_id)
            store.finish(job_id, "cancelled", stage="cancelled while running; nothing it trained is served")
            return "cancelled"
        except Exception as exc:  # noqa: BLE001 - any failure ends this job, never the worker
            log.exception("job %s failed", job_id)
            discard_versions(settings.models_dir, job["timeframe"], job_id)
            store.finish(job_id, "failed", error=_public(f"{type(exc).__name__}: {exc}", settings), stage="failed")
            return "failed"
        finally:
            for logger in watched:
                logger.removeHandler(handler)
    store.report(job_id, log=list(reporter.lines))
    store.finish(job_id, "succeeded", result=result, stage="done")
    return "succeeded"


def _public(message: str, settings: Settings) -> str:
    """A failure as a job record keeps it: the training folder named by its role, not its path (the
    API also redacts MODELS_DIR and the like)."""
    folder = training_data_dir(settings)
    message = message.replace(str(Path(settings.store_path).parent / "training-candles"), "the stored candles")
    return message.replace(str(folder), "the training candles folder") if folder else message


def run_training(job: dict, settings: Settings, reporter: Reporter) -> dict:
    if job["params"].get("data") != "store":
        return _train(job, settings, reporter, training_data_dir(settings))
    # A live service retrains on what it ingested: the store, written out as a folder for this job only.
    store = open_candle_store(settings)
    folder = Path(settings.store_path).parent / "training-candles" / job["id"]
    try:
        reporter(0.0, "writing the stored candles out for training")
        return _train(job, settings, reporter,
                      export_store(store, job["timeframe"], folder, trainable_symbols(store, job["timeframe"])))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        store.close()


def _train(job: dict, settings: Settings, reporter: Reporter, data_dir: Path | None) -> dict:
    params, tf = job["params"], job["timeframe"]
    if data_dir is None:
        if settings.ohlcv_dir is not None:
            raise ValueError(f"no candles to train on: OHLCV_DIR {folder_problem(settings.ohlcv_dir)}")
        raise ValueError("no candles to train on: set OHLCV_DIR (or run make run once to prepare data/ohlcv)")
    end = params.get("end") or iso(folder_last_candle(data_dir, tf) + TIMEFRAME_MS[tf])
    ids = None if params.get("models", "all") == "all" else list(params["models"])
    results = train_models(data_dir=data_dir, timeframe=tf, end=end, models_dir=settings.models_dir,
                           profile=params.get("profile", "default"), model_ids=ids, start=params.get("start"),
                           horizons=tuple(params["horizons"]) if params.get("horizons") else None,
                           promote=params.get("promote", "if_better"), report=reporter, tags={"job": job["id"]})
    for row in summary_table(results).splitlines():
        reporter.line(row)
    return job_result(results, end)


def job_result(results: RunResult, end: str) -> dict:
    """A training job's JSON result (the API's shape) from the run's typed result."""
    models = results.models
    return {"versions": {m: r.version for m, r in models.items()}, "promoted": results.promoted,
            "gate": {m: r.gate for m, r in models.items()},
            "validation": {m: r.validation for m, r in models.items()},
            "end": end, "horizons": list(results.horizons), "seconds": round(results.seconds, 1),
            "data_range": {k: results.ranges.get(k) for k in ("train", "valid", "end_exclusive")}}


def discard_versions(models_dir: Path, timeframe: str, job_id: str) -> list[str]:
    """Delete the unserved versions a job wrote (it did not finish, so none of them counts); a version it
    got to promote before it ended is served, and stays."""
    gone = []
    for model_id in (*MODEL_IDS, ENSEMBLE_ID):
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
    if dead:
        clean_partial(models_dir, older_than_s=store.stale_s)
    return dead
