"""Do the pooled models carry to coins they never saw? A LightGBM (the registry's parameters) is
trained before ``--split`` once on every coin and once per fold without that fold's coins; both are
scored after ``--split`` (before ``--end``) on the held-out coins only."""

from __future__ import annotations

import argparse
import sys

import lightgbm as lgb
import numpy as np

from coinpredict.common.metrics import fast_auc
from coinpredict.features.datasets import table_rows
from coinpredict.features.default import default_feature_set
from coinpredict.models.registry import MODEL_SPECS

from .research_split import add_split_arguments, pooled_split


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    add_split_arguments(ap)
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args()
    fs = default_feature_set(args.timeframe)
    data, train, test = pooled_split(args, fs)
    params = {"objective": "binary", "verbosity": -1, "num_threads": 2, "seed": 0,
              **{k: v for k, v in MODEL_SPECS["lightgbm"].params.items() if k != "library"}}
    rng = np.random.default_rng(0)

    def fit(rows):
        rows = np.sort(rng.choice(rows, min(args.rows, len(rows)), replace=False))
        return lgb.train(params, lgb.Dataset(table_rows(data.features, rows, fs), data.labels[rows, 0]), args.rounds)

    everyone = fit(train)
    order = rng.permutation(len(data.symbols))
    seen, unseen = [], []
    for fold in np.array_split(order, args.folds):
        held = np.isin(data.symbol_index, fold)
        rows = test[held[test]]
        if not len(rows):
            continue
        x, y = table_rows(data.features, rows, fs), data.labels[rows, 0]
        seen.append(fast_auc(y, everyone.predict(x)))
        unseen.append(fast_auc(y, fit(train[~held[train]]).predict(x)))
        print(f"{' '.join(data.symbols[i] for i in fold):<48} trained with them {seen[-1]:.4f}, "
              f"never saw them {unseen[-1]:.4f}", flush=True)
    print(f"mean AUC on held-out coins: trained with them {np.mean(seen):.4f}, never saw them {np.mean(unseen):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
