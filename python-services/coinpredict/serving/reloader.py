"""Every worker serves what MODELS_DIR says, within a poll interval of it changing.

Each process runs a daemon thread that takes a cheap fingerprint of MODELS_DIR every ``poll_s`` seconds
(each model's CURRENT, the evaluation files, and the ``.reload`` token that a reload on any worker or
replica touches) and reloads when it changes. A reload is incremental (``ModelStore.load_all(previous)``):
only changed versions are read, off the request path, and the new store is swapped in whole. A reload
that finds nothing loadable while models are being served (MODELS_DIR moved away or emptied) changes
nothing and says why; a model whose new version does not load keeps serving its previous one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from ..common.files import write_atomic_text
from ..models.artifacts import CURRENT, EVALUATION_FILE, trained_timeframes
from ..models.registry import ENSEMBLE_ID, MOVE_ID
from .model_store import ModelStore
from .predictor import Predictor

log = logging.getLogger(__name__)
RELOAD_TOKEN = ".reload"  # MODELS_DIR/.reload: touched by a reload so every other process reloads too
DEFAULT_POLL_S = 1.5


def _stamp(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def _visible_dirs(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.iterdir() if not p.name.startswith(".") and p.is_dir())
    except OSError:
        return []


def fingerprint(models_dir: Path) -> tuple:
    """What a reload depends on, in a few dozen stat calls and small reads: the folder itself, the reload
    token, each timeframe's evaluation file, each model's CURRENT (content and stamp) and the folder it
    names."""
    root = Path(models_dir)
    parts: list = [("root", _stamp(root)), ("token", _stamp(root / RELOAD_TOKEN))]
    for tf_dir in _visible_dirs(root):
        parts.append((tf_dir.name, _stamp(tf_dir / EVALUATION_FILE)))
        for model_dir in _visible_dirs(tf_dir):
            pointer = model_dir / CURRENT
            try:
                content = pointer.read_text()
            except OSError:
                continue
            # The version folder's own stamp too: a folder that CURRENT named before it was complete
            # (a copied MODELS_DIR) is read again once its files are in.
            parts.append((tf_dir.name, model_dir.name, content, _stamp(pointer), _stamp(model_dir / content.strip())))
    return tuple(parts)


def announce_reload(models_dir: Path) -> bool:
    """Touch MODELS_DIR's reload token: every process watching it reloads within its poll interval (any
    process may call it, with no store of its own). False when the folder cannot be written."""
    try:
        write_atomic_text(Path(models_dir) / RELOAD_TOKEN, f"{time.time():.6f} {os.getpid()} {uuid.uuid4().hex}\n")
    except OSError as exc:
        log.warning("could not touch the reload token in MODELS_DIR: %s", exc)
        return False
    return True


def _served(store: ModelStore) -> dict[tuple[str, str], str | None]:
    out = {key: e.version for key, e in store.models.items() if e.status == "ready"}
    out.update({(tf, ENSEMBLE_ID): m.version for tf, (_, m) in store.ensembles.items()})
    out.update({(tf, MOVE_ID): e.version for tf, e in store.moves.items() if e.status == "ready"})
    return out


def _serves_anything(store: ModelStore) -> bool:
    return bool(store.ensembles) or any(e.status == "ready" for e in store.models.values())


def _nothing_loadable(models_dir: Path, store: ModelStore) -> str:
    if not Path(models_dir).is_dir():
        return "MODELS_DIR is missing or unreadable"
    if not trained_timeframes(models_dir):
        return "MODELS_DIR holds no trained model"
    failed = sum(e.status == "failed" for e in store.models.values())
    return f"none of the {failed} trained models in MODELS_DIR loads"


@dataclass
class ReloadReport:
    """What a reload did: whether a new store is served, what changed, and why nothing did."""

    reloaded: bool
    counts: dict
    changed: list[dict] = field(default_factory=list)  # {"model", "timeframe", "before", "after"}
    refused: list[str] = field(default_factory=list)  # new versions refused, the previous still serving
    reason: str | None = None  # why the reload changed nothing


class ModelReloader:
    """Keeps one process's Predictor serving the current state of MODELS_DIR."""

    def __init__(self, predictor: Predictor, models_dir: Path, poll_s: float = DEFAULT_POLL_S,
                 seen: tuple | None = None):
        self.predictor = predictor
        self.models_dir = Path(models_dir)
        self.poll_s = poll_s
        self._seen = seen if seen is not None else fingerprint(self.models_dir)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refusal: str | None = None  # why the last reload kept the previous store

    def warnings(self) -> list[str]:
        """What /health should say: a refused reload, and new versions refused while older ones serve."""
        lines = [self.refusal] if self.refusal else []
        return lines + [f"{line} (see /models/<id>/status)" for line in self.predictor.store.load_errors()]

    def reload(self) -> ReloadReport:
        """Bring this process in line with MODELS_DIR now (incremental; the store is swapped whole)."""
        with self._lock:
            seen = fingerprint(self.models_dir)
            before = self.predictor.store
            kept: list[str] = []

            def build() -> ModelStore:
                current = self.predictor.store
                fresh = ModelStore(self.models_dir).load_all(previous=current)
                if _serves_anything(current) and not _serves_anything(fresh):
                    kept.append(_nothing_loadable(self.models_dir, fresh))
                    return current
                return fresh

            served = self.predictor.swap(build)
            self._seen = seen
            if kept:
                self.refusal = (f"reload refused at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}: "
                                f"{kept[0]}; still serving the models loaded before")
                log.error(self.refusal)
                return ReloadReport(False, served.counts(), refused=served.load_errors(), reason=self.refusal)
            self.refusal = None
            old, new = _served(before), _served(served)
            changed = [{"model": m, "timeframe": tf, "before": old.get((tf, m)), "after": new.get((tf, m))}
                       for tf, m in sorted(set(old) | set(new)) if old.get((tf, m)) != new.get((tf, m))]
            if changed:
                log.info("reloaded models: %s", changed)
            return ReloadReport(True, served.counts(), changed, served.load_errors())

    def poll_once(self) -> ReloadReport | None:
        """Reload when MODELS_DIR changed since the last look; None when it did not."""
        if fingerprint(self.models_dir) == self._seen:
            return None
        return self.reload()

    def announce(self) -> bool:
        """Touch the reload token so every other process sharing MODELS_DIR reloads too."""
        return announce_reload(self.models_dir)

    def start(self) -> None:
        """Watch in a daemon thread (no-op when ``poll_s`` <= 0). The thread holds the reloader weakly and
        ends once it is gone, so a discarded app leaves no thread behind."""
        if self.poll_s <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=_watch, args=(weakref.ref(self), self.poll_s, self._stop),
                                        name="models-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()


def _watch(ref: weakref.ref, poll_s: float, stop: threading.Event) -> None:
    while not stop.wait(poll_s):
        reloader = ref()
        if reloader is None:
            return
        try:
            reloader.poll_once()
        except Exception:  # noqa: BLE001 - the watcher must outlive any one bad reload
            log.exception("watching MODELS_DIR failed")
        del reloader
