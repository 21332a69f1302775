"""Writing versioned, atomic model artifacts (read back by ``models.artifacts``). A version is
written into a temporary folder and renamed into place, so a crash never leaves half a model;
older versions stay."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .. import __version__
from ..common.files import write_atomic_text, write_folder_atomically
from ..models.artifacts import (
    CURRENT,
    IMPORTANCE_FILE,
    VALIDATION_PROBS,
    folder_version,
    model_root,
    sha256,
    version_folder,
)
from ..models.base import MANIFEST, PredictionModel
from ..models.manifest import Manifest


def code_version() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ""
    return f"{__version__}+{rev}" if rev else __version__


def save_version(models_dir: Path, timeframe: str, model_id: str, manifest: Manifest,
                 write_files=None, *, promote: bool = True) -> str:
    """Write ``manifest`` (plus files from ``write_files(dir) -> [names]``) as a new version, and make
    it current unless ``promote`` is false (a candidate that a gate decides on later)."""
    root = model_root(models_dir, timeframe, model_id)
    root.mkdir(parents=True, exist_ok=True)
    trained_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = manifest.to_dict()

    def write(tmp: Path) -> str:
        files = write_files(tmp) if write_files else []
        checksums = {name: sha256(tmp / name) for name in files}
        digest = hashlib.sha256(json.dumps(checksums, sort_keys=True).encode()
                                + json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:6]
        version = f"{trained_at}-{digest}"
        full = manifest.with_fields(id=model_id, timeframe=timeframe, version=version, trained_at=trained_at,
                                 code_version=code_version(), files=checksums)
        (tmp / MANIFEST).write_text(json.dumps(full.to_dict(), indent=1, default=float))
        return version_folder(version)

    final = write_folder_atomically(root, write)
    version = folder_version(final.name)
    if promote:  # unverified: a run that promotes after checking uses training.versions.promote
        write_atomic_text(root / CURRENT, final.name + "\n")
    return version


def save_model(model: PredictionModel, models_dir: Path, timeframe: str, manifest: Manifest,
               validation_probs: np.ndarray | None = None, *, promote: bool = True,
               validation_inputs: np.ndarray | None = None, importance: dict | None = None) -> str:
    """Save weights and manifest; ``validation_probs`` let a later ensemble fit reuse what the model
    predicted on validation as it was validated. With ``validation_inputs`` (the rows those probabilities
    are for), a network also saves its ONNX graph, checked on them: one that differs raises ArtifactError
    and no version is written. ``importance`` (``models.explain.importance``) is kept beside it."""
    body = manifest.with_fields(family=model.family, params=model.get_params(), state=model.state(),
                             describe=model.describe())

    def write(directory: Path) -> list[str]:
        names = model.save_weights(directory) + model.save_serving(directory, validation_inputs, validation_probs)
        if validation_probs is not None:
            np.save(directory / VALIDATION_PROBS, np.asarray(validation_probs, dtype=np.float64))
            names = [*names, VALIDATION_PROBS]
        if importance is not None:
            (directory / IMPORTANCE_FILE).write_text(json.dumps(importance))
            names = [*names, IMPORTANCE_FILE]
        return names

    return save_version(models_dir, timeframe, model.model_id, body, write, promote=promote)
