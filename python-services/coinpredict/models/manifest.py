"""A version's manifest, typed: the fields every version has (features, window, horizons, scaler,
training, metrics) and those of one family (params, state, ensemble weights). Read by
``models.artifacts``, written by ``training.artifacts``; keys this code does not know are kept, so a
manifest read and written again is the same, and older manifests (one ``horizon``, no ``horizons``)
still read."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass
class Manifest:
    feature_names: list[str] | None = None
    feature_hash: str | None = None
    window: int | None = None
    horizon: int | None = None  # the first horizon (single-horizon artifacts have only this)
    horizons: list[int] | None = None
    targets: list[str] | None = None  # what the outputs predict, horizons within each (older: direction only)
    scaler: dict | None = None
    training: dict | None = None
    metrics: dict | None = None
    history: list | None = None
    family: str | None = None
    params: dict | None = None
    state: dict | None = None
    describe: dict | None = None
    ensemble: dict | None = None  # the first horizon's weights (ensemble only)
    by_horizon: dict | None = None  # every horizon's weights (ensemble only)
    member_versions: dict | None = None
    id: str | None = None
    timeframe: str | None = None
    version: str | None = None
    trained_at: str | None = None
    code_version: str | None = None
    files: dict[str, str] | None = None
    extra: dict = field(default_factory=dict)  # keys not named above, kept as they are
    nulls: frozenset[str] = frozenset()  # named keys the source held as null (a None field is otherwise absent)

    @classmethod
    def from_dict(cls, raw: dict) -> Manifest:
        known = {f.name for f in fields(cls)} - {"extra", "nulls"}
        return cls(**{k: v for k, v in raw.items() if k in known},
                   extra={k: v for k, v in raw.items() if k not in known},
                   nulls=frozenset(k for k, v in raw.items() if k in known and v is None))

    def to_dict(self) -> dict:
        """The JSON object written to disk: absent fields left out, unknown keys kept."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("extra", "nulls")}
        return {**{k: v for k, v in out.items() if v is not None or k in self.nulls}, **self.extra}

    def with_fields(self, **changes: Any) -> Manifest:
        """A copy with ``changes``; a name that is not a field goes to ``extra``."""
        known = {f.name for f in fields(self)} - {"extra", "nulls"}
        extra = {**self.extra, **{k: v for k, v in changes.items() if k not in known}}
        return replace(self, extra=extra, **{k: v for k, v in changes.items() if k in known})

    def has(self, name: str) -> bool:
        """Whether the source held field ``name``, null included (``name in raw`` of the JSON object)."""
        return getattr(self, name) is not None or name in self.nulls

    @property
    def output_horizons(self) -> list[int]:
        """The horizons a model predicts, in output order (single-horizon artifacts name one ``horizon``)."""
        return [int(h) for h in self.horizons or [self.horizon or 1]]

    @property
    def output_targets(self) -> list[str]:
        """The targets a model predicts, in output order: ``direction``, then ``outperform`` when it has it."""
        return list(self.targets or ["direction"])

    def output_column(self, target: str, horizon: int) -> int | None:
        """The output column of ``target`` at ``horizon``; None when the model does not predict it."""
        targets, horizons = self.output_targets, self.output_horizons
        if target not in targets or horizon not in horizons:
            return None
        return targets.index(target) * len(horizons) + horizons.index(horizon)

    @property
    def job(self) -> str | None:
        """The id of the job that trained this version, if one did."""
        return (self.training or {}).get("job")

    @property
    def validation(self) -> dict:
        """The first horizon's validation metrics."""
        return (self.metrics or {}).get("validation", {})
