"""Choose the default TA-Lib features by evidence: LightGBM on the core features plus the whole
catalogue, pooled over every symbol, trained before ``--split`` and validated after it (both before
``--end``); outputs ranked by gain; then validation AUC of core + top-k for several k."""

from __future__ import annotations

import argparse
import sys

import lightgbm as lgb
import numpy as np

from coinpredict.common.metrics import fast_auc
from coinpredict.features.catalogue import catalogue
from coinpredict.features.pipeline import CORE_FEATURES, HTF_FEATURES, FeatureSet

from .research_split import add_split_arguments, pooled_split

PARAMS = {"objective": "binary", "num_leaves": 15, "learning_rate": 0.03, "min_data_in_leaf": 400,
          "feature_fraction": 0.6, "bagging_fraction": 0.7, "bagging_freq": 1, "verbosity": -1, "num_threads": 2}


def fit_auc(x, y, xv, yv, rounds=400):
    booster = lgb.train(PARAMS, lgb.Dataset(x, y), rounds, valid_sets=[lgb.Dataset(xv, yv)],
                        callbacks=[lgb.early_stopping(40, verbose=False)])
    return fast_auc(yv, booster.predict(xv, num_iteration=booster.best_iteration)), booster


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    add_split_arguments(ap)
    ap.add_argument("--rows", type=int, default=400_000)
    args = ap.parse_args()
    talib_names = [n for n in catalogue() if n not in CORE_FEATURES]
    core = list(CORE_FEATURES + HTF_FEATURES)
    fs = FeatureSet(tuple(core + talib_names))
    data, train, valid = pooled_split(args, fs)
    rng = np.random.default_rng(0)
    if len(train) > args.rows:
        train = np.sort(rng.choice(train, args.rows, replace=False))
    x, y = data.features[train], data.labels[train, 0]
    xv, yv = data.features[valid], data.labels[valid, 0]
    auc_all, booster = fit_auc(x, y, xv, yv)
    gain = booster.feature_importance("gain")
    ranked = [fs.names[i] for i in np.argsort(-gain) if fs.names[i] in talib_names]
    print(f"core + all {len(talib_names)} TA-Lib outputs: validation AUC {auc_all:.4f}")
    auc_core, _ = fit_auc(x[:, : len(core)], y, xv[:, : len(core)], yv)
    print(f"core only ({len(core)}): {auc_core:.4f}")
    for k in (10, 20, 30, 45, 60):
        cols = list(range(len(core))) + [fs.names.index(n) for n in ranked[:k]]
        auc_k, _ = fit_auc(x[:, cols], y, xv[:, cols], yv)
        print(f"core + top {k}: {auc_k:.4f}  {ranked[:k]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
