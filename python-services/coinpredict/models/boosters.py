"""One small wrapper per booster library, all with the same interface, so ``BoostingModel`` never
branches on the library: train (with or without early stopping), trees used, raw scores, the state
the manifest keeps, save and load in the library's native format."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from .oblivious_shap import ObliviousShap, from_catboost


class Booster:
    library: ClassVar[str]
    file: ClassVar[str]  # the native weights file

    def __init__(self, native=None):
        self.native = native

    def train(self, x, y, *, rounds: int, seed: int, threads: int, valid, stop: int, params: dict) -> None:
        """Fit ``rounds`` trees; with ``valid`` (x, y) stop early on its log loss after ``stop`` bad rounds."""
        raise NotImplementedError

    def rounds_used(self) -> int:
        """Trees the booster predicts with."""
        raise NotImplementedError

    def raw_scores(self, x: np.ndarray) -> np.ndarray:
        """Logits, shape (n,)."""
        raise NotImplementedError

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """The library's exact per-feature contributions to the logit (TreeSHAP), shape (n, k + 1): the
        last column is the bias; each row sums to ``raw_scores``."""
        raise NotImplementedError

    def state(self) -> dict:
        """What the manifest keeps beside the weights file."""
        return {}

    def save(self, path: Path) -> None:
        self.native.save_model(str(path))

    def load(self, path: Path, state: dict) -> int:
        """Read ``path``; return the number of inputs the model expects."""
        raise NotImplementedError


class XGBoostBooster(Booster):
    library, file = "xgboost", "model.json"

    def train(self, x, y, *, rounds, seed, threads, valid, stop, params) -> None:
        import xgboost as xgb

        dtrain = xgb.DMatrix(x, label=y, nthread=threads)
        evals = [(xgb.DMatrix(valid[0], label=valid[1], nthread=threads), "valid")] if valid else []
        self.native = xgb.train({"objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist",
                                 "nthread": threads, "seed": seed, **params}, dtrain, rounds, evals=evals,
                                early_stopping_rounds=stop if valid else None, verbose_eval=False)
        if not valid:
            self.native.best_iteration = rounds - 1

    def rounds_used(self) -> int:
        return int(self.native.best_iteration) + 1

    def raw_scores(self, x):
        import xgboost as xgb

        it = getattr(self.native, "best_iteration", None)
        rng = (0, it + 1) if it is not None else (0, 0)
        return self.native.predict(xgb.DMatrix(x), output_margin=True, iteration_range=rng)

    def contributions(self, x):
        import xgboost as xgb

        it = getattr(self.native, "best_iteration", None)
        rng = (0, it + 1) if it is not None else (0, 0)
        return self.native.predict(xgb.DMatrix(x), pred_contribs=True, iteration_range=rng)

    def state(self) -> dict:
        return {"best_iteration": int(getattr(self.native, "best_iteration", 0))}

    def load(self, path, state) -> int:
        import xgboost as xgb

        self.native = xgb.Booster(model_file=str(path))
        self.native.set_param({"nthread": 1})
        if state.get("best_iteration") is not None:
            self.native.best_iteration = int(state["best_iteration"])
        return self.native.num_features()


class LightGBMBooster(Booster):
    library, file = "lightgbm", "model.txt"

    def train(self, x, y, *, rounds, seed, threads, valid, stop, params) -> None:
        import lightgbm as lgb

        self.native = lgb.train({"objective": "binary", "metric": "binary_logloss", "verbosity": -1,
                                 "num_threads": threads, "seed": seed, **params}, lgb.Dataset(x, y), rounds,
                                valid_sets=[lgb.Dataset(*valid)] if valid else None,
                                callbacks=[lgb.early_stopping(stop, verbose=False)] if valid else None)

    def rounds_used(self) -> int:
        return int(self.native.best_iteration or self.native.current_iteration())

    def raw_scores(self, x):
        return self.native.predict(x, raw_score=True, num_iteration=self.native.best_iteration or None)

    def contributions(self, x):
        return self.native.predict(x, pred_contrib=True, num_iteration=self.native.best_iteration or None)

    def save(self, path) -> None:
        self.native.save_model(str(path), num_iteration=self.native.best_iteration or None)

    def load(self, path, state) -> int:
        import lightgbm as lgb

        self.native = lgb.Booster(model_file=str(path))
        return self.native.num_feature()


class CatBoostBooster(Booster):
    library, file = "catboost", "model.cbm"
    _shap: ObliviousShap | bool | None = None  # the explanation tables once built (False: not covered)

    def train(self, x, y, *, rounds, seed, threads, valid, stop, params) -> None:
        from catboost import CatBoostClassifier

        self.native, self._shap = CatBoostClassifier(iterations=rounds, thread_count=threads, random_seed=seed,
                                                     verbose=False, allow_writing_files=False, **params), None
        if valid:
            self.native.fit(x, y, eval_set=valid, early_stopping_rounds=stop, use_best_model=True)
        else:
            self.native.fit(x, y)

    def rounds_used(self) -> int:
        return int(self.native.tree_count_)

    def raw_scores(self, x):
        return self.native.predict(x, prediction_type="RawFormulaVal")

    def contributions(self, x):
        from catboost import Pool

        # A request's rows: the oblivious trees' TreeSHAP tables (models.oblivious_shap; the same values,
        # 3 ms instead of 30-47 ms for 3,000 trees), built on the first explanation, never by an answer
        # without one. A validation sample, or a model they do not cover, keeps CatBoost's own call.
        if len(x) <= 16:
            if self._shap is None:
                self._shap = from_catboost(self.native) or False
            got = self._shap.contributions(x) if self._shap else None
            if got is not None:
                return got
        small = {"shap_mode": "NoPreCalc", "thread_count": 1} if len(x) <= 16 else {}
        return self.native.get_feature_importance(Pool(x), type="ShapValues", **small)

    def load(self, path, state) -> int:
        from catboost import CatBoostClassifier

        self.native, self._shap = CatBoostClassifier(thread_count=1), None
        self.native.load_model(str(path))
        return len(self.native.feature_names_)


BOOSTERS: dict[str, type[Booster]] = {b.library: b for b in (XGBoostBooster, LightGBMBooster, CatBoostBooster)}
