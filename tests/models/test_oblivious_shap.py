"""CatBoost explanations through the oblivious trees' TreeSHAP tables (``models.oblivious_shap``) equal
CatBoost's own ShapValues: with NaNs sent either way, a feature asked twice in one tree, leaves no
training row reached, depths 1 to 6; a model outside their shape falls back to CatBoost's call."""

from __future__ import annotations

import numpy as np
import pytest

from coinpredict.models.boosters import CatBoostBooster
from coinpredict.models.oblivious_shap import from_catboost

catboost = pytest.importorskip("catboost")


def _data(n: int = 1500, k: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, k)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] * x[:, 2] + 0.5 * np.abs(x[:, 0]) + rng.normal(size=n) > 0).astype(int)
    x[rng.random(x.shape) < 0.05] = np.nan
    return x, y


@pytest.mark.parametrize(("depth", "nan_mode"), [(5, "Min"), (6, "Max"), (1, "Min"), (3, "Max")])
def test_the_tables_give_catboosts_own_shap_values(depth, nan_mode):
    x, y = _data()
    model = catboost.CatBoostClassifier(iterations=120, depth=depth, learning_rate=0.1, nan_mode=nan_mode,
                                        thread_count=1, verbose=False, random_seed=1, allow_writing_files=False)
    model.fit(x, y)
    shap = from_catboost(model)
    assert shap is not None
    rows = np.vstack([x[:12], np.full((1, x.shape[1]), np.nan, np.float32), np.full((1, x.shape[1]), 9.0, np.float32)])
    got = shap.contributions(rows)
    want = model.get_feature_importance(catboost.Pool(rows), type="ShapValues")
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.sum(axis=1), model.predict(rows, prediction_type="RawFormulaVal"), atol=1e-9)
    if depth >= 5:  # the case covered: a tree asking one feature at two levels (one player, not two)
        assert (shap.feature[:, :, None] == shap.feature[:, None, :]).sum() > shap.feature.size


def test_the_booster_explains_through_them_and_falls_back_where_they_do_not_reach():
    x, y = _data(seed=2)
    booster = CatBoostBooster()
    booster.train(x, y, rounds=60, seed=0, threads=1, valid=None, stop=0, params={"depth": 7})
    want = booster.native.get_feature_importance(catboost.Pool(x[:3]), type="ShapValues")
    np.testing.assert_allclose(booster.contributions(x[:3]), want, atol=1e-9)  # depth 7: CatBoost's own call
    assert booster._shap is False
    booster.train(x, y, rounds=60, seed=0, threads=1, valid=None, stop=0, params={"depth": 4})
    np.testing.assert_allclose(booster.contributions(x[:3]),
                               booster.native.get_feature_importance(catboost.Pool(x[:3]), type="ShapValues"),
                               atol=1e-9)
    assert booster._shap  # built on the first explanation, for the new trees
