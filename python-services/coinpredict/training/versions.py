"""The versions of one model on one timeframe: list, promote (a rollback is a promotion of an older
one), delete, and sweep the debris a killed writer leaves.

A version lives in ``MODELS_DIR/<timeframe>/<id>/<folder>/`` where the folder is the version id without
':' (``training.artifacts.save_version``); either form names it here. ``CURRENT`` names the one served
and is only ever replaced whole (``write_atomic_text``), so a reader sees the old version or the new
one. Promotion and deletion of one model take a lock file, so a version cannot be deleted while it is
being promoted; what was lost to a crash is removed by ``clean_partial``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..common.files import TMP_PREFIX, write_atomic_text, writer_is_dead
from ..config import Settings
from ..data.timeframes import TIMEFRAMES
from ..errors import ArtifactError, Conflict, NotFound
from ..models.artifacts import (
    CURRENT,
    folder_version,
    load_manifest_at,
    load_model_at,
    model_root,
    version_folder,
)
from ..models.base import read_manifest
from ..models.ensemble import HorizonEnsembles
from ..models.manifest import Manifest
from ..models.move import load_move_at
from ..models.registry import ENSEMBLE_ID, MODEL_IDS, MOVE_ID, unknown_model
from .compatibility import Served, check

log = logging.getLogger(__name__)
LOCK = ".lock"
DELETED_PREFIX = ".deleted-"  # a deleted version is renamed here, then removed
PARTIAL_AGE_S = 900.0


def _root(models_dir: Path, timeframe: str, model_id: str) -> Path:
    """The model's folder, for a registered id and a known timeframe only (no text reaches a path unchecked)."""
    if model_id not in (*MODEL_IDS, ENSEMBLE_ID, MOVE_ID):
        raise unknown_model(model_id)
    if timeframe not in TIMEFRAMES:
        raise NotFound(f"unknown timeframe {timeframe!r}", field="timeframe", code="unknown_timeframe")
    return model_root(models_dir, timeframe, model_id)


def _folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]


def current_folder(models_dir: Path, timeframe: str, model_id: str) -> str | None:
    """The folder name CURRENT holds, or None when there is none."""
    try:
        return (_root(models_dir, timeframe, model_id) / CURRENT).read_text().strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def find_version(models_dir: Path, timeframe: str, model_id: str, version: str) -> Path:
    """The folder of ``version`` (its id, or its folder name). Looked up among the folders that exist,
    never joined from the text asked for, so no name can reach outside the model's folder."""
    wanted = version_folder(version)
    for folder in _folders(_root(models_dir, timeframe, model_id)):
        if folder.name == wanted:
            return folder
    raise NotFound(f"{model_id} has no version {version[:80]!r} on {timeframe}", field="version",
                   code="unknown_version")


def _describe(folder: Path, serving: str | None, served: Served, model_id: str, lookback: int) -> dict:
    """One version as the list shows it: what it was trained on and for (profile, horizons, window,
    features), and why the serving could not use it (``incompatible``, null when it could)."""
    try:
        manifest = read_manifest(folder)
        horizons = manifest.output_horizons
        verdict = check(served, model_id, manifest, lookback=lookback)
    except ArtifactError as exc:
        return _unreadable(folder, exc.public)
    except (TypeError, ValueError):  # a hand-edited manifest
        return _unreadable(folder, "manifest.json: unusable horizons or window")
    training, metrics = manifest.training or {}, manifest.metrics or {}
    return {"version": manifest.version or folder_version(folder.name),
            "trained_at": manifest.trained_at,
            "data_range": {k: training.get(k) for k in ("train", "valid", "end_exclusive")},
            "metrics": {"validation": metrics.get("validation", {}),
                        "validation_by_horizon": metrics.get("validation_by_horizon")},
            "status": "serving" if folder.name == serving else "available",
            "profile": training.get("profile"), "horizons": horizons,
            "window": manifest.window, "features": len(manifest.feature_names or ()) or None,
            "incompatible": verdict.reason}


def _unreadable(folder: Path, reason: str) -> dict:
    return {"version": folder_version(folder.name), "trained_at": None, "data_range": None, "metrics": None,
            "status": "unreadable", "reason": reason, "profile": None, "horizons": None, "window": None,
            "features": None, "incompatible": None}


def list_versions(models_dir: Path, timeframe: str, model_id: str, *,
                  lookback: int = Settings.serve_lookback) -> dict:
    """``{"serving": version or None, "versions": [...]}``, newest first; a folder whose manifest cannot be
    read is listed as ``unreadable`` with the reason (no server path). NotFound (``not_trained``) when the
    model has no version at all on ``timeframe``."""
    serving = current_folder(models_dir, timeframe, model_id)
    folders = _folders(_root(models_dir, timeframe, model_id))
    if not folders:
        raise NotFound(f"{model_id} has no trained version on {timeframe}", field="timeframe", code="not_trained")
    served = Served.read(models_dir, timeframe)
    versions = [_describe(f, serving, served, model_id, lookback) for f in folders]
    versions.sort(key=lambda v: (v["trained_at"] or "", v["version"]), reverse=True)
    served_version = next((v["version"] for v in versions if v["status"] == "serving"), None)
    return {"serving": served_version or (folder_version(serving) if serving else None), "versions": versions}


