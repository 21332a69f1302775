"""Gradient-boosted trees on the flat table (features at t plus lagged returns); native formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ArtifactError
from .base import DataView, PredictionModel


class BoostingModel(PredictionModel):
    family = "boosting"
    input_kind = "table"
    FILES = {"xgboost": "model.json", "lightgbm": "model.txt", "catboost": "model.cbm"}

    def __init__(self, model_id: str, *, library: str, **params):
        super().__init__(model_id, **params)
        self.library = library

    def get_params(self) -> dict:
        return {"library": self.library, **self.params}

    def fit(self, train: DataView, valid: DataView, *, max_rows: int | None = None, seed: int = 0,
            threads: int = 2, rounds: int = 400, **_) -> BoostingModel:
        rng = np.random.default_rng(seed)
        rows = np.arange(len(train))
        if max_rows and len(rows) > max_rows:
            rows = np.sort(rng.choice(rows, max_rows, replace=False))
        x, y = train.inputs("table", rows), train.labels[rows]
        xv, yv = valid.inputs("table"), valid.labels
        self.n_features_in_ = x.shape[1]
        p = dict(self.params)
        stop = p.pop("early_stopping", 40)
        if self.library == "xgboost":
            import xgboost as xgb

            dtrain, dvalid = xgb.DMatrix(x, label=y, nthread=threads), xgb.DMatrix(xv, label=yv, nthread=threads)
            self.booster_ = xgb.train({"objective": "binary:logistic", "eval_metric": "logloss",
                                       "tree_method": "hist", "nthread": threads, "seed": seed, **p},
                                      dtrain, rounds, evals=[(dvalid, "valid")], early_stopping_rounds=stop,
                                      verbose_eval=False)
            self.history_ = [{"best_iteration": int(self.booster_.best_iteration)}]
        elif self.library == "lightgbm":
            import lightgbm as lgb

            self.booster_ = lgb.train({"objective": "binary", "metric": "binary_logloss", "verbosity": -1,
                                       "num_threads": threads, "seed": seed, **p},
                                      lgb.Dataset(x, y), rounds, valid_sets=[lgb.Dataset(xv, yv)],
                                      callbacks=[lgb.early_stopping(stop, verbose=False)])
            self.history_ = [{"best_iteration": int(self.booster_.best_iteration)}]
        elif self.library == "catboost":
            from catboost import CatBoostClassifier

            self.booster_ = CatBoostClassifier(iterations=rounds, thread_count=threads, random_seed=seed,
                                               verbose=False, allow_writing_files=False, **p)
            self.booster_.fit(x, y, eval_set=(xv, yv), early_stopping_rounds=stop, use_best_model=True)
            self.history_ = [{"best_iteration": int(self.booster_.get_best_iteration() or 0)}]
        else:
            raise ValueError(f"unknown boosting library {self.library!r}")
        return self

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if self.library == "xgboost":
            import xgboost as xgb

            it = getattr(self.booster_, "best_iteration", None)
            rng = (0, it + 1) if it is not None else (0, 0)
            return self.booster_.predict(xgb.DMatrix(x), output_margin=True, iteration_range=rng)
        if self.library == "lightgbm":
            return self.booster_.predict(x, raw_score=True, num_iteration=self.booster_.best_iteration or None)
        return self.booster_.predict(x, prediction_type="RawFormulaVal")

    def state(self) -> dict:
        state = super().state()
        if self.library == "xgboost":
            state["best_iteration"] = int(getattr(self.booster_, "best_iteration", 0))
        return state

    def save_weights(self, directory: Path) -> list[str]:
        name = self.FILES[self.library]
        path = str(directory / name)
        if self.library == "lightgbm":
            self.booster_.save_model(path, num_iteration=self.booster_.best_iteration or None)
        else:
            self.booster_.save_model(path)
        return [name]

    def load_weights(self, directory: Path, manifest: dict) -> None:
        path = directory / self.FILES[self.library]
        if not path.is_file():
            raise ArtifactError(f"{path}: missing")
        try:
            if self.library == "xgboost":
                import xgboost as xgb

                self.booster_ = xgb.Booster(model_file=str(path))
                self.booster_.set_param({"nthread": 1})
                best = manifest["state"].get("best_iteration")
                if best is not None:
                    self.booster_.best_iteration = int(best)
                n = self.booster_.num_features()
            elif self.library == "lightgbm":
                import lightgbm as lgb

                self.booster_ = lgb.Booster(model_file=str(path))
                n = self.booster_.num_feature()
            else:
                from catboost import CatBoostClassifier

                self.booster_ = CatBoostClassifier(thread_count=1)
                self.booster_.load_model(str(path))
                n = len(self.booster_.feature_names_)
        except Exception as exc:  # noqa: BLE001 - each library raises its own error types
            raise ArtifactError(f"{path}: cannot load {self.library} model ({str(exc).splitlines()[0][:200]})") \
                from exc
        if n != self.n_features_in_:
            raise ArtifactError(f"{path}: model has {n} inputs, manifest says {self.n_features_in_}")
