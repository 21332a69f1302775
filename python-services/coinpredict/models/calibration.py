"""Platt scaling: a two-parameter logistic map from raw score to probability, fitted on validation."""

from __future__ import annotations

import numpy as np


def fit_platt(scores: np.ndarray, labels: np.ndarray, l2: float = 1e-4) -> tuple[float, float]:
    from scipy.optimize import minimize  # fitting only: a serving process never loads scipy

    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    scale = s.std() or 1.0

    def loss(ab):
        z = ab[0] * s / scale + ab[1]
        return np.mean(np.logaddexp(0, z) - y * z) + l2 * ab[0] ** 2

    res = minimize(loss, x0=np.array([1.0, 0.0]), method="L-BFGS-B")
    a, b = res.x
    return float(a / scale), float(b)
