"""Reading trained model artifacts: ``MODELS_DIR/<timeframe>/<id>/<version>/`` holds a JSON manifest
and native weights; ``CURRENT`` names the version in use. Loading verifies checksums, shapes and the
feature hash and names the file it refuses. (Writing versions is ``training.artifacts``.)"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

from ..data.timeframes import by_duration
from ..features.pipeline import FeatureSet
from .base import MANIFEST, PredictionModel, read_manifest, refused
from .exported import GRAPH, ExportedNetwork
from .manifest import Manifest
from .registry import MODEL_SPECS, create_model

CURRENT = "CURRENT"
VALIDATION_PROBS = "validation_probs.npy"  # the model's validation predictions, before any refit
IMPORTANCE_FILE = "importance.json"  # global importance on validation rows (versions since explanations)
EVALUATION_FILE = "evaluation.json"  # MODELS_DIR/<timeframe>/evaluation.json: the latest test metrics
UNTRAINED_FILE = "untrained.json"  # model id -> why the last run of a timeframe left it out
_FOLDER = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2})(\d{2})(\d{2}Z-.+)$")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_root(models_dir: Path, timeframe: str, model_id: str) -> Path:
    return Path(models_dir) / timeframe / model_id


def current_dir(models_dir: Path, timeframe: str, model_id: str) -> Path | None:
    root = model_root(models_dir, timeframe, model_id)
    pointer = root / CURRENT
    if not pointer.is_file():
        return None
    return root / pointer.read_text().strip()


def version_folder(version: str) -> str:
    """The folder a version is written to: its id without ':' (portable file names)."""
    return version.replace(":", "")


def folder_version(name: str) -> str:
    """A version id from its folder name (``2025-11-30T120000Z-3f2a1c`` -> ``2025-11-30T12:00:00Z-3f2a1c``);
    a name of another shape is returned as it is."""
    match = _FOLDER.match(name)
    return f"{match[1]}:{match[2]}:{match[3]}" if match else name


def load_manifest(models_dir: Path, timeframe: str, model_id: str) -> tuple[Path, Manifest]:
    """The current version's folder and typed manifest, every listed file's checksum verified."""
    directory = current_dir(models_dir, timeframe, model_id)
    if directory is None:
        raise FileNotFoundError(f"{model_id} is not trained for {timeframe}")
    return directory, load_manifest_at(directory)


def load_manifest_at(directory: Path) -> Manifest:
    """The manifest of the version in ``directory``, every listed file's checksum verified."""
    manifest = read_manifest(directory)
    for name, digest in (manifest.files or {}).items():
        path = directory / name
        if not path.is_file():
            raise refused(path, "missing")
        if sha256(path) != digest:
            raise refused(path, "checksum mismatch (corrupt or modified file)")
    return manifest


def load_model(models_dir: Path, timeframe: str, model_id: str, expected_features: FeatureSet | None = None, *,
               runtime: str = "auto") -> tuple[PredictionModel, Manifest]:
    directory = current_dir(models_dir, timeframe, model_id)
    if directory is None:
        raise FileNotFoundError(f"{model_id} is not trained for {timeframe}")
    return load_model_at(directory, model_id, expected_features, runtime=runtime)


def load_model_at(directory: Path, model_id: str, expected_features: FeatureSet | None = None, *,
                  runtime: str = "auto") -> tuple[PredictionModel, Manifest]:
    """The model saved in the version folder ``directory`` (checksums, feature hash and state verified).
    ``runtime``: "auto" serves a network from its ONNX graph when the version has one (no torch import),
    else through torch; "torch" always loads the torch module (the report's attention maps use it)."""
    manifest = load_manifest_at(directory)
    where = directory / MANIFEST
    if model_id not in MODEL_SPECS:
        raise refused(where, f"unknown model id {model_id!r}")
    names = tuple(manifest.feature_names or ())
    if FeatureSet(names).hash != manifest.feature_hash:
        raise refused(where, "feature hash does not match its feature list")
    if expected_features is not None and expected_features.hash != manifest.feature_hash:
        raise refused(where, f"trained on features {manifest.feature_hash}, "
                             f"this code computes {expected_features.hash}")
    if manifest.params is None:
        raise KeyError("params")
    params = {k: v for k, v in manifest.params.items() if k not in ("library",)}
    if runtime not in ("auto", "torch"):
        raise ValueError(f"runtime is auto or torch, not {runtime!r}")
    if runtime == "auto" and GRAPH in (manifest.files or {}):
        model: PredictionModel = ExportedNetwork(model_id, family=MODEL_SPECS[model_id].family, **params)
    else:
        model = create_model(model_id, **params)  # a network saved without its graph imports torch here
    try:
        model.restore_state(manifest)
    except (KeyError, TypeError, ValueError) as exc:
        raise refused(where, "incomplete state", str(exc)) from exc
    model.load_weights(directory, manifest)
    return model, manifest


def load_validation_probs(models_dir: Path, timeframe: str, model_id: str) -> tuple[np.ndarray, Manifest]:
    """The stored validation predictions of the current version (checksums verified)."""
    directory, manifest = load_manifest(models_dir, timeframe, model_id)
    path = directory / VALIDATION_PROBS
    if VALIDATION_PROBS not in (manifest.files or {}):
        raise refused(path, "missing (trained before validation predictions were kept)")
    try:
        return np.load(path, allow_pickle=False), manifest
    except (OSError, ValueError) as exc:
        raise refused(path, "unreadable", str(exc)) from exc


def read_importance(directory: Path, manifest: Manifest) -> dict | None:
    """The version's global importance (``models.explain.importance``); None for a version saved
    without one or whose file no longer reads (its checksum was verified when the version loaded)."""
    if IMPORTANCE_FILE not in (manifest.files or {}):
        return None
    try:
        return json.loads((Path(directory) / IMPORTANCE_FILE).read_text())
    except (OSError, ValueError):
        return None


def trained_timeframes(models_dir: Path) -> list[str]:
    root = Path(models_dir)
    if not root.is_dir():
        return []
    return by_duration(p.name for p in root.iterdir() if p.is_dir() and any((q / CURRENT).is_file()
                                                                            for q in p.iterdir() if q.is_dir()))


def read_untrained(models_dir: Path, timeframe: str) -> dict[str, str]:
    """Model id -> why the runs of ``timeframe`` left it out (``training.untrained``); empty when the file
    is absent or unreadable: a reason is a courtesy, never a reason to fail."""
    try:
        reasons = json.loads((Path(models_dir) / timeframe / UNTRAINED_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in reasons.items()} if isinstance(reasons, dict) else {}
