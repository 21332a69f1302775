"""Publishing an evaluation where the service reads it (``GET /evaluation``).

``MODELS_DIR/<tf>/reports/h<horizon>/`` holds one folder per published report (``metrics.json`` with
its plot list, and the PNGs) and ``CURRENT``, naming the complete one, as a model's versions do. A
report is written whole into a hidden temporary folder, renamed into place, and only then named by
CURRENT (an atomic replace): a reader sees the previous report or the new one, never part of one. The
report before the current one stays on disk for a reader that read CURRENT just before the switch."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from pathlib import Path

from ..common.files import TMP_PREFIX, write_atomic_text, write_folder_atomically

REPORTS_DIR = "reports"
METRICS_FILE = "metrics.json"
POINTER = "CURRENT"
FOLDER = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")  # 20250701T120000Z-3f2a1c: its publishing time
PLOT = re.compile(r"^[a-z][a-z0-9_]{0,47}\.png$")  # the only names a plot may have (no path, no dot file)
HORIZON_DIR = re.compile(r"^h([1-9][0-9]{0,2})$")
DEBRIS_AGE_S = 900.0  # a temporary folder untouched this long was left by a killed writer


def report_root(models_dir: Path, timeframe: str, horizon: int) -> Path:
    """The folder of one (timeframe, horizon)'s published reports."""
    return Path(models_dir) / timeframe / REPORTS_DIR / f"h{horizon}"


def _copy_synced(src: Path, dst: Path) -> None:
    with src.open("rb") as fin, dst.open("wb") as fout:
        shutil.copyfileobj(fin, fout)
        fout.flush()
        os.fsync(fout.fileno())


def publish_report(report: dict, plots: list[dict], out_dir: Path, models_dir: Path) -> Path:
    """Publish ``report`` with the ``plots`` (``{"name", "title"}``, files in ``out_dir``) for its
    timeframe and horizon; returns the folder now named by CURRENT."""
    root = report_root(models_dir, report["timeframe"], report["horizon"])
    root.mkdir(parents=True, exist_ok=True)
    name = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:6]}"

    def write(tmp: Path) -> str:
        kept = [{"name": p["name"], "title": p["title"]} for p in plots
                if PLOT.match(p["name"]) and (Path(out_dir) / p["name"]).is_file()]
        for plot in kept:
            _copy_synced(Path(out_dir) / plot["name"], tmp / plot["name"])
        write_atomic_text(tmp / METRICS_FILE, json.dumps({**report, "plots": kept}, default=float))
        return name

    write_folder_atomically(root, write)
    previous = current_folder(root)
    write_atomic_text(root / POINTER, name + "\n")
    _prune(root, keep={name, previous})
    return root / name


def current_folder(root: Path) -> str | None:
    """The folder name CURRENT holds, when it holds a well-formed one."""
    try:
        name = (root / POINTER).read_text().strip()
    except OSError:
        return None
    return name if FOLDER.match(name) else None


def _prune(root: Path, keep: set) -> None:
    """Remove reports older than the two kept, and temporary folders a killed writer left."""
    limit = time.time() - DEBRIS_AGE_S
    for path in root.iterdir():
        try:
            stale = (path.is_dir() and FOLDER.match(path.name) and path.name not in keep) or \
                    (path.name.startswith(TMP_PREFIX) and path.stat().st_mtime < limit)
        except OSError:
            continue
        if stale:
            shutil.rmtree(path, ignore_errors=True)
