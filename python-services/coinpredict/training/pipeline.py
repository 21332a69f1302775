"""The training pipeline behind ``coinpredict.cli.train`` and the job queue: load candles, build pooled
features, split by time (``split``), train each member (``members``), decide what to serve
(``promotion``), then fit the ensemble (``ensemble_fit``). Every model of a timeframe predicts all of its
horizons (one label column each). The names callers import from here are re-exported."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from ..data.timeframes import default_horizons
from ..models.manifest import Manifest
from ..models.registry import ENSEMBLE_ID, MODEL_IDS, MOVE_ID
from .ensemble_fit import train_ensemble
from .members import Candidate, train_member, validation_metrics
from .move_fit import train_move
from .profiles import PROFILES, Profile
from .promotion import PROMOTE_POLICIES, Report, RunCancelled, apply, committing, ensemble_gate, promote_members, quiet
from .results import MemberResult, RunResult, summary_table
from .split import Split, load_split, make_split
from .untrained import members_the_data_supports, record_untrained

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
    into each manifest's ``training`` (a job's id)."""
    if promote not in PROMOTE_POLICIES:
        raise ValueError(f"promote is one of {', '.join(PROMOTE_POLICIES)}")
    report = report or quiet
    prof = PROFILES[profile].for_timeframe(timeframe)
    horizons = tuple(horizons or default_horizons(timeframe))
    import torch  # here: the web process imports this module (the job queue's tasks) and serves without torch

    torch.set_num_threads(max(1, min(torch.get_num_threads(), 2)))
    ids = model_ids or [*MODEL_IDS, ENSEMBLE_ID, MOVE_ID]
    t0 = time.time()
    report(0.0, "loading candles")
    split = load_split(data_dir, timeframe, prof, horizons, start, end, symbols, keep_raw=promote == "if_better",
                       report=report)
    if shuffle_labels:
        rng = np.random.default_rng(seed)
        for view in (split.train, split.valid):
            order = rng.permutation(len(view.ends))
            split.data.labels[view.ends] = split.data.labels[view.ends][order]
            if split.data.outperform is not None:
                split.data.outperform[view.ends] = split.data.outperform[view.ends][order]
    log.info("data ready in %.1fs: %s", time.time() - t0, split.ranges)
    common = Manifest(
        feature_names=list(split.data.feature_set.names), feature_hash=split.data.feature_set.hash,
        window=prof.window, horizon=horizons[0], horizons=list(horizons), targets=list(split.data.targets),
        scaler=split.data.scaler.to_dict(),
        training={**split.ranges, "symbols": split.data.symbols, "profile": profile, "seed": seed,
                  "data_dir": str(data_dir), "shuffled_labels": shuffle_labels, **(tags or {})})
    members, skipped = members_the_data_supports([i for i in ids if i not in (ENSEMBLE_ID, MOVE_ID)], split, prof,
                                                 timeframe)
    record_untrained(models_dir, timeframe, members, skipped)
    results, candidates = _train_members(members, split, prof, seed, common, models_dir, timeframe, report)
    report(0.95, "deciding what to serve")  # the last point where a cancel stops the run
    report = committing(report)
    kept: dict[str, tuple[np.ndarray, str]] = {}  # served versions scored on this run's validation rows
    served = promote_members(candidates, results, promote, split, models_dir, timeframe, kept)
    if ENSEMBLE_ID in ids and promote == "if_better" and members and not served:
        # Every member kept its served version: the serving ensemble combines exactly what it was fitted on.
        log.info("ensemble: no member changed, the serving ensemble stays")
    elif ENSEMBLE_ID in ids:
        report(0.97, "fitting the ensemble")
        results[ENSEMBLE_ID] = _ensemble(split, candidates, served, kept, promote, common, models_dir, timeframe,
                                         changed=bool(served) or not members)
    run = RunResult(results, list(horizons), time.time() - t0, dict(split.ranges), skipped=skipped)
    if MOVE_ID in ids:
        report(0.98, "fitting the move model")
        run.move = train_move(split, prof, seed, common, models_dir, timeframe, promote)
        run.seconds = time.time() - t0
    return run


def _train_members(members: list[str], split: Split, prof: Profile, seed: int, common: Manifest, models_dir: Path,
                   timeframe: str, report: Report) -> tuple[dict[str, MemberResult], dict[str, Candidate]]:
    """Each member trained and saved unserved, in order; progress from 10% to 95% of the run."""
    results: dict[str, MemberResult] = {}
    candidates: dict[str, Candidate] = {}
    for k, model_id in enumerate(members):
        def progress(done: float, stage: str, k=k) -> None:
            report(0.1 + 0.85 * (k + done) / len(members), stage)

        results[model_id], candidates[model_id] = train_member(model_id, split, prof, seed, common, models_dir,
                                                               timeframe, progress)
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
