"""Trained models loaded once per process, with each id's status: ready, not_trained or failed.
One bad artifact marks that model failed and never stops the others. ``reason`` is what clients see
(the file and the problem, never a server path or a library's text); the log keeps the detail.

A store can be loaded from a previous one (a reload): a model whose CURRENT still names the version
already loaded is reused as it is, only what changed is read, and a new version that does not load
leaves its model serving the previous good one (``load_error`` says which version was refused and why).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..data.timeframes import by_duration
from ..errors import ArtifactError
from ..features.datasets import Scaler
from ..features.pipeline import FeatureSet
from ..models.artifacts import (
    EVALUATION_FILE,
    current_dir,
    folder_version,
    load_manifest_at,
    load_model_at,
    read_untrained,
    trained_timeframes,
    version_folder,
)
from ..models.base import PredictionModel
from ..models.ensemble import HorizonEnsembles
from ..models.manifest import Manifest
from ..models.move import load_move_at
from ..models.registry import ENSEMBLE_ID, MODEL_IDS, MODEL_SPECS, MOVE_ID

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    model_id: str
    timeframe: str
    status: str  # ready | failed | not_trained
    model: PredictionModel | None = None
    manifest: Manifest | None = None
    reason: str | None = None
    feature_set: FeatureSet | None = None
    scaler: Scaler | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    load_error: str | None = None  # a newer version that was refused while this one kept serving

    @property
    def version(self) -> str | None:
        return self.manifest.version if self.manifest is not None else None

    @property
    def folder(self) -> str | None:
        """The version folder it was loaded from."""
        return version_folder(self.version) if self.version else None

    @property
    def horizons(self) -> list[int]:
        """The horizons it predicts, in output order."""
        return (self.manifest or Manifest()).output_horizons


class ModelStore:
    """Every registered model of every trained timeframe, plus each timeframe's ensemble."""

    def __init__(self, models_dir: Path):
        self.models_dir = Path(models_dir)
        self.models: dict[tuple[str, str], LoadedModel] = {}
        self.ensembles: dict[str, tuple[HorizonEnsembles, Manifest]] = {}
        self.moves: dict[str, LoadedModel] = {}  # timeframe -> its move-size model (apart from the 19)
        self.timeframes: list[str] = []
        self.evaluations: dict[str, dict] = {}
        self.ensemble_failures: dict[str, str] = {}  # timeframe -> why its ensemble did not load
        self.ensemble_errors: dict[str, str] = {}  # timeframe -> a newer ensemble refused (the previous serves)
        self._trained: dict[str, dict] = {}

    def load_all(self, previous: ModelStore | None = None) -> ModelStore:
        """Load every current version; with ``previous``, reuse what it loaded from the same folders and
        keep serving its version of any model whose new version does not load."""
        self.timeframes = trained_timeframes(self.models_dir)
        before = previous.models if previous else {}
        for tf in self.timeframes:
            scalers: dict[str, Scaler] = {}
            for model_id in MODEL_IDS:
                self.models[(tf, model_id)] = self._load_one(tf, model_id, scalers, before.get((tf, model_id)))
            self._load_ensemble(tf, previous)
            self.moves[tf] = self._load_move(tf, scalers, previous.moves.get(tf) if previous else None)
            path = self.models_dir / tf / EVALUATION_FILE
            if path.is_file():
                try:
                    self.evaluations[tf] = json.loads(path.read_text())
                except (OSError, ValueError) as exc:
                    log.warning("%s unreadable: %s", path, exc)
        self._trained = self._summarise_trained()
        return self

    def _load_ensemble(self, tf: str, previous: ModelStore | None) -> None:
        kept = previous.ensembles.get(tf) if previous else None
        try:
            directory = current_dir(self.models_dir, tf, ENSEMBLE_ID)
            if directory is None:
                log.warning("no ensemble trained for %s", tf)
                return
            if kept and version_folder(str(kept[1].version)) == directory.name:
                self.ensembles[tf] = kept
                return
            manifest = load_manifest_at(directory)
            self.ensembles[tf] = (HorizonEnsembles.from_manifest(manifest), manifest)
        except (OSError, ArtifactError, KeyError, ValueError) as exc:
            public = getattr(exc, "public", "unreadable manifest")
            log.error("ensemble for %s failed to load: %s", tf, exc)
            if kept:
                self.ensembles[tf] = kept
                self.ensemble_errors[tf] = _refused_text(directory, public, kept[1].version)
            else:
                self.ensemble_failures[tf] = "failed to load: " + public

    def _load_move(self, tf: str, scalers: dict[str, Scaler], previous: LoadedModel | None) -> LoadedModel:
        """The timeframe's move model; one that does not load leaves the answers on the rule (or on the
        previous good version), never fails them."""
        return self._load_one(tf, MOVE_ID, scalers, previous, load=_move_at)

    def evaluation(self, timeframe: str, model_id: str) -> dict | None:
        """The latest out-of-sample evaluation of a model (written by scripts/evaluate.py)."""
        ev = self.evaluations.get(timeframe)
        if not ev or model_id not in ev.get("models", {}):
            return None
        return {"metrics": ev["models"][model_id], "period": {k: ev.get(k) for k in ("start", "end", "symbols")}}

    def _load_one(self, tf: str, model_id: str, scalers: dict[str, Scaler], previous: LoadedModel | None = None,
                  load: Callable[[Path], tuple[object, Manifest]] | None = None) -> LoadedModel:
        """One model's serving version (``load``: how a version folder loads, the 19's by default); one that
        does not load keeps the previous good version serving, or is listed as failed."""
        kept = previous if previous is not None and previous.status == "ready" else None
        directory = None
        try:
            directory = current_dir(self.models_dir, tf, model_id)
            if directory is None:
                why = read_untrained(self.models_dir, tf).get(model_id) if model_id != MOVE_ID else None
                return LoadedModel(model_id, tf, "not_trained", reason=why or f"no trained version for {tf}")
            if kept and kept.folder == directory.name:
                return self._share_scaler(replace(kept, load_error=None), scalers)
            model, manifest = load(directory) if load else load_model_at(directory, model_id)
            fs = FeatureSet(tuple(manifest.feature_names or ()))
        except (OSError, ArtifactError) as exc:
            public = getattr(exc, "public", "unreadable artifact")
            log.error("model %s (%s) failed to load: %s", model_id, tf, exc)
            if kept:
                return replace(kept, load_error=_refused_text(directory, public, kept.version))
            return LoadedModel(model_id, tf, "failed", reason=f"failed to load: {public}")
        except Exception:  # noqa: BLE001 - any loader bug must degrade one model, not the service
            log.exception("model %s (%s) failed to load", model_id, tf)
            if kept:
                return replace(kept, load_error=_refused_text(directory, "internal error (see the service log)",
                                                              kept.version))
            return LoadedModel(model_id, tf, "failed", reason="failed to load: internal error (see the service log)")
        entry = LoadedModel(model_id, tf, "ready", model, manifest, feature_set=fs)
        return self._share_scaler(entry, scalers)

    @staticmethod
    def _share_scaler(entry: LoadedModel, scalers: dict[str, Scaler]) -> LoadedModel:
        """Models of one training run share one scaler object, so serving scales each symbol once per run."""
        key = hashlib.sha1(json.dumps(entry.manifest.scaler).encode()).hexdigest()
        if entry.scaler is None:
            entry.scaler = scalers.setdefault(key, Scaler.from_dict(entry.manifest.scaler))
        else:
            scalers.setdefault(key, entry.scaler)
        return entry

    def load_errors(self) -> list[str]:
        """Newer versions refused while the previous ones keep serving, one line each."""
        lines = [f"{e.model_id} ({e.timeframe}): {e.load_error}" for e in [*self.models.values(), *self.moves.values()]
                 if e.load_error]
        return lines + [f"{ENSEMBLE_ID} ({tf}): {why}" for tf, why in sorted(self.ensemble_errors.items())]

    def get(self, timeframe: str, model_id: str) -> LoadedModel:
        entry = self.models.get((timeframe, model_id))
        if entry is None:
            return LoadedModel(model_id, timeframe, "not_trained", reason=f"no trained version for {timeframe}")
        return entry

    def status_of(self, model_id: str) -> tuple[str, list[str]]:
        """Overall status across timeframes, and the timeframes where the model is ready."""
        entries = [self.models[(tf, model_id)] for tf in self.timeframes if (tf, model_id) in self.models]
        ready = [e.timeframe for e in entries if e.status == "ready"]
        if ready:
            return "ready", ready
        if any(e.status == "failed" for e in entries):
            return "failed", []
        return "not_trained", []

    def trained(self) -> dict[str, dict]:
        """What can be asked for: per timeframe, the horizons and the number of models ready."""
        return self._trained

    def _summarise_trained(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for (tf, _), entry in self.models.items():
            if entry.status == "ready":
                slot = out.setdefault(tf, {"horizons": set(), "models": 0})
                slot["horizons"].update(entry.horizons)
                slot["models"] += 1
        return {tf: {"horizons": sorted(out[tf]["horizons"]), "models": out[tf]["models"]} for tf in by_duration(out)}

    def counts(self) -> dict:
        statuses = [self.status_of(m)[0] for m in MODEL_IDS]
        return {"ready": statuses.count("ready"), "failed": statuses.count("failed"),
                "not_trained": statuses.count("not_trained")}

    @staticmethod
    def family(model_id: str) -> str:
        return "ensemble" if model_id == ENSEMBLE_ID else MODEL_SPECS[model_id].family


def _refused_text(directory: Path | None, public: str, serving: str | None) -> str:
    name = folder_version(directory.name) if directory is not None else "the current version"
    return f"version {name} refused ({public}); still serving {serving}"


def _move_at(directory: Path) -> tuple[object, Manifest]:
    manifest = load_manifest_at(directory)
    return load_move_at(directory, manifest), manifest
