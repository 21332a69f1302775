"""The training pipeline behind ``coinpredict.cli.train`` and the job queue: load candles, build pooled
features, split by time (``split``), train each member (``members``), decide what to serve
(``promotion``), then fit the ensemble (``ensemble_fit``). Every model of a timeframe predicts all of its
horizons (one label column each). The names callers import from here are re-exported."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from ..models.manifest import Manifest
from ..models.registry import ENSEMBLE_ID, MOVE_ID
from .ensemble_fit import train_ensemble
from .members import Candidate, train_member, validation_metrics
from .move_fit import train_move
from .prepared import Prepared, prepare
from .profiles import PROFILES, Profile
from .promotion import (
    PROMOTE_POLICIES,
    Report,
    RunCancelled,
    apply,
    apply_verdicts,
    committing,
    ensemble_gate,
    member_verdict,
    quiet,
)
from .results import MemberResult, RunResult, summary_table
from .split import Split, make_split

__all__ = ["PROFILES", "PROMOTE_POLICIES", "MemberResult", "Profile", "RunCancelled", "RunResult", "Split",
           "make_split", "summary_table", "train_ensemble", "train_models", "validation_metrics"]

log = logging.getLogger(__name__)


def train_models(*, data_dir: Path, timeframe: str, end: str, models_dir: Path, profile: str = "default",
                 model_ids: list[str] | None = None, start: str | None = None,
                 horizons: tuple[int, ...] | None = None, symbols: list[str] | None = None, seed: int = 0,
                 shuffle_labels: bool = False, promote: str = "always", report: Report | None = None,
                 tags: dict | None = None) -> RunResult:
    """Train ``model_ids`` (default: all 19, the ensemble and the move model). ``shuffle_labels`` trains a placebo:
    labels permuted within train and validation, so any skill it shows in evaluation is a leak.
    ``horizons``: candles ahead to predict (default: the timeframe's, ``data.timeframes``).

    Every version is written first and served only at the end (``promote``: ``always``; ``if_better``,
    through ``gate``; ``never``), so a run stopped half way never changes what is served. ``tags`` go
    into each manifest's ``training`` (a job's id). One process, in order; a job spreads the same steps
    over the workers (``jobs.fanout``)."""
    report = report or quiet
    limit_threads()
    prep = prepare(data_dir=data_dir, timeframe=timeframe, end=end, models_dir=models_dir, profile=profile,
                   model_ids=model_ids, start=start, horizons=horizons, symbols=symbols, seed=seed,
                   shuffle_labels=shuffle_labels, promote=promote, report=report, tags=tags)
    results, candidates = _train_members(prep, models_dir, report)
    report(0.95, "deciding what to serve")  # the last point where a cancel stops the run
    report = committing(report)
    kept: dict[str, tuple[np.ndarray, str]] = {}  # served versions scored on this run's validation rows
    verdicts = {m: member_verdict(m, c, promote, prep.split, models_dir, timeframe, kept)
                for m, c in candidates.items()}
    run = finish_run(prep, models_dir, results, candidates, verdicts, kept, report)
    if MOVE_ID in prep.ids:
        report(0.98, "fitting the move model")
        run.move = train_move(prep.split, prep.prof, seed, prep.common, models_dir, timeframe, promote)
        run.seconds = time.time() - prep.started
    return run


def limit_threads() -> None:
    """At most two torch threads per training process (here: the web imports this module and serves
    without torch)."""
    import torch

    torch.set_num_threads(max(1, min(torch.get_num_threads(), 2)))


def finish_run(prep: Prepared, models_dir: Path, results: dict[str, MemberResult], candidates: dict[str, Candidate],
               verdicts: dict[str, dict], kept: dict[str, tuple[np.ndarray, str]], report: Report) -> RunResult:
    """After the last member: serve what the verdicts let serve, then fit (and serve by its own rule) the
    ensemble. ``report`` no longer stops the run (``committing``)."""
    promote, timeframe, members = prep.promote, prep.timeframe, prep.members
    served = apply_verdicts(verdicts, results, promote, models_dir, timeframe)
    if ENSEMBLE_ID in prep.ids and promote == "if_better" and members and not served:
        # Every member kept its served version: the serving ensemble combines exactly what it was fitted on.
        log.info("ensemble: no member changed, the serving ensemble stays")
    elif ENSEMBLE_ID in prep.ids:
        report(0.97, "fitting the ensemble")
        results[ENSEMBLE_ID] = _ensemble(prep.split, candidates, served, kept, promote, prep.common, models_dir,
                                         timeframe, changed=bool(served) or not members)
    return RunResult(results, list(prep.horizons), time.time() - prep.started, dict(prep.split.ranges),
                     skipped=prep.skipped)


def _train_members(prep: Prepared, models_dir: Path,
                   report: Report) -> tuple[dict[str, MemberResult], dict[str, Candidate]]:
    """Each member trained and saved unserved, in order; progress from 10% to 95% of the run."""
    results: dict[str, MemberResult] = {}
    candidates: dict[str, Candidate] = {}
    members = prep.members
    for k, model_id in enumerate(members):
        def progress(done: float, stage: str, k=k) -> None:
            report(0.1 + 0.85 * (k + done) / len(members), stage)

        results[model_id], candidates[model_id] = train_member(model_id, prep.split, prep.prof, prep.seed,
                                                               prep.common, models_dir, prep.timeframe, progress)
    return results, candidates


def _ensemble(split: Split, candidates: dict[str, Candidate], served: list[str],
              kept: dict[str, tuple[np.ndarray, str]], promote: str, common: Manifest, models_dir: Path,
              timeframe: str, *, changed: bool) -> MemberResult:
    """Fit the ensemble on the members that will serve (under ``if_better``: the promoted ones and the
    served versions the gate kept, scored out of sample) and apply its gate."""
    chosen = served if promote == "if_better" else list(candidates)
    probs = {m: candidates[m].probs for m in chosen}
    versions = {m: candidates[m].version for m in chosen}
    for m, (p, version) in kept.items():  # members the gate kept: their served version, out of sample
        if m not in probs:
            probs[m], versions[m] = p, version
    result = train_ensemble(split, probs, models_dir, timeframe, common, versions)
    gate = ensemble_gate(promote, changed, result, models_dir, timeframe)
    apply(result, gate, models_dir, timeframe, ENSEMBLE_ID, force=promote == "always")
    return result
