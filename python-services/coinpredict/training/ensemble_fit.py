"""Fitting a timeframe's ensemble on validation predictions: this run's members', and the stored ones
of served members trained on the same split."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..errors import ArtifactError
from ..models.artifacts import load_validation_probs
from ..models.ensemble import HorizonEnsembles
from ..models.manifest import Manifest
from ..models.registry import ENSEMBLE_ID, MODEL_IDS
from .artifacts import save_version
from .members import result_of, validation_metrics
from .results import MemberResult
from .split import Split

log = logging.getLogger(__name__)


def _served_members(split: Split, valid_probs: dict[str, np.ndarray], models_dir: Path, timeframe: str,
                    common: Manifest, versions: dict[str, str | None]) -> None:
    """Add to ``valid_probs`` (and ``versions``) every served member not trained in this run whose stored
    validation predictions are on this split's rows, features, window and scaler."""
    for model_id in MODEL_IDS:
        if model_id in valid_probs:
            continue
        try:
            probs, manifest = load_validation_probs(models_dir, timeframe, model_id)
        except (FileNotFoundError, ArtifactError) as exc:
            log.warning("ensemble: %s unavailable (%s)", model_id, exc)
            continue
        probs = probs.reshape(len(probs), -1)
        if manifest.feature_hash != common.feature_hash or manifest.window != common.window or \
                manifest.scaler != common.scaler or len(probs) != len(split.valid) or \
                probs.shape[1] not in (len(split.data.horizons), len(split.data.horizons) * len(split.data.targets)):
            log.warning("ensemble: %s was trained on other data; leaving it out", model_id)
            continue
        valid_probs[model_id] = probs
        versions[model_id] = manifest.version


def train_ensemble(split: Split, valid_probs: dict[str, np.ndarray], models_dir: Path, timeframe: str,
                   common: Manifest, versions: dict[str, str] | None = None) -> MemberResult:
    """Weights from validation predictions only (the rule chosen out of fold within them); members not
    trained in this run contribute the validation predictions stored with their served version (a refit
    booster would be in-sample there now). ``versions``: this run's members' versions; the manifest names
    every member's version."""
    versions = dict(versions or {})
    _served_members(split, valid_probs, models_dir, timeframe, common, versions)
    if not valid_probs:
        raise ValueError(f"no served member of {timeframe} was trained on this split: train members with the ensemble")
    y, horizons = split.valid.labels, split.data.horizons
    ens = HorizonEnsembles.fit(valid_probs, y, horizons, split.data.t[split.valid.ends], split.step_ms)
    combined = np.column_stack([ens.for_horizon(h).combine({i: p[:, j] for i, p in valid_probs.items()})
                                ["probability_up"] for j, h in enumerate(horizons)])
    metrics, by_horizon = validation_metrics(split, combined)
    first = ens.for_horizon(horizons[0])
    params = {"method": first.method, "top_k": first.top_k, "rule": first.rule}
    manifest = common.with_fields(family="ensemble", params=params,
                                  **ens.to_manifest(),
                                  metrics={"validation": metrics, "validation_by_horizon": by_horizon},
                                  member_versions={m: versions.get(m) for m in valid_probs})
    version = save_version(models_dir, timeframe, ENSEMBLE_ID, manifest, promote=False)
    return result_of(version, 0.0, metrics, by_horizon, 0, len(valid_probs), members=sorted(valid_probs))
