"""Test helpers for model versions: a second version made from the current one, a corrupt one, and one
trained on other horizons than the served ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from coinpredict.models.artifacts import current_dir, version_folder
from coinpredict.models.base import read_manifest

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
    name = next(n for n in read_manifest(folder).files if n != "validation_probs.npy")
    (folder / name).write_bytes(b"garbage")
    return folder


def train_other_horizons(models_dir: Path, data_dir: Path, model_id: str = "lightgbm",
                         horizons: tuple[int, ...] = (2,)) -> str:
    """A real version of ``model_id`` trained (smoke profile) on ``horizons`` only, written beside the served
    one and not promoted: what ``POST /jobs {"horizons": [2], "promote": "never"}`` leaves. Returns its id."""
    from coinpredict.common.times import iso
    from coinpredict.training.pipeline import train_models
    from tests.conftest import SYNTHETIC_END_MS

    results = train_models(data_dir=data_dir, timeframe="1h", end=iso(SYNTHETIC_END_MS), models_dir=models_dir,
                           profile="smoke", model_ids=[model_id], horizons=horizons, promote="never")
    return results[model_id].version
