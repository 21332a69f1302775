"""Whether the serving can use a version, checked before it is promoted: a promotion must not take away a
horizon the timeframe serves, nor put a version in place that no request could be answered by.

Which horizons a timeframe serves: those of its served ensemble (the default model, which clients ask
for at every one of them, and whose members it asks at each), or, without an ensemble, those of the
model's own served version. A version trained with ``"horizons": [2]`` promoted on a 1h serving
1, 4 and 24 would leave every default request without its model (the ensemble would lose a member,
a single-model request its horizon): it is refused, and the reason says which horizons it has and
which are served. Features only matter in whether this code computes them, and the window in whether
serving fetches candles enough for it; a member's other window or feature set does not stop the
ensemble combining it (each member computes its own inputs).

``api.versions`` and ``pipeline``'s ``if_better`` gate promote through ``versions.promote``, which
applies this check; ``force`` (the API's, and ``promote: always`` of a run asked for on purpose) skips
it, and the serving still answers safely (``serving.resolve``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..errors import ArtifactError
from ..features.datasets import min_history
from ..features.pipeline import unknown_features
from ..models.artifacts import current_dir
from ..models.base import read_manifest
from ..models.ensemble import HorizonEnsembles
from ..models.manifest import Manifest
from ..models.registry import ENSEMBLE_ID, MODEL_IDS


@dataclass(frozen=True)
class Served:
    """What one timeframe serves now, as CURRENT and the manifests it names say."""

    timeframe: str
    ensemble: tuple[int, ...] | None = None  # the served ensemble's horizons (None: no readable ensemble)
    models: dict[str, tuple[int, ...]] = field(default_factory=dict)  # each member's served horizons

    @classmethod
    def read(cls, models_dir: Path, timeframe: str) -> Served:
        """Read once per promotion or listing; an unreadable manifest counts as nothing served (the
    serving keeps the previous good version then, ``serving.model_store``)."""
        models = {}
        for model_id in MODEL_IDS:
            horizons = _current_horizons(models_dir, timeframe, model_id)
            if horizons is not None:
                models[model_id] = horizons
        return cls(timeframe, _current_horizons(models_dir, timeframe, ENSEMBLE_ID), models)

    def required(self, model_id: str) -> tuple[tuple[int, ...], str]:
        """The horizons a version of ``model_id`` must predict, and what serves them (for the reason)."""
        if self.ensemble is not None:
            return self.ensemble, f"the ensemble on {self.timeframe} serves"
        return self.models.get(model_id, ()), f"the served {model_id} on {self.timeframe} predicts"


@dataclass(frozen=True)
class Verdict:
    """``reason`` is None when the serving can use the version; else why not, in words an operator can
    act on. ``horizons`` and ``required`` go into the 409's details."""

    reason: str | None
    horizons: list[int]
    required: list[int]

    @property
    def ok(self) -> bool:
        return self.reason is None


def _current_horizons(models_dir: Path, timeframe: str, model_id: str) -> tuple[int, ...] | None:
    directory = current_dir(models_dir, timeframe, model_id)
    if directory is None:
        return None
    try:
        return tuple(read_manifest(directory).output_horizons)
    except (ArtifactError, OSError, TypeError, ValueError):
        return None


def _listed(horizons) -> str:
    return ", ".join(str(h) for h in horizons)


def check(served: Served, model_id: str, manifest: Manifest, *,
          lookback: int = Settings.serve_lookback) -> Verdict:
    """Whether the version ``manifest`` describes can be served for ``model_id`` on ``served``'s timeframe."""
    name = f"version {manifest.version if manifest.has('version') else '?'} of {model_id}"
    horizons = manifest.output_horizons
    required, serves = served.required(model_id) if model_id != ENSEMBLE_ID else (
        served.ensemble or (), f"the ensemble served on {served.timeframe} predicts")
    missing = [h for h in required if h not in horizons]

    def verdict(reason: str | None) -> Verdict:
        return Verdict(reason, horizons, list(required))

    if missing:
        return verdict(f"{name} predicts horizons {_listed(horizons)}; {serves} horizons {_listed(required)} "
                       f"(it lacks {_listed(missing)}): train it with those horizons, or promote with force "
                       f"to serve it anyway")
    if model_id == ENSEMBLE_ID:
        return verdict(_ensemble_members(served, name, manifest, horizons))
    unknown = unknown_features(manifest.feature_names if manifest.has("feature_names") else ())
    if unknown:
        return verdict(f"{name} reads features this service does not compute ({', '.join(unknown[:5])})")
    window = int(manifest.window if manifest.has("window") else 0)
    if min_history(window) > lookback:
        return verdict(f"{name} reads a window of {window} candles: it needs {min_history(window)} candles, "
                       f"more than the {lookback} serving fetches")
    return verdict(None)


def _ensemble_members(served: Served, name: str, manifest: Manifest, horizons: list[int]) -> str | None:
    """Why an ensemble version could not answer at one of its horizons: none of the members it combines
    there is served with that horizon."""
    try:
        ensembles = HorizonEnsembles.from_manifest(manifest)
    except (KeyError, TypeError, ValueError):
        return f"{name} has no usable ensemble weights"
    for h in horizons:
        if h not in ensembles.horizons:
            continue
        members = ensembles.members(h)
        if members and not any(h in served.models.get(m, ()) for m in members):
            return (f"{name} combines at horizon {h} members none of which is served with that horizon: "
                    f"promote members trained with it first, or promote with force")
    return None
