"""A training job spread over the workers. Its first task (``execute``) claims the job, prepares its
data once (``training.prepared``, saved beside its versions) and queues one task per member (and the
move model); whichever workers are free run them (``run_task``), one worker alone runs them all in
turn. The task that ends last applies the promotion gate's verdicts, fits the ensemble and ends the job.

Nothing is served before that last step, so a cancel or a worker killed mid-job (the reaper sees its
task's heartbeat stop) ends the job as failed or cancelled with every version it wrote deleted; the
job's other tasks stop at their next report, and queued ones find it ended and do nothing."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..common.times import iso
from ..config import Settings
from ..data.export import export_store, trainable_symbols
from ..data.listing import folder_last_candle
from ..data.sources.csvdir import folder_problem
from ..data.stores import open_candle_store
from ..data.timeframes import TIMEFRAME_MS
from ..models.manifest import Manifest
from ..models.registry import MOVE_ID
from ..training.members import Candidate, train_member
from ..training.move_fit import MoveResult, serve_move, train_move
from ..training.pipeline import finish_run, limit_threads, summary_table
from ..training.prepared import Prepared, prepare
from ..training.promotion import committing, member_verdict
from ..training.results import MemberResult
from .runner import (
    JobCancelled,
    Reporter,
    discard_versions,
    fail_job,
    job_folder,
    job_result,
    log_tail,
    training_data_dir,
)
from .store import JobStore, worker_name
from .tasks import FIRST, TaskRecords


def execute(job_id: str, store: JobStore, settings: Settings, enqueue: Callable[[str, str], None]) -> str:
    """Run a queued job's first task: claim it, prepare its data, queue its tasks (``enqueue(job_id,
    task)``). ``busy`` when another job of its timeframe runs (try later); ``fanned out`` once its tasks
    are queued; how it ended when it had none (an ensemble refit ends here)."""
    claim = store.claim(job_id, worker_name())
    if claim != "claimed":
        return claim
    job, records = store.get(job_id), TaskRecords(store)
    with Reporter(store, job_id) as reporter, log_tail(reporter):
        try:
            prep = prepare_job(job, settings, reporter)
            if not prep.tasks:
                return end_job(job, prep, {}, store, settings, reporter)
            prep.save(job_folder(settings.models_dir, job_id))
            records.create(job_id, prep.tasks)
            reporter(FIRST, f"queued {len(prep.tasks)} tasks for the workers")
        except Exception as exc:  # noqa: BLE001 - any failure ends this job, never the worker
            return fail_job(job, exc, store, settings)
    try:  # outside the reporter: in Huey's immediate mode (tests) each task runs right here
        for task in prep.tasks:
            enqueue(job_id, task)
    except Exception as exc:  # noqa: BLE001 - the queue could not take them: the job cannot finish
        return fail_job(job, exc, store, settings)
    records.all_queued(job_id)
    return "fanned out"


class TaskReporter(Reporter):
    """A task's progress, stage, log and heartbeat into its own record and the job's (``TaskRecords``)."""

    def __init__(self, store: JobStore, job_id: str, task: str):
        super().__init__(store, job_id)
        self.task, self.records, self.worker = task, TaskRecords(store), worker_name()

    def _flush(self) -> None:
        self._last = time.monotonic()
        fraction, stage = self._state
        if self.records.report(self.job_id, self.task, self.worker, progress=fraction, stage=stage,
                               log=list(self.lines)):
            self.cancelled.set()


def run_task(job_id: str, task: str, store: JobStore, settings: Settings) -> str:
    """Train one member (or the move model) of a fanned-out job; the last one to end ends the job."""
    records = TaskRecords(store)
    claim = records.claim(job_id, task, worker_name())
    if claim == "gone":  # the job ended (failed, cancelled, reaped) before this task's turn
        return "gone"
    job = store.get(job_id)
    if claim == "cancel":
        return fail_job(job, JobCancelled(), store, settings)
    folder = job_folder(settings.models_dir, job_id)
    with TaskReporter(store, job_id, task) as reporter, log_tail(reporter):
        try:
            reporter(0.0, f"loading the prepared data for {task}")
            prep = Prepared.load(folder)
            limit_threads()
            result = {**train_task(prep, task, folder, settings.models_dir, reporter), "worker": worker_name()}
        except Exception as exc:  # noqa: BLE001 - any failure (a cancel too) ends the job, never the worker
            return fail_job(job, exc, store, settings)
    running, last = records.complete(job_id, task, result, worker_name())
    if not running:  # it ended while this task trained: what this task wrote goes as well
        discard_versions(settings.models_dir, job["timeframe"], job_id)
        return "stopped"
    if not last:
        return "done"
    with Reporter(store, job_id) as reporter, log_tail(reporter):
        try:
            return end_job(job, prep, records.results(job_id), store, settings, reporter)
        except Exception as exc:  # noqa: BLE001
            return fail_job(job, exc, store, settings)


def train_task(prep: Prepared, task: str, folder: Path, models_dir: Path, report: Reporter) -> dict:
    """Train and save (unserved) one model, and record the gate's verdict on it: JSON for the task's
    record, arrays (its validation predictions, the serving version's) beside the prepared data."""
    if task == MOVE_ID:
        return {"move": asdict(train_move(prep.split, prep.prof, prep.seed, prep.common, models_dir, prep.timeframe,
                                          prep.promote, serve=False))}
    result, candidate = train_member(task, prep.split, prep.prof, prep.seed, prep.common, models_dir, prep.timeframe,
                                     report)
    kept: dict[str, tuple[np.ndarray, str]] = {}
    verdict = member_verdict(task, candidate, prep.promote, prep.split, models_dir, prep.timeframe, kept)
    _save_array(folder / f"probs-{task}.npy", candidate.probs)
    out = {"result": result.to_dict(), "verdict": verdict}
    if task in kept:
        _save_array(folder / f"kept-{task}.npy", kept[task][0])
        out["kept_version"] = kept[task][1]
    return out


def _save_array(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    with open(tmp, "wb") as handle:
        np.save(handle, array)
    os.replace(tmp, path)


def end_job(job: dict, prep: Prepared, results: dict[str, dict], store: JobStore, settings: Settings,
            reporter: Reporter) -> str:
    """After the last task: serve what the verdicts let serve, fit the ensemble, serve the move model by
    its verdict, and end the job with its result. A cancel is honoured up to the first promotion."""
    reporter(0.95, "deciding what to serve")  # the last point where a cancel stops the job
    report = committing(reporter)
    folder = job_folder(settings.models_dir, job["id"])
    members, candidates, verdicts, kept = {}, {}, {}, {}
    for m in prep.members:
        done = results[m]
        members[m] = MemberResult(**done["result"])
        candidates[m] = Candidate(np.load(folder / f"probs-{m}.npy"), Manifest(version=members[m].version))
        verdicts[m] = done["verdict"]
        if "kept_version" in done:
            kept[m] = (np.load(folder / f"kept-{m}.npy"), done["kept_version"])
    run = finish_run(prep, settings.models_dir, members, candidates, verdicts, kept, report)
    if MOVE_ID in results:
        report(0.98, "serving the move model")
        run.move = serve_move(MoveResult(**results[MOVE_ID]["move"]), settings.models_dir, prep.timeframe,
                              prep.promote)
    for row in summary_table(run).splitlines():
        reporter.line(row)
    store.report(job["id"], log=list(reporter.lines))
    end = job["params"].get("end") or prep.split.ranges["end_exclusive"]
    workers = {task: done["worker"] for task, done in results.items()}  # which worker trained what
    store.finish(job["id"], "succeeded", result={**job_result(run, end), "workers": workers}, stage="done")
    shutil.rmtree(folder, ignore_errors=True)
    TaskRecords(store).forget(job["id"])
    return "succeeded"


def prepare_job(job: dict, settings: Settings, reporter: Reporter) -> Prepared:
    """The job's shared data (``training.prepared``), from the candles folder or, for ``data: store``,
    from the live store written out as a folder for this job only (removed once prepared)."""
    if job["params"].get("data") != "store":
        return _prepare(job, settings, reporter, training_data_dir(settings))
    store = open_candle_store(settings)
    folder = Path(settings.store_path).parent / "training-candles" / job["id"]
    try:
        reporter(0.0, "writing the stored candles out for training")
        return _prepare(job, settings, reporter,
                        export_store(store, job["timeframe"], folder, trainable_symbols(store, job["timeframe"])))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        store.close()


def _prepare(job: dict, settings: Settings, reporter: Reporter, data_dir: Path | None) -> Prepared:
    params, tf = job["params"], job["timeframe"]
    if data_dir is None:
        if settings.ohlcv_dir is not None:
            raise ValueError(f"no candles to train on: OHLCV_DIR {folder_problem(settings.ohlcv_dir)}")
        raise ValueError("no candles to train on: set OHLCV_DIR (or run make run once to prepare data/ohlcv)")
    end = params.get("end") or iso(folder_last_candle(data_dir, tf) + TIMEFRAME_MS[tf])
    ids = None if params.get("models", "all") == "all" else list(params["models"])
    limit_threads()
    return prepare(data_dir=data_dir, timeframe=tf, end=end, models_dir=settings.models_dir,
                   profile=params.get("profile", "default"), model_ids=ids, start=params.get("start"),
                   horizons=tuple(params["horizons"]) if params.get("horizons") else None,
                   promote=params.get("promote", "if_better"), report=reporter, tags={"job": job["id"]})
