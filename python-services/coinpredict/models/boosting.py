"""Gradient-boosted trees on the flat table (features at t plus lagged returns); native formats.
One booster per output: per horizon, and per target (direction, then the relative target; trees do not
share a multi-task head the way networks do). The
library-specific parts live in ``boosters`` (one wrapper per library)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import MANIFEST, DataView, PredictionModel, refused
from .boosters import BOOSTERS, Booster
from .manifest import Manifest
from .options import FitOptions


def _known(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose label is known (the relative target's is not where the market's mean is not)."""
    known = np.isfinite(y)
    return (x, y) if known.all() else (x[known], y[known])


class BoostingModel(PredictionModel):
    family = "boosting"
    input_kind = "table"

    def __init__(self, model_id: str, *, library: str, **params):
        super().__init__(model_id, **params)
        if library not in BOOSTERS:
            raise ValueError(f"unknown boosting library {library!r}")
        self.library = library

    def get_params(self) -> dict:
        return {"library": self.library, **self.params}

    def _booster(self) -> Booster:
        return BOOSTERS[self.library]()

    def files(self) -> list[str]:
        """The weights file of each output: the library's name for the first (as single-horizon
        artifacts have it), ``h<j>-`` prefixed for the others."""
        name = BOOSTERS[self.library].file
        return [name if j == 0 else f"h{j}-{name}" for j in range(self.n_outputs_)]

    def fit(self, train: DataView, valid: DataView, **options) -> BoostingModel:
        """Train on a sample of ``train`` and stop early on ``valid`` (its log loss), one booster per horizon."""
        opts = FitOptions.of(options)
        rng = np.random.default_rng(opts.seed)
        rows = np.arange(len(train))
        if opts.max_rows and len(rows) > opts.max_rows:
            rows = np.sort(rng.choice(rows, opts.max_rows, replace=False))
        x, y = train.inputs("table", rows), train.targets[rows]
        x_valid, y_valid = valid.inputs("table"), valid.targets
        self.n_features_in_, self.n_outputs_ = x.shape[1], y.shape[1]
        self.boosters_ = [self._train(*_known(x, y[:, j]), opts.rounds, opts, _known(x_valid, y_valid[:, j]))
                          for j in range(self.n_outputs_)]
        self.history_ = [{"best_iteration": [r - 1 for r in self.rounds_used()]}]
        return self

    def refit(self, train: DataView, valid: DataView, **options) -> BoostingModel:
        """Train again, as many rounds as early stopping chose, on the validation rows plus a sample
        of the training rows, so the newest candles count too. Calibration and the validation
        metrics stay those of the early-stopped fit (validation rows are now in-sample). On three
        half-years (2023 H1, 2023 H2, 2024 H1, each after a 120-day validation) this lifted a
        LightGBM's AUC by 0.0016, 0.0018 and 0.0019. Takes the options of ``fit``."""
        opts = FitOptions.of(options)
        rounds = self.rounds_used()
        rng = np.random.default_rng(opts.seed)
        take = len(train) if not opts.max_rows else max(0, min(len(train), opts.max_rows - len(valid)))
        rows = np.sort(rng.choice(len(train), take, replace=False))
        x = np.concatenate([train.inputs("table", rows), valid.inputs("table")])
        y = np.concatenate([train.targets[rows], valid.targets])
        self.boosters_ = [self._train(*_known(x, y[:, j]), rounds[j], opts, None) for j in range(self.n_outputs_)]
        self.history_ = [*self.history_, {"refit_rows": int(len(y)), "refit_rounds": rounds}]
        return self

    def _train(self, x, y, rounds: int, opts: FitOptions, valid) -> Booster:
        params = dict(self.params)
        stop = params.pop("early_stopping", 40)
        booster = self._booster()
        booster.train(x, y, rounds=rounds, seed=opts.seed, threads=opts.threads, valid=valid, stop=stop,
                      params=params)
        return booster

    def rounds_used(self) -> list[int]:
        """Trees each horizon's booster predicts with."""
        return [b.rounds_used() for b in self.boosters_]

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        return np.column_stack([b.raw_scores(x) for b in self.boosters_]).reshape(len(x), self.n_outputs_)

    def state(self) -> dict:
        states = [b.state() for b in self.boosters_]
        return {**super().state(), **states[0], "boosters": states}

    def save_weights(self, directory: Path) -> list[str]:
        for booster, name in zip(self.boosters_, self.files()):
            booster.save(directory / name)
        return self.files()

    def load_weights(self, directory: Path, manifest: Manifest) -> None:
        states = manifest.state.get("boosters") or [manifest.state]
        if len(states) != self.n_outputs_:
            raise refused(directory / MANIFEST, f"{len(states)} boosters for {self.n_outputs_} outputs")
        boosters = []
        for name, state in zip(self.files(), states):
            booster, path = self._booster(), directory / name
            if not path.is_file():
                raise refused(path, "missing")
            try:
                n = booster.load(path, state)
            except Exception as exc:  # noqa: BLE001 - each library raises its own error types
                raise refused(path, f"cannot load {self.library} model", str(exc).splitlines()[0][:200]) from exc
            if n != self.n_features_in_:
                raise refused(path, f"model has {n} inputs, manifest says {self.n_features_in_}")
            boosters.append(booster)
        self.boosters_ = boosters
