"""Deciding what a run serves: the policies (``always``, ``if_better`` through ``gate``, ``never``),
applying a verdict through ``versions.promote``, the ensemble's own rule, and the point after which a
cancel no longer stops the run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import ArtifactError, ServiceError
from ..models.artifacts import load_manifest
from ..models.ensemble import HorizonEnsembles
from ..models.registry import ENSEMBLE_ID
from .gate import decide
from .members import Candidate
from .results import MemberResult
from .split import Split
from .versions import promote as promote_version

log = logging.getLogger(__name__)

PROMOTE_POLICIES = ("always", "if_better", "never")
Report = Callable[[float, str], None]  # (fraction done, stage); a job's reporter raises to cancel the run


class RunCancelled(Exception):
    """Raised by a ``report`` callback to stop a run; honoured until the run starts promoting (from
    then on the run completes, so what it reports is what is served)."""


def quiet(_fraction: float, _stage: str) -> None:
    pass


def committing(report: Report) -> Report:
    """The report callback once promotions have begun: progress still goes out, a cancel no longer stops."""
    def still(fraction: float, stage: str) -> None:
        try:
            report(fraction, stage)
        except RunCancelled:
            log.warning("cancel asked while promoting: the run completes so its result says what is served")
    return still


def member_verdict(model_id: str, candidate: Candidate, promote: str, split: Split, models_dir: Path,
                   timeframe: str, kept: dict[str, tuple[np.ndarray, str]]) -> dict:
    """The policy's verdict on one member's new version (nothing is served yet); under ``if_better``
    ``kept`` receives the served version's predictions when the gate scored it on this run's rows."""
    if promote == "if_better":
        return decide(model_id, models_dir=models_dir, timeframe=timeframe, valid=split.valid,
                      candidate_probs=candidate.probs, candidate_manifest=candidate.manifest, raw=split.raw,
                      serving_out=kept)
    return {"promote": promote == "always", "basis": f"promote: {promote}"}


def promote_members(candidates: dict[str, Candidate], results: dict[str, MemberResult], promote: str,
                    split: Split, models_dir: Path, timeframe: str,
                    kept: dict[str, tuple[np.ndarray, str]]) -> list[str]:
    """Apply the policy to every trained member; returns the ids now serving this run's version.
    ``kept`` receives the served versions the gate scored on this run's validation rows."""
    verdicts = {m: member_verdict(m, c, promote, split, models_dir, timeframe, kept) for m, c in candidates.items()}
    return apply_verdicts(verdicts, results, promote, models_dir, timeframe)


def apply_verdicts(verdicts: dict[str, dict], results: dict[str, MemberResult], promote: str, models_dir: Path,
                   timeframe: str) -> list[str]:
    """Serve each member its verdict lets serve, in order; returns the ids now serving this run's version."""
    return [m for m, gate in verdicts.items()
            if apply(results[m], dict(gate), models_dir, timeframe, m, force=promote == "always")]


def apply(result: MemberResult, gate: dict, models_dir: Path, timeframe: str, model_id: str, *,
          force: bool) -> bool:
    """Serve the new version when the gate says so; ``versions.promote`` loads it back first, so a
    version damaged on its way to disk is refused and the serving one stays, and (unless ``force``: a run
    told to promote always, e.g. one switching a timeframe to other horizons) refuses one the serving
    cannot use (``compatibility``: other horizons than the timeframe serves)."""
    promoted = bool(gate.pop("promote"))
    if promoted:
        try:
            promote_version(models_dir, timeframe, model_id, result.version, force=force)
        except ServiceError as exc:
            promoted, gate["refused"] = False, exc.message
            log.error("%s: new version %s refused: %s", model_id, result.version, exc.message)
    result.promoted, result.gate = promoted, gate
    return promoted


def ensemble_gate(promote: str, changed: bool, result: MemberResult, models_dir: Path, timeframe: str) -> dict:
    """The ensemble follows its members; under ``if_better`` it is not served when it would leave out
    members the serving ensemble uses (trained on another split, their validation predictions do not line
    up with this run's): a smaller ensemble is not what was asked for."""
    gate = {"promote": promote == "always" or (promote == "if_better" and changed), "basis": "follows its members",
            "reason": "its members changed" if changed else "no member changed"}
    if promote == "if_better" and changed:
        try:
            _, manifest = load_manifest(models_dir, timeframe, ENSEMBLE_ID)
            ens = HorizonEnsembles.from_manifest(manifest)
            used = {m for h in ens.horizons for m in ens.members(h)}
        except (FileNotFoundError, ArtifactError, KeyError, ValueError):
            used = set()
        left_out = sorted(used - set(result.members or ()))
        if left_out:
            gate.update(promote=False, reason=f"it would leave out {', '.join(left_out)}, which the serving "
                                              f"ensemble uses (trained on another split): train them with it")
    return gate
