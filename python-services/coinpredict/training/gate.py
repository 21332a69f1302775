"""The promotion gate: a candidate version is served only if its log loss is not worse than the serving
version's on the same recent candles.

Which candles: those of the candidate's validation period that the serving version never trained on
(at or after its ``end_exclusive``), so a refit booster is not judged on rows it learnt. The
candidate's figures there are its predictions from before any refit (validation rows are out of
sample for it, apart from early stopping and calibration; the serving version's are recalibrated on the
same rows, so both are judged after the same in-sample Platt scaling). When the two share the very same
validation period (a retrain on the same candles), their own validation figures are compared. When
neither applies (too few such candles, or the serving version computes other features), the serving
version stays, and the result says why."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..common.metrics import log_loss
from ..common.times import iso, to_ms
from ..errors import ArtifactError
from ..features.datasets import PooledData, Scaler, input_rows
from ..models.artifacts import load_model
from ..models.base import DataView, sigmoid
from ..models.calibration import fit_platt
from ..models.manifest import Manifest

log = logging.getLogger(__name__)
MIN_GATE_ROWS = 200


@dataclass
class RawRecent:
    """Unscaled feature rows at the end of every symbol (validation plus each window's history), kept
    so a serving version can be scored with its own scaler."""

    rows: np.ndarray  # indices into the pooled data
    features: np.ndarray

    @classmethod
    def keep(cls, data: PooledData, from_ms: int) -> RawRecent:
        margin = input_rows(data.window) + 1
        rows = []
        for s in range(len(data.symbols)):
            own = np.flatnonzero(data.symbol_index == s)
            recent = own[data.t[own] >= from_ms]
            if len(recent):
                rows.append(own[max(0, np.searchsorted(own, recent[0]) - margin):])
        idx = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        return cls(idx, data.features[idx].copy())

    def view(self, data: PooledData, ends: np.ndarray, scaler: Scaler) -> DataView:
        """``ends`` (pooled indices, all inside the kept rows) over these rows scaled by ``scaler``."""
        sub = PooledData(data.feature_set, data.window, scaler.apply(self.features.copy()), data.t[self.rows],
                         data.close[self.rows], data.labels[self.rows], data.symbol_index[self.rows], data.symbols,
                         data.can_end[self.rows], data.horizons, scaler)
        return DataView(sub, np.searchsorted(self.rows, ends))


def recalibrated(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The serving version's probabilities after Platt scaling fitted on these very rows, per horizon: the
    candidate's calibration was fitted on its validation rows, which include them, so both are judged
    after the same in-sample calibration and the gate compares ranking skill, not who was calibrated
    where."""
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)
    logits = np.log(q / (1 - q))
    out = np.empty_like(logits)
    for j in range(p.shape[1]):
        a, b = fit_platt(logits[:, j], y[:, j])
        out[:, j] = sigmoid(a * logits[:, j] + b)
    return out


def mean_log_loss(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean([log_loss(y[:, j], p[:, j]) for j in range(y.shape[1])]))


def decide(model_id: str, *, models_dir, timeframe: str, valid: DataView, candidate_probs: np.ndarray,
           candidate_manifest: Manifest, raw: RawRecent | None, serving_out: dict | None = None) -> dict:
    """The gate's verdict and figures for one model: ``{"promote": bool, "basis", "reason", ...}``.
    When the serving version was scored on every validation row, at every horizon of the run, its
    predictions go into ``serving_out[model_id]`` as ``(probabilities, version)``: out of sample for it,
    they let the run's ensemble keep a member that stays served."""
    try:
        serving, manifest = load_model(models_dir, timeframe, model_id)
    except FileNotFoundError:
        return {"promote": True, "basis": "nothing served", "reason": "no version was being served"}
    except ArtifactError as exc:
        return {"promote": True, "basis": "serving version unusable", "reason": f"the serving version does not "
                                                                                 f"load ({exc.public})"}
    cand_training, serv_training = candidate_manifest.training, manifest.training or {}
    if serv_training.get("valid") == cand_training["valid"] and \
            serv_training.get("end_exclusive") == cand_training["end_exclusive"]:
        return _same_period(manifest, candidate_manifest)
    return _on_unseen(serving, manifest, valid, candidate_probs, candidate_manifest, raw,
                      serving_out if serving_out is not None else {})


def _same_period(serving_manifest: Manifest, candidate_manifest: Manifest) -> dict:
    def mean_ll(m: Manifest) -> float:
        by_h = m.metrics.get("validation_by_horizon") or {"1": m.metrics["validation"]}
        return float(np.mean([v["log_loss"] for v in by_h.values()]))

    cand, serv = mean_ll(candidate_manifest), mean_ll(serving_manifest)
    return {"promote": cand <= serv, "basis": "same validation period", "candidate_log_loss": round(cand, 6),
            "serving_log_loss": round(serv, 6), "n": candidate_manifest.training["n_valid"],
            "period": candidate_manifest.training["valid"], "serving_version": serving_manifest.version}


def _on_unseen(serving, manifest: Manifest, valid: DataView, candidate_probs: np.ndarray, candidate_manifest: Manifest,
               raw: RawRecent | None, serving_out: dict) -> dict:
    kept = {"promote": False, "serving_version": manifest.version}
    since = to_ms((manifest.training or {}).get("end_exclusive"))
    if since is None or raw is None:
        return {**kept, "basis": "not comparable", "reason": "the serving version's training end is unknown"}
    if manifest.feature_hash != candidate_manifest.feature_hash or manifest.window != candidate_manifest.window:
        return {**kept, "basis": "not comparable", "reason": "the serving version computes other features; "
                                                             "promote it explicitly (promote: always)"}
    data = valid.data
    rows = np.flatnonzero(data.t[valid.ends] >= since)
    if len(rows) < MIN_GATE_ROWS:
        return {**kept, "basis": "not comparable", "n": int(len(rows)),
                "reason": f"only {len(rows)} validation candles after the serving version's training end "
                          f"(at least {MIN_GATE_ROWS} are needed to compare)"}
    cand_h, serv_h = candidate_manifest.horizons, manifest.output_horizons
    common = [h for h in cand_h if h in serv_h]
    if not common:
        return {**kept, "basis": "not comparable", "reason": "no horizon in common with the serving version"}
    ends = valid.ends[rows]
    serving_probs = serving.predict_proba(raw.view(data, ends, Scaler.from_dict(manifest.scaler))
                                          .inputs(serving.input_kind))
    if len(rows) == len(valid.ends) and list(serv_h) == list(cand_h):
        serving_out[serving.model_id] = (serving_probs.reshape(len(ends), -1), manifest.version)
    y = data.labels[ends][:, [cand_h.index(h) for h in common]]
    cand = mean_log_loss(y, candidate_probs[rows][:, [cand_h.index(h) for h in common]])
    serv = mean_log_loss(y, recalibrated(serving_probs.reshape(len(ends), -1)[:, [serv_h.index(h) for h in common]],
                                         y))
    return {"promote": cand <= serv, "basis": "candles neither version trained on",
            "candidate_log_loss": round(cand, 6), "serving_log_loss": round(serv, 6), "n": int(len(rows)),
            "horizons": common, "period": [iso(int(data.t[ends].min())), iso(int(data.t[ends].max()))],
            "serving_version": manifest.version}
