"""Versioned, atomic model artifacts: ``MODELS_DIR/<timeframe>/<id>/<version>/`` holds a JSON
manifest and native weights; ``CURRENT`` names the version in use. A version is written into a
temporary folder and renamed into place, so a crash never leaves half a model; older versions stay.
Loading verifies checksums, shapes and the feature hash and names the file it refuses."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import ArtifactError
from ..features.pipeline import FeatureSet
from ..models.base import MANIFEST, PredictionModel, read_manifest
from ..models.registry import MODEL_SPECS, create_model

CURRENT = "CURRENT"
VALIDATION_PROBS = "validation_probs.npy"  # the model's validation predictions, before any refit


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def code_version() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ""
    return f"{__version__}+{rev}" if rev else __version__


def write_atomic_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def model_root(models_dir: Path, timeframe: str, model_id: str) -> Path:
    return Path(models_dir) / timeframe / model_id


def save_version(models_dir: Path, timeframe: str, model_id: str, manifest: dict,
                 write_files=None) -> str:
    """Write ``manifest`` (plus files from ``write_files(dir) -> [names]``) as a new current version."""
    root = model_root(models_dir, timeframe, model_id)
    root.mkdir(parents=True, exist_ok=True)
    trained_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        files = write_files(tmp) if write_files else []
        checksums = {name: _sha256(tmp / name) for name in files}
        digest = hashlib.sha256(json.dumps(checksums, sort_keys=True).encode()
                                + json.dumps(manifest, sort_keys=True, default=str).encode()).hexdigest()[:6]
        version = f"{trained_at}-{digest}"
        full = {**manifest, "id": model_id, "timeframe": timeframe, "version": version, "trained_at": trained_at,
                "code_version": code_version(), "files": checksums}
        (tmp / MANIFEST).write_text(json.dumps(full, indent=1, default=float))
        final = root / version.replace(":", "")
        if final.exists():
            shutil.rmtree(final)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_atomic_text(root / CURRENT, final.name + "\n")
    return version


def save_model(model: PredictionModel, models_dir: Path, timeframe: str, manifest: dict,
               validation_probs: np.ndarray | None = None) -> str:
    """Save weights and manifest; ``validation_probs`` let a later ensemble fit reuse what the model
    predicted on validation as it was validated."""
    body = {**manifest, "family": model.family, "params": model.get_params(), "state": model.state(),
            "describe": model.describe()}

    def write(directory: Path) -> list[str]:
        names = model.save_weights(directory)
        if validation_probs is not None:
            np.save(directory / VALIDATION_PROBS, np.asarray(validation_probs, dtype=np.float64))
            names = [*names, VALIDATION_PROBS]
        return names

    return save_version(models_dir, timeframe, model.model_id, body, write)


def load_validation_probs(models_dir: Path, timeframe: str, model_id: str) -> tuple[np.ndarray, dict]:
    """The stored validation predictions of the current version (checksums verified)."""
    directory, manifest = load_manifest(models_dir, timeframe, model_id)
    path = directory / VALIDATION_PROBS
    if VALIDATION_PROBS not in manifest.get("files", {}):
        raise ArtifactError(f"{path}: missing (trained before validation predictions were kept)")
    try:
        return np.load(path, allow_pickle=False), manifest
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: unreadable ({exc})") from exc


def current_dir(models_dir: Path, timeframe: str, model_id: str) -> Path | None:
    root = model_root(models_dir, timeframe, model_id)
    pointer = root / CURRENT
    if not pointer.is_file():
        return None
    return root / pointer.read_text().strip()


def load_manifest(models_dir: Path, timeframe: str, model_id: str) -> tuple[Path, dict]:
    directory = current_dir(models_dir, timeframe, model_id)
    if directory is None:
        raise FileNotFoundError(f"{model_id} is not trained for {timeframe}")
    manifest = read_manifest(directory)
    for name, digest in manifest.get("files", {}).items():
        path = directory / name
        if not path.is_file():
            raise ArtifactError(f"{path}: missing")
        if _sha256(path) != digest:
            raise ArtifactError(f"{path}: checksum mismatch (corrupt or modified file)")
    return directory, manifest


def load_model(models_dir: Path, timeframe: str, model_id: str,
               expected_features: FeatureSet | None = None) -> tuple[PredictionModel, dict]:
    directory, manifest = load_manifest(models_dir, timeframe, model_id)
    if model_id not in MODEL_SPECS:
        raise ArtifactError(f"{directory / MANIFEST}: unknown model id {model_id!r}")
    names = tuple(manifest.get("feature_names", ()))
    if FeatureSet(names).hash != manifest.get("feature_hash"):
        raise ArtifactError(f"{directory / MANIFEST}: feature hash does not match its feature list")
    if expected_features is not None and expected_features.hash != manifest["feature_hash"]:
        raise ArtifactError(f"{directory / MANIFEST}: trained on features {manifest['feature_hash']}, "
                            f"this code computes {expected_features.hash}")
    params = {k: v for k, v in manifest["params"].items() if k not in ("library",)}
    model = create_model(model_id, **params)
    try:
        model.restore_state(manifest)
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{directory / MANIFEST}: incomplete state ({exc})") from exc
    model.load_weights(directory, manifest)
    return model, manifest


def trained_timeframes(models_dir: Path) -> list[str]:
    root = Path(models_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and any((q / CURRENT).is_file() for q in p.iterdir()
                                                                       if q.is_dir()))
