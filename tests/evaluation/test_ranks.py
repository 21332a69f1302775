"""The numpy ranks and rank correlation that replaced scipy's on the serving path give scipy's numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from coinpredict.common.metrics import rankdata, spearman


@pytest.mark.parametrize("values", [
    [3.0, 1.0, 2.0],
    [1.0, 1.0, 1.0],
    [0.2, 0.5, 0.2, 0.9, 0.5, 0.5],
    [5, 3, 3, 1],
    [],
])
def test_ranks_average_ties_like_scipy(values):
    np.testing.assert_array_equal(rankdata(np.array(values)), stats.rankdata(values))


def test_ranks_of_many_tied_values_equal_scipys():
    values = np.random.default_rng(0).integers(0, 50, 5000).astype(float)
    np.testing.assert_array_equal(rankdata(values), stats.rankdata(values))


def test_a_missing_value_makes_every_rank_missing_as_in_scipy():
    assert np.isnan(rankdata(np.array([1.0, np.nan, 2.0]))).all()
    assert np.isnan(stats.rankdata([1.0, np.nan, 2.0])).all()


def test_spearman_equals_scipys_statistic():
    rng = np.random.default_rng(1)
    a = rng.normal(size=400)
    b = 0.3 * a + rng.normal(size=400)
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)
    b_tied = np.round(b)
    assert spearman(a, b_tied) == pytest.approx(stats.spearmanr(a, b_tied).statistic, abs=1e-12)
    assert np.isnan(spearman(a, np.ones(400)))
