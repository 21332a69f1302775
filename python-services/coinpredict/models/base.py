"""The one abstract base every model implements (scikit-learn spirit: the constructor only stores
its parameters; ``fit`` learns attributes ending in ``_`` and returns self)."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..errors import ArtifactError
from ..features.datasets import PooledData
from .calibration import fit_platt
from .manifest import Manifest

MANIFEST = "manifest.json"


class DataView:
    """A set of window ends into pooled data: what a model trains or is validated on."""

    def __init__(self, data: PooledData, ends: np.ndarray):
        self.data = data
        self.ends = np.asarray(ends, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ends)

    @property
    def labels(self) -> np.ndarray:
        """(n, H): one column per horizon of the data."""
        return self.data.labels[self.ends]

    @property
    def targets(self) -> np.ndarray:
        """(n, T*H): every target's labels (direction's horizons, then the relative target's when the data
        has it), NaN where unknown: what a model's outputs are fitted to, one column each."""
        return self.data.target_labels(self.ends)

    @property
    def horizons(self) -> tuple[int, ...]:
        return self.data.horizons

    def inputs(self, kind: str, subset: np.ndarray | None = None) -> np.ndarray:
        ends = self.ends if subset is None else self.ends[subset]
        return self.data.windows(ends) if kind == "sequence" else self.data.tables(ends)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


class PredictionModel(ABC):
    """Predicts P(close[t+h] > close[t]) for each of its horizons h (one output column per horizon, in
    the order of the training data's ``horizons``) from a window (sequence models) or a row (boosting);
    trained with the relative target, as many columns again after them: P(the coin beats the market's
    mean over those candles) per horizon (``PooledData.targets``, the manifest's ``targets``)."""

    family: ClassVar[str]
    input_kind: ClassVar[str] = "sequence"  # or "table"

    def __init__(self, model_id: str, **params):
        self.model_id = model_id
        self.params = params

    # -- learning -------------------------------------------------------------------------------
    @abstractmethod
    def fit(self, train: DataView, valid: DataView, **options) -> PredictionModel:
        """Learn from ``train``, early-stop on ``valid``; sets ``n_features_in_`` and ``history_``.
        ``options`` are the fields of ``models.options.FitOptions`` (the same for every family)."""

    @abstractmethod
    def decision_function(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated scores (logits), shape (n, n_outputs_)."""

    def calibrate(self, valid: DataView) -> PredictionModel:
        """Platt scaling on validation, per output (rows whose label is unknown left out): ``probability_up``
        then means what it says, and so does ``probability_outperform``."""
        scores, labels = self.decision_function(valid.inputs(self.input_kind)), valid.targets
        known = np.isfinite(labels)
        self.calibration_ = [fit_platt(scores[known[:, j], j], labels[known[:, j], j]) if known[:, j].any()
                             else (1.0, 0.0) for j in range(scores.shape[1])]
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, shape (n, n_outputs_)."""
        scores = self.decision_function(x)
        ab = np.asarray(getattr(self, "calibration_", None) or [(1.0, 0.0)] * scores.shape[1])
        return sigmoid(ab[:, 0] * scores + ab[:, 1])

    # -- persistence ---------------------------------------------------------------------------
    def get_params(self) -> dict:
        return dict(self.params)

    @abstractmethod
    def save_weights(self, directory: Path) -> list[str]:
        """Write native weights into ``directory``; return the file names."""

    @abstractmethod
    def load_weights(self, directory: Path, manifest: Manifest) -> None:
        """Restore weights saved by ``save_weights``; raise ArtifactError naming the bad file."""

    def save_serving(self, directory: Path, inputs: np.ndarray | None, expected: np.ndarray | None) -> list[str]:
        """Write a form that serves without the training library, checked to give ``expected`` (the
        calibrated probabilities) for ``inputs`` (the validation rows); return the file names. Boosters
        serve natively: nothing to write."""
        return []

    def state(self) -> dict:
        """What the manifest needs to rebuild this model besides weights."""
        return {"n_features_in": int(self.n_features_in_), "n_outputs": int(self.n_outputs_),
                "calibration": [list(ab) for ab in self.calibration_]}

    def restore_state(self, manifest: Manifest) -> None:
        if manifest.state is None:
            raise KeyError("state")
        state = manifest.state
        self.n_features_in_ = int(state["n_features_in"])
        self.n_outputs_ = int(state.get("n_outputs", 1))  # single-horizon artifacts predate the field
        calibration = state["calibration"]
        if calibration and not isinstance(calibration[0], list):
            calibration = [calibration]  # one (a, b) pair: a single-horizon artifact
        self.calibration_ = [tuple(float(v) for v in ab) for ab in calibration]
        if len(self.calibration_) != self.n_outputs_:
            raise ValueError(f"{len(self.calibration_)} calibrations for {self.n_outputs_} outputs")

    def describe(self) -> dict:
        return {"id": self.model_id, "family": self.family, "params": self.get_params(),
                "input_kind": self.input_kind, "n_parameters": self.n_parameters()}

    def n_parameters(self) -> int:
        return 0


def refused(path: Path, problem: str, detail: str | None = None) -> ArtifactError:
    """An ArtifactError whose message names ``path`` (and ``detail``, for logs) and whose public text
    names only the file and the problem (for clients)."""
    message = f"{path}: {problem}" + (f" ({detail})" if detail else "")
    return ArtifactError(message, file=Path(path).name, problem=problem)


def read_manifest(directory: Path) -> Manifest:
    """The manifest in ``directory``, typed (checksums unchecked: ``artifacts.load_manifest_at`` checks them)."""
    path = Path(directory) / MANIFEST
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise refused(path, "missing") from exc
    except (OSError, ValueError) as exc:
        raise refused(path, "unreadable manifest", str(exc)) from exc
    if not isinstance(raw, dict):
        raise refused(path, "unreadable manifest", f"a JSON {type(raw).__name__}, not an object")
    return Manifest.from_dict(raw)


class NetworkModel(PredictionModel):
    """What a network is, apart from how it runs: its family and architecture over a candle window. The
    torch model (``neural.NeuralModel``) and its exported graph (``exported.ExportedNetwork``) share it."""

    input_kind = "sequence"

    def __init__(self, model_id: str, *, family: str, arch: str, **params):
        super().__init__(model_id, **params)
        self.family = family
        self.arch = arch

    def get_params(self) -> dict:
        return {"arch": self.arch, **self.params}

    def attention(self, x: np.ndarray) -> np.ndarray | None:
        """(n, W) attention over the window's candles, for networks that have it; None otherwise."""
        return None
