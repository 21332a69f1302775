"""Test helpers for model versions: a second version made from the current one, and a corrupt one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from coinpredict.models.artifacts import current_dir, version_folder

OLDER = "2025-01-01T00:00:00Z-0a0a0a"  # trained_at sorts before the smoke fixtures' versions


def clone_version(models_dir: Path, timeframe: str, model_id: str, version: str = OLDER) -> Path:
    """A copy of the current version under another id (same weights, so it loads): a version to promote."""
    source = current_dir(models_dir, timeframe, model_id)
    target = source.with_name(version_folder(version))
    shutil.copytree(source, target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest.update(version=version, trained_at=version[:20])
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def corrupt(folder: Path) -> Path:
    """Break the first weights file the manifest lists (its checksum no longer matches)."""
    name = next(n for n in json.loads((folder / "manifest.json").read_text())["files"] if n != "validation_probs.npy")
    (folder / name).write_bytes(b"garbage")
    return folder
