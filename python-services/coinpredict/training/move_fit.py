"""Training the move-size model (``models.move``) in a zoo run: on the run's split and scaled features,
saved as a version of ``move`` and served by the run's policy. It never joins the ensemble.

It is not refit on the validation rows: the validation period's standardized returns are its
conformal calibration, and they are only out of sample while the trees never saw them.

The ``if_better`` gate mirrors the direction models' (``gate``): the candidate serves when its mean
squared error of the log range is not above the serving version's, on the validation candles the serving
version never trained on (at least ``MIN_GATE_ROWS``), or on their shared validation period when both
were fitted on the same candles; otherwise the serving version stays and the gate says why."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..common.times import to_ms
from ..errors import ArtifactError, ServiceError
from ..features.datasets import Scaler, table_columns
from ..features.pipeline import FeatureSet
from ..models.artifacts import IMPORTANCE_FILE, load_manifest
from ..models.manifest import Manifest
from ..models.move import HAR_COLUMNS, MoveModel, future_targets, load_move_at, pooled_inputs
from ..models.registry import MOVE_ID
from .artifacts import save_version
from .gate import MIN_GATE_ROWS
from .profiles import Profile
from .split import Split
from .versions import promote as promote_version

log = logging.getLogger(__name__)


@dataclass
class MoveResult:
    """The run's move model: its version, validation figures per horizon, and what the gate did."""

    version: str
    seconds: float
    validation_by_horizon: dict[str, dict]
    promoted: bool = False
    gate: dict = field(default_factory=dict)


def _metrics(y: np.ndarray, mu: np.ndarray, ret: np.ndarray, model: MoveModel, j: int) -> dict:
    """Validation figures of horizon column ``j`` (the coverage is in sample for the quantiles: a check)."""
    resid = y - mu
    q = model.forecast(mu, np.full(len(mu), 0.5), j).quantiles_bps / 10_000
    return {"r2_log_move": float(1 - np.mean(resid ** 2) / np.var(y)), "mse_log_move": float(np.mean(resid ** 2)),
            "coverage_90": float(np.mean((ret >= q[:, 0]) & (ret <= q[:, 4]))),
            "coverage_50": float(np.mean((ret >= q[:, 1]) & (ret <= q[:, 3]))), "n": int(len(y))}


def train_move(split: Split, prof: Profile, seed: int, common: Manifest, models_dir: Path, timeframe: str,
               promote: str, *, serve: bool = True) -> MoveResult:
    """Fit, save (unserved) and apply ``promote`` (always, if_better, never) to the move model; with
    ``serve`` false the verdict is only recorded (``gate["promote"]``) for ``serve_move`` to apply after
    the run's last member (a fanned-out job)."""
    started = time.time()
    data = split.data
    log_rng, log_ret = future_targets(data.high, data.low, data.close, data.t, split.step_ms, data.horizons,
                                      data.symbol_index)
    train = split.train.ends[np.isfinite(log_rng[split.train.ends]).all(axis=1)]
    valid = split.valid.ends[np.isfinite(log_rng[split.valid.ends]).all(axis=1)]
    if prof.boost_rows and len(train) > prof.boost_rows:
        train = np.sort(np.random.default_rng(seed).choice(train, prof.boost_rows, replace=False))
    x_valid = pooled_inputs(data, valid)
    model = MoveModel().fit(pooled_inputs(data, train), log_rng[train], x_valid, log_rng[valid],
                            log_ret[valid], rounds=prof.boost_rounds, seed=seed)
    names = [*table_columns(FeatureSet(tuple(common.feature_names or ()))), *HAR_COLUMNS]
    importance = model.importance(x_valid, names, data.horizons, seed=seed)
    by_horizon = {str(h): _metrics(log_rng[valid, j], model.validation_mu_[:, j], log_ret[valid, j], model, j)
                  for j, h in enumerate(data.horizons)}
    seconds = time.time() - started
    manifest = common.with_fields(
        family="move", params=model.get_params(), state=model.state(),
        describe={"id": MOVE_ID, "family": "move", "kind": "move_size", "input_kind": "table",
                  "target": "log high-low range over the horizon", "inputs": "table rows + HAR terms"},
        metrics={"validation": by_horizon[str(data.horizons[0])], "validation_by_horizon": by_horizon},
        training={**common.training, "seconds": round(seconds, 1), "refit_on_train_and_validation": False})
    def write(directory: Path) -> list[str]:
        (directory / IMPORTANCE_FILE).write_text(json.dumps(importance))
        return [*model.save_weights(directory), IMPORTANCE_FILE]

    version = save_version(models_dir, timeframe, MOVE_ID, manifest, write, promote=False)
    gate = (_gate(model, split, valid, log_rng, manifest, models_dir, timeframe) if promote == "if_better"
            else {"promote": promote == "always", "basis": f"promote: {promote}"})
    result = MoveResult(version, round(seconds, 1), by_horizon, gate=gate)
    log.info("move trained in %.1fs: valid R2 of the log move %s", seconds,
             {h: round(m["r2_log_move"], 3) for h, m in by_horizon.items()})
    return serve_move(result, models_dir, timeframe, promote) if serve else result