def verify(folder: Path, timeframe: str, model_id: str) -> Manifest:
    """The manifest of the version in ``folder`` once it loads as serving would load it (checksums, state,
    weights; an ensemble's members and weights); ArtifactError otherwise."""
    if model_id == ENSEMBLE_ID:
        manifest = load_manifest_at(folder)
        try:
            HorizonEnsembles.from_manifest(manifest)
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{folder}: unusable ensemble manifest ({exc})", file="manifest.json",
                                problem="unusable ensemble manifest") from exc
    elif model_id == MOVE_ID:
        manifest = load_manifest_at(folder)
        load_move_at(folder, manifest)
    else:
        _, manifest = load_model_at(folder, model_id)
    written_for = manifest.id if manifest.has("id") else model_id
    written_on = manifest.timeframe if manifest.has("timeframe") else timeframe
    if written_for != model_id or written_on != timeframe:
        raise ArtifactError(f"{folder}: written for {manifest.id} on {manifest.timeframe}",
                            file="manifest.json", problem="written for another model or timeframe")
    return manifest


@contextmanager
def _locked(models_dir: Path, timeframe: str, model_id: str) -> Iterator[None]:
    """One promotion or deletion of a model at a time, across processes sharing MODELS_DIR."""
    with open(_root(models_dir, timeframe, model_id) / LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def promote(models_dir: Path, timeframe: str, model_id: str, version: str, *, force: bool = False,
            lookback: int = Settings.serve_lookback) -> str:
    """Serve ``version`` (a rollback is a promotion of an older one): it is verified to load first, and to
    be usable by the serving (``compatibility``: the horizons the timeframe serves, features this code
    computes) unless ``force``; then CURRENT is replaced atomically. Returns the version id. NotFound for
    an unknown version; Conflict ``version_unusable`` for one that does not load, ``incompatible_version``
    for one the serving cannot use."""
    folder = find_version(models_dir, timeframe, model_id, version)
    with _locked(models_dir, timeframe, model_id):
        if not folder.is_dir():
            raise NotFound(f"{model_id} has no version {version!r} on {timeframe}", field="version",
                           code="unknown_version")
        try:
            manifest = verify(folder, timeframe, model_id)
        except ArtifactError as exc:
            log.error("refused to promote %s (%s) %s: %s", model_id, timeframe, folder.name, exc)
            raise Conflict(f"version {folder_version(folder.name)} of {model_id} cannot be served: {exc.public}",
                           field="version", code="version_unusable") from None
        if not force:
            _refuse_incompatible(models_dir, timeframe, model_id, manifest, lookback)
        write_atomic_text(folder.parent / CURRENT, folder.name + "\n")
    log.info("promoted %s (%s) to %s", model_id, timeframe, folder.name)
    return manifest.version or folder_version(folder.name)


def _refuse_incompatible(models_dir: Path, timeframe: str, model_id: str, manifest: Manifest,
                         lookback: int) -> None:
    try:
        verdict = check(Served.read(models_dir, timeframe), model_id, manifest, lookback=lookback)
    except (TypeError, ValueError):  # a hand-edited manifest
        raise Conflict(f"version {manifest.version} of {model_id} cannot be served: manifest.json: unusable "
                       f"horizons or window", field="version", code="version_unusable") from None
    if not verdict.ok:
        log.warning("refused to promote %s (%s) %s: %s", model_id, timeframe, manifest.version, verdict.reason)
        raise Conflict(verdict.reason, field="version", code="incompatible_version",
                       details={"details": {"horizons": verdict.horizons, "served_horizons": verdict.required}})


def delete_version(models_dir: Path, timeframe: str, model_id: str, version: str,
                   *, in_use: frozenset[str] = frozenset()) -> str:
    """Remove a version that is not served: Conflict (``version_serving``) for the one CURRENT names, or
    one of ``in_use`` (folder names a caller still serves). The folder is renamed aside first, so it
    disappears at once and whole, then removed. Returns the version id."""
    folder = find_version(models_dir, timeframe, model_id, version)
    with _locked(models_dir, timeframe, model_id):
        name = folder_version(folder.name)
        if folder.name == current_folder(models_dir, timeframe, model_id) or folder.name in in_use:
            raise Conflict(f"version {name} of {model_id} on {timeframe} is being served; promote another "
                           f"version first", field="version", code="version_serving")
        aside = folder.with_name(f"{DELETED_PREFIX}{folder.name}-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(folder, aside)
        except FileNotFoundError:
            raise NotFound(f"{model_id} has no version {version!r} on {timeframe}", field="version",
                           code="unknown_version") from None
    shutil.rmtree(aside, ignore_errors=True)
    log.info("deleted %s (%s) version %s", model_id, timeframe, folder.name)
    return name


def _debris(root: Path) -> Iterator[Path]:
    for path in root.iterdir():
        if path.name.startswith((TMP_PREFIX, DELETED_PREFIX)) and path.is_dir():
            yield path
        elif path.name.startswith(f".{CURRENT}.") and path.is_file():  # write_atomic_text's temporary file
            yield path


def clean_partial(models_dir: Path, older_than_s: float = PARTIAL_AGE_S) -> list[str]:
    """Remove what a killed writer left in MODELS_DIR: half-written versions (``.tmp-*``), versions deleted
    but not yet removed (``.deleted-*``) and temporary CURRENT files, untouched for ``older_than_s``
    seconds (a live writer's are younger), and at once a half-written version whose writer, a process of
    this host, is gone (killed just after its last report, it is younger than that). Returns the paths
    removed, relative to ``models_dir``."""
    root = Path(models_dir)
    removed: list[str] = []
    if not root.is_dir():
        return removed
    limit = time.time() - older_than_s
    for tf_dir in (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for model_dir in (p for p in tf_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for path in _debris(model_dir):
                try:
                    if path.stat().st_mtime > limit and not writer_is_dead(path.name):
                        continue
                    if path.is_dir():
                        shutil.rmtree(path)
                    else:
                        path.unlink()
                except FileNotFoundError:
                    continue
                removed.append(str(path.relative_to(root)))
    if removed:
        log.warning("removed partial writes from MODELS_DIR: %s", removed)
    return removed
