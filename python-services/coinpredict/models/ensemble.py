"""The ensemble over member probabilities: weighted average (weights learned on validation only),
median, or the best member on validation; reports the members' spread as uncertainty.

The members are highly correlated (their logits correlate about 0.8: all of them mostly learn
short-term reversal), so free weights fitted to one validation period overfit it. The weights
learned here are therefore a selection: the ``top_k`` members with the lowest validation log loss
share the weight equally. Measured by fitting on the first half of the 2024-09..12 validation
period and scoring the second (AUC): top 5 0.5567, top 3 0.5565, top 8 0.5562, the best single
member 0.5561, log-loss-optimal free weights 0.5555, all 19 equal 0.5548.
"""

from __future__ import annotations

import numpy as np

from ..common.metrics import log_loss
from .manifest import Manifest

METHODS = ("weighted_average", "median", "best")
TOP_K = 5


class Ensemble:
    family = "ensemble"

    def __init__(self, method: str = "weighted_average", top_k: int = TOP_K):
        self.method = method
        self.top_k = top_k

    def fit(self, member_probs: dict[str, np.ndarray], y: np.ndarray) -> Ensemble:
        self.validation_log_loss_ = {i: log_loss(y, p) for i, p in sorted(member_probs.items())}
        self.ranking_ = sorted(self.validation_log_loss_, key=self.validation_log_loss_.get)  # best first
        return self

    @property
    def weights_(self) -> dict[str, float]:
        """Every ranked member's weight: equal over the ``top_k`` best, zero for the rest."""
        chosen = self.ranking_[: self.top_k]
        return {i: (1 / len(chosen) if i in chosen else 0.0) for i in self.ranking_}

    @property
    def best_(self) -> str:
        return self.ranking_[0]

    def combine(self, member_probs: dict[str, np.ndarray], method: str | None = None) -> dict:
        """Combine the members that answered. The weighted average takes the ``top_k`` best-ranked
        of them, so a failed member is replaced by the next best rather than leaving a hole."""
        method = method or self.method
        ids = [i for i in self.ranking_ if i in member_probs] or sorted(member_probs)
        if not ids:
            raise ValueError("no ensemble member could answer")
        p = np.column_stack([member_probs[i] for i in ids])
        if method == "median":
            combined = np.median(p, axis=1)
            used = {i: 1 / len(ids) for i in ids}
        elif method == "best":
            combined = member_probs[ids[0]]
            used = {ids[0]: 1.0}
        else:
            chosen = ids[: self.top_k]
            combined = np.mean([member_probs[i] for i in chosen], axis=0)
            used = {i: 1 / len(chosen) for i in chosen}
        return {"probability_up": combined, "weights": used, "uncertainty": p.std(axis=1), "method": method}

    def to_dict(self) -> dict:
        return {"method": self.method, "top_k": self.top_k, "ranking": self.ranking_, "weights": self.weights_,
                "validation_log_loss": self.validation_log_loss_, "best": self.best_}

    @classmethod
    def from_dict(cls, d: dict) -> Ensemble:
        ens = cls(d.get("method", "weighted_average"), int(d.get("top_k", TOP_K)))
        ens.validation_log_loss_ = d["validation_log_loss"]
        ens.ranking_ = list(d.get("ranking") or sorted(ens.validation_log_loss_, key=ens.validation_log_loss_.get))
        return ens


class HorizonEnsembles:
    """A timeframe's ensemble: one ``Ensemble`` per horizon, each choosing its members on that
    horizon's validation labels (the best members at 1 candle are not always the best at 24)."""

    def __init__(self, by_horizon: dict[int, Ensemble]):
        self.by_horizon = dict(sorted(by_horizon.items()))

    @classmethod
    def fit(cls, member_probs: dict[str, np.ndarray], y: np.ndarray, horizons: tuple[int, ...],
            **params) -> HorizonEnsembles:
        """``member_probs``: id -> (n, H) validation probabilities; ``y``: (n, H) labels."""
        return cls({h: Ensemble(**params).fit({i: p[:, j] for i, p in member_probs.items()}, y[:, j])
                    for j, h in enumerate(horizons)})

    @property
    def horizons(self) -> list[int]:
        return list(self.by_horizon)

    def for_horizon(self, horizon: int) -> Ensemble:
        return self.by_horizon[horizon]

    def members(self, horizon: int) -> list[str]:
        """Every ranked member at ``horizon``, best first: those past ``top_k`` stand in for failed ones
        and count in the spread."""
        return list(self.by_horizon[horizon].ranking_)

    def to_manifest(self) -> dict:
        """Manifest fields: ``ensemble`` (the first horizon's, as single-horizon artifacts have it) and
        ``by_horizon``."""
        first = next(iter(self.by_horizon.values()))
        return {"ensemble": first.to_dict(), "by_horizon": {str(h): e.to_dict() for h, e in self.by_horizon.items()}}

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> HorizonEnsembles:
        if manifest.has("by_horizon"):
            return cls({int(h): Ensemble.from_dict(d) for h, d in manifest.by_horizon.items()})
        if not manifest.has("ensemble"):
            raise KeyError("ensemble")
        horizon = manifest.horizon if manifest.has("horizon") else 1
        return cls({int(horizon): Ensemble.from_dict(manifest.ensemble)})
