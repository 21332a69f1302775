"""The cluster-robust AUC interval that validation and live skill report: it centres on the AUC, matches
the classic DeLong width when forecasts are independent, and keeps its 95% coverage when every coin's
forecast of a candle shares that candle's market move (where an interval that assumes independence
does not)."""

from __future__ import annotations

import numpy as np
import pytest

from coinpredict.common.metrics import clustered_auc_ci, fast_auc


def delong_halfwidth(y: np.ndarray, p: np.ndarray) -> float:
    """Textbook DeLong by brute force: placements from every pair (small n only)."""
    pos, neg = p[y], p[~y]
    wins = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = wins.mean(axis=1), wins.mean(axis=0)
    return 1.959964 * float(np.sqrt(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)))


def test_independent_forecasts_give_delongs_interval():
    rng = np.random.default_rng(1)
    y = rng.random(1500) < 0.5
    p = np.round(rng.random(1500) + 0.2 * y, 2)  # with ties
    lo, hi = clustered_auc_ci(y, p, np.arange(len(y)))
    auc = fast_auc(y, p)
    assert (lo + hi) / 2 == pytest.approx(auc, abs=1e-12)
    assert (hi - lo) / 2 == pytest.approx(delong_halfwidth(y, p), rel=0.01)


def correlated_draws(rng, n: int, candles: int = 300, coins: int = 12):
    """Outcomes driven mostly by a market move every coin of a candle shares, and a weak signal that is
    itself partly shared: the shape of cross-sectional crypto forecasts."""
    clusters = np.repeat(np.arange(candles), coins)
    for _ in range(n):
        market = rng.normal(size=candles)[clusters]
        signal = rng.normal(size=candles)[clusters] * 0.5 + rng.normal(size=candles * coins) * 0.5
        yield market + 0.1 * signal + rng.normal(size=candles * coins) * 0.3 > 0, signal, clusters


def test_correlated_forecasts_keep_their_coverage():
    rng = np.random.default_rng(2)
    truth = np.mean([fast_auc(y, p) for y, p, _ in correlated_draws(rng, 40)])  # stands in for the true AUC
    reps = 120
    covered = {"per candle": 0, "independent": 0}
    for y, p, clusters in correlated_draws(rng, reps):
        for name, groups in (("per candle", clusters), ("independent", np.arange(len(y)))):
            lo, hi = clustered_auc_ci(y, p, groups)
            covered[name] += lo <= truth <= hi
    assert covered["per candle"] / reps >= 0.88
    assert covered["independent"] / reps <= 0.8


def test_no_interval_without_both_outcomes_or_enough_clusters():
    y = np.array([True, False] * 50)
    p = np.linspace(0, 1, 100)
    assert np.isnan(clustered_auc_ci(np.ones(100, bool), p, np.arange(100))).all()
    assert np.isnan(clustered_auc_ci(y, p, np.arange(100) // 20)).all()  # 5 clusters
    lo, hi = clustered_auc_ci(y, p, np.arange(100))
    assert 0 <= lo <= hi <= 1