def serve_move(result: MoveResult, models_dir: Path, timeframe: str, promote: str) -> MoveResult:
    """Serve the new version when its verdict says so (a damaged one is refused and the serving one stays)."""
    if result.gate.pop("promote", False):
        try:
            promote_version(models_dir, timeframe, MOVE_ID, result.version, force=promote == "always")
            result.promoted = True
        except ServiceError as exc:
            result.gate["refused"] = exc.message
            log.error("move: new version %s refused: %s", result.version, exc.message)
    return result


def _gate(model: MoveModel, split: Split, valid: np.ndarray, log_rng: np.ndarray, manifest: Manifest,
          models_dir: Path, timeframe: str) -> dict:
    """Serve the candidate when its log-range MSE is not worse than the serving version's (module doc)."""
    try:
        directory, serving = load_manifest(models_dir, timeframe, MOVE_ID)
        served = load_move_at(directory, serving)
    except FileNotFoundError:
        return {"promote": True, "basis": "nothing served"}
    except ArtifactError as exc:
        return {"promote": True, "basis": f"the serving version does not load ({exc.public})"}
    j = 0  # the first horizon, as the direction gate judges
    if serving.feature_hash != manifest.feature_hash or len(served.z_grid_) != log_rng.shape[1]:
        return {"promote": False, "basis": "the serving version computes other features or horizons: it stays"}
    candidate_mse = float(np.mean((log_rng[valid, j] - model.validation_mu_[:, j]) ** 2))
    unseen = split.data.t[valid] >= to_ms((serving.training or {}).get("end_exclusive", "2100-01-01T00:00:00Z"))
    if unseen.sum() >= MIN_GATE_ROWS and split.raw is not None:
        ends = valid[unseen]
        table = split.raw.view(split.data, ends, Scaler.from_dict(serving.scaler)).inputs("table")
        x = pooled_inputs(split.data, ends, table=table)
        serving_mse = float(np.mean((log_rng[ends, j] - served.predict_log(x, j)) ** 2))
        candidate_mse = float(np.mean((log_rng[ends, j] - model.validation_mu_[unseen, j]) ** 2))
        basis = f"log-range MSE on {int(unseen.sum())} validation candles the serving version never saw"
    elif (serving.training or {}).get("valid") == (manifest.training or {}).get("valid"):
        serving_mse = float(serving.validation.get("mse_log_move", np.inf))
        basis = "log-range MSE on the shared validation period"
    else:
        return {"promote": False, "basis": "too few candles to compare: the serving version stays"}
    return {"promote": candidate_mse <= serving_mse, "basis": basis,
            "candidate_mse": round(candidate_mse, 6), "serving_mse": round(serving_mse, 6)}
