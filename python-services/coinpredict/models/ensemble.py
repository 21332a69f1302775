"""The ensemble over member probabilities: an equal-weight mean of the first ``top_k`` members of a
ranking (chosen on validation only), the median, or the best member; reports the members' spread as
uncertainty.

The members are highly correlated (their logits correlate about 0.8: all of them mostly learn
short-term reversal), so free weights fitted to one validation period overfit it: every rule here is an
equal-weight mean of a selection. Which selection (all members, the boosters, the top 5 or 3 by log loss,
the best one) is chosen out of fold per horizon (``ensemble_rules``): picked on the first half of the
validation period, scored on the second.
"""

from __future__ import annotations

import numpy as np

from .ensemble_rules import DEFAULT_RULE, choose_rule, ranking_by_log_loss, rule_ranking, scores_to_dict
from .manifest import Manifest

METHODS = ("weighted_average", "median", "best")
TOP_K = 5


class Ensemble:
    family = "ensemble"

    def __init__(self, method: str = "weighted_average", top_k: int = TOP_K):
        self.method = method
        self.top_k = top_k
        self.rule = DEFAULT_RULE if top_k == TOP_K else f"top{top_k}"
        self.selection_: list[dict] = []

    def fit(self, member_probs: dict[str, np.ndarray], y: np.ndarray, t: np.ndarray | None = None,
            gap_ms: int = 0) -> Ensemble:
        """Rank the members by validation log loss. With the rows' times ``t``, the rule (which members
        the mean takes) is chosen out of fold first (``ensemble_rules.choose_rule``); without, the
        ``top_k`` rule given."""
        if t is not None:
            self.rule, scores = choose_rule(member_probs, y, t, gap_ms)
            self.selection_ = scores_to_dict(scores)
        by_loss, self.validation_log_loss_ = ranking_by_log_loss(member_probs, y)
        if t is None:
            self.ranking_ = by_loss
            return self
        self.ranking_, self.top_k = rule_ranking(self.rule, by_loss) or rule_ranking(DEFAULT_RULE, by_loss)
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
        return {"method": self.method, "top_k": self.top_k, "rule": self.rule, "ranking": self.ranking_,
                "weights": self.weights_, "validation_log_loss": self.validation_log_loss_, "best": self.best_,
                "selection": self.selection_}

    @classmethod
    def from_dict(cls, d: dict) -> Ensemble:
        ens = cls(d.get("method", "weighted_average"), int(d.get("top_k", TOP_K)))
        ens.validation_log_loss_ = d["validation_log_loss"]
        ens.ranking_ = list(d.get("ranking") or sorted(ens.validation_log_loss_, key=ens.validation_log_loss_.get))
        ens.rule = d.get("rule", ens.rule)
        ens.selection_ = list(d.get("selection") or [])
        return ens


class HorizonEnsembles:
    """A timeframe's ensemble: one ``Ensemble`` per horizon, each choosing its members on that
    horizon's validation labels (the best members at 1 candle are not always the best at 24)."""

    def __init__(self, by_horizon: dict[int, Ensemble]):
        self.by_horizon = dict(sorted(by_horizon.items()))

    @classmethod
    def fit(cls, member_probs: dict[str, np.ndarray], y: np.ndarray, horizons: tuple[int, ...],
            t: np.ndarray | None = None, step_ms: int = 0, **params) -> HorizonEnsembles:
        """``member_probs``: id -> (n, H) validation probabilities; ``y``: (n, H) labels; ``t``: the rows'
        open times (ms), which choose each horizon's rule out of fold (a gap of ``h`` candles of
        ``step_ms`` between the halves)."""
        return cls({h: Ensemble(**params).fit({i: p[:, j] for i, p in member_probs.items()}, y[:, j], t,
                                              (h + 1) * step_ms)
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
