"""What ``fit`` accepts, the same for every family (no torch import: training profiles use these).

Every model's ``fit(train, valid, **options)`` takes the fields of ``FitOptions``; each family uses
the ones that apply to it (boosters: rows, rounds, threads; torch models: ``train``), and a name
that is not a field is refused rather than ignored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields


@dataclass
class TrainConfig:
    """The torch loop's settings."""

    epochs: int = 8
    batch_size: int = 512
    samples_per_epoch: int = 60_000
    lr: float = 2e-3
    weight_decay: float = 1e-4
    clip_norm: float = 1.0
    patience: int = 3
    max_valid: int = 40_000
    seed: int = 0  # set from FitOptions.seed by the model
    progress: bool = True
    on_epoch: Callable[[dict], None] | None = None  # told each epoch's figures (a job's progress; may raise to stop)


@dataclass(frozen=True)
class FitOptions:
    seed: int = 0
    threads: int = 2
    max_rows: int | None = None  # boosters: a sample of at most this many training rows
    rounds: int = 400  # boosters: the most trees, before early stopping
    config: TrainConfig = field(default_factory=TrainConfig)  # torch models: the loop's settings

    @classmethod
    def of(cls, options: dict) -> FitOptions:
        """Options given as keywords -> FitOptions; an unknown name is a TypeError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown fit options: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        return cls(**options)
