"""Naive forecasters scored in the same run and table as the models."""

from __future__ import annotations

import numpy as np


def baseline_probabilities(prev_return: np.ndarray, base_rate_train: float, seed: int = 0) -> dict[str, np.ndarray]:
    """coin_flip: random; always_up: constant above 0.5; majority: constant on the side of the
    training base rate; momentum: the sign of the last return; mean_reversion: its opposite."""
    n = len(prev_return)
    rng = np.random.default_rng(seed)
    sign = np.sign(np.nan_to_num(prev_return))
    return {
        "coin_flip": rng.uniform(0.45, 0.55, n),
        "always_up": np.full(n, 0.52),
        "majority": np.full(n, 0.52 if base_rate_train >= 0.5 else 0.48),
        "momentum": 0.5 + 0.02 * sign,
        "mean_reversion": 0.5 - 0.02 * sign,
    }
