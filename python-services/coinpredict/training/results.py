"""What a training run returns: one ``MemberResult`` per model and the run's ``RunResult``; plain
dictionaries only at the edges (a job's JSON result, ``last_training.json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class MemberResult:
    """One model of a run: the version it wrote, its validation figures and what the gate did with it."""

    version: str
    seconds: float
    valid_auc: float
    valid_log_loss: float
    skill: str
    valid_auc_by_horizon: dict[str, float]
    epochs: int
    n_parameters: int
    members: list[str] | None = None  # the ensemble's members; None for a member
    promoted: bool = False
    gate: dict | None = None  # why it was (not) served: the policy, the gate's figures, a refusal

    @property
    def validation(self) -> dict:
        return {"auc": self.valid_auc, "log_loss": self.valid_log_loss, "skill": self.skill}

    def to_dict(self) -> dict:
        """The shape results have always had (``members`` only on the ensemble)."""
        out = asdict(self)
        if self.members is None:
            del out["members"]
        return out


@dataclass
class RunResult:
    """A timeframe's run: each model's result in training order, and the run's horizons, seconds and
    ``ranges`` (train and validation periods, candle counts, ``end_exclusive``)."""

    models: dict[str, MemberResult]
    horizons: list[int]
    seconds: float = 0.0
    ranges: dict = field(default_factory=dict)
    move: Any = None  # the move model's ``training.move_fit.MoveResult``, when the run trained one
    skipped: dict[str, str] = field(default_factory=dict)  # model id -> why the data could not train it

    def __getitem__(self, model_id: str) -> MemberResult:
        return self.models[model_id]

    def __len__(self) -> int:
        return len(self.models)

    @property
    def promoted(self) -> list[str]:
        return [m for m, r in self.models.items() if r.promoted]

    def meta(self) -> dict:
        """The run's figures as ``last_training.json`` holds them under ``meta``."""
        return {"seconds": self.seconds, "horizons": list(self.horizons), **self.ranges}

    def to_dict(self) -> dict:
        return {"meta": self.meta(), **{m: r.to_dict() for m, r in self.models.items()},
                **({"skipped": dict(self.skipped)} if self.skipped else {})}


def summary_table(results: RunResult) -> str:
    """The end-of-training table: one row per model."""
    lines = [f"{'model':<24}{'valid AUC':>10}{'log loss':>10}{'skill':>7}{'epochs':>8}{'params':>9}{'secs':>7}"]
    for model_id, r in results.models.items():
        lines.append(f"{model_id:<24}{r.valid_auc:>10.4f}{r.valid_log_loss:>10.4f}{r.skill:>7}"
                     f"{r.epochs:>8}{r.n_parameters:>9}{r.seconds:>7.0f}")
    return "\n".join(lines)
