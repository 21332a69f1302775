"""Training one member of a timeframe: fit, calibrate, validate on every horizon, refit (boosters) and
save it as an unserved version, which the promotion step decides on later."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..common.metrics import classification_metrics, clustered_auc_ci, skill
from ..models.explain import importance
from ..models.manifest import Manifest
from ..models.registry import create_model
from .artifacts import save_model
from .profiles import Profile
from .results import MemberResult
from .split import Split

log = logging.getLogger(__name__)


@dataclass
class Candidate:
    """A member's new version as the gate and the ensemble see it: its validation predictions (before
    any refit) and its manifest."""

    probs: np.ndarray
    manifest: Manifest

    @property
    def version(self) -> str:
        return self.manifest.version


def validation_metrics(split: Split, p: np.ndarray) -> tuple[dict, dict]:
    """Metrics of the first horizon (what ``metrics.validation`` has always held) and of each horizon,
    with a 95% AUC interval that counts correlated forecasts once per cluster."""
    y, horizons = split.valid.labels, split.data.horizons
    by_horizon = {}
    for j, h in enumerate(horizons):
        m = classification_metrics(y[:, j], p[:, j])
        m["auc_ci95"] = list(clustered_auc_ci(y[:, j], p[:, j], split.valid_clusters(h)))
        m["skill"] = skill(m["auc_ci95"])
        by_horizon[str(h)] = m
    return by_horizon[str(horizons[0])], by_horizon


def result_of(version: str, seconds: float, metrics: dict, by_horizon: dict, epochs: int,
              n_parameters: int, members: list[str] | None = None) -> MemberResult:
    return MemberResult(version=version, seconds=seconds, valid_auc=metrics["auc"],
                        valid_log_loss=metrics["log_loss"], skill=metrics["skill"],
                        valid_auc_by_horizon={h: m["auc"] for h, m in by_horizon.items()}, epochs=epochs,
                        n_parameters=n_parameters, members=members)


def importance_of(model, x_valid: np.ndarray, split: Split) -> dict | None:
    """The served model's global importance on the validation rows; a failure costs the version its
    importance only (the status then has none), never the version."""
    try:
        return importance(model, x_valid, split.data.feature_set, split.data.horizons)
    except Exception:  # noqa: BLE001 - an explanation library's failure must not fail training
        log.exception("%s: global importance not computed", model.model_id)
        return None


def train_member(model_id: str, split: Split, prof: Profile, seed: int, common: Manifest, models_dir: Path,
                 timeframe: str, progress: Callable[[float, str], None]) -> tuple[MemberResult, Candidate]:
    """Fit, calibrate, validate, refit (boosters) and save one model as an unserved version."""
    started = time.time()
    progress(0.0, f"training {model_id}")
    model = create_model(model_id)
    options = prof.fit_options(seed)
    epochs_planned = options["config"].epochs

    def on_epoch(row: dict) -> None:
        progress(min(row["epoch"] / epochs_planned, 0.95),
                 f"training {model_id}: epoch {row['epoch']}, validation AUC {row['valid_auc']:.4f}")

    options["config"] = replace(options["config"], on_epoch=on_epoch)
    model.fit(split.train, split.valid, **options)
    model.calibrate(split.valid)
    x_valid = split.valid.inputs(model.input_kind)
    p = model.predict_proba(x_valid)
    metrics, by_horizon = validation_metrics(split, p)
    epochs = len(model.history_)
    refit = model.input_kind == "table" and prof.refit_boosters
    if refit:
        progress(0.95, f"refitting {model_id} on training and validation candles")
        model.refit(split.train, split.valid, **options)
    seconds = time.time() - started
    manifest = common.with_fields(metrics={"validation": metrics, "validation_by_horizon": by_horizon},
                                  history=model.history_,
                                  training={**common.training, "seconds": round(seconds, 1), "epochs": epochs,
                                            "refit_on_train_and_validation": refit})
    version = save_model(model, models_dir, timeframe, manifest, validation_probs=p, promote=False,
                         validation_inputs=None if refit else x_valid,  # a refit predicts other probabilities
                         importance=importance_of(model, x_valid, split))
    log.info("%s trained in %.1fs: valid AUC %.4f", model_id, seconds, metrics["auc"])
    return (result_of(version, seconds, metrics, by_horizon, epochs, model.n_parameters()),
            Candidate(p, manifest.with_fields(version=version)))
