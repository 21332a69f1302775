"""The ensemble over member probabilities: weighted average (weights learned on validation only),
median, or the best member on validation; reports the members' spread as uncertainty."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from ..evaluation.metrics import log_loss

METHODS = ("weighted_average", "median", "best")


class Ensemble:
    family = "ensemble"

    def __init__(self, method: str = "weighted_average", shrinkage: float = 0.3):
        self.method = method
        self.shrinkage = shrinkage  # pulls learned weights toward equal: validation is one period

    def fit(self, member_probs: dict[str, np.ndarray], y: np.ndarray) -> Ensemble:
        ids = sorted(member_probs)
        p = np.column_stack([member_probs[i] for i in ids])
        losses = {i: log_loss(y, member_probs[i]) for i in ids}

        def objective(z):
            w = np.exp(z - z.max())
            w /= w.sum()
            return log_loss(y, p @ w)

        res = minimize(objective, np.zeros(len(ids)), method="L-BFGS-B")
        w = np.exp(res.x - res.x.max())
        w /= w.sum()
        w = (1 - self.shrinkage) * w + self.shrinkage / len(ids)
        self.weights_ = {i: float(x) for i, x in zip(ids, w)}
        self.validation_log_loss_ = losses
        self.best_ = min(losses, key=losses.get)
        return self

    def combine(self, member_probs: dict[str, np.ndarray], method: str | None = None) -> dict:
        """Combine the members that answered; weights renormalised over them."""
        method = method or self.method
        ids = [i for i in member_probs if i in self.weights_] or list(member_probs)
        if not ids:
            raise ValueError("no ensemble member could answer")
        p = np.column_stack([member_probs[i] for i in ids])
        weights = np.array([self.weights_.get(i, 0.0) for i in ids])
        weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(ids), 1 / len(ids))
        if method == "median":
            combined = np.median(p, axis=1)
            used = {i: 1 / len(ids) for i in ids}
        elif method == "best":
            best = self.best_ if self.best_ in ids else min(ids, key=lambda i: self.validation_log_loss_.get(i, 1e9))
            combined = member_probs[best]
            used = {best: 1.0}
        else:
            combined = p @ weights
            used = dict(zip(ids, weights.tolist()))
        return {"probability_up": combined, "weights": used, "uncertainty": p.std(axis=1), "method": method}

    def to_dict(self) -> dict:
        return {"method": self.method, "shrinkage": self.shrinkage, "weights": self.weights_,
                "validation_log_loss": self.validation_log_loss_, "best": self.best_}

    @classmethod
    def from_dict(cls, d: dict) -> Ensemble:
        ens = cls(d.get("method", "weighted_average"), d.get("shrinkage", 0.5))
        ens.weights_ = {k: float(v) for k, v in d["weights"].items()}
        ens.validation_log_loss_ = d.get("validation_log_loss", {})
        ens.best_ = d["best"]
        return ens
