"""The move-size model: how far a coin will move over each horizon, not which way.

Target: the log of the realised high-low range of the ``h`` candles after t, ``log(ln(max high / min
low))`` (floored at 1 bp, so flat candles stay finite). The range, not ``|log return|``, chosen on
validation only (1h, h1, trained 2023-01 to 2024-08, the last 120 days of 2024 halved: the first half
early-stops and calibrates, the second scores): a model of the log range explains 0.710 of its target's
variance, one of ``log |return|`` 0.253 of its own; the return quantiles built on the range model lose
less at four levels and tie at the median (mean pinball 26.83 bps against 26.91) and cover 88.3% of
the 90% interval against 87.1%. The quantiles are calibrated on returns anyway (below), so the range
only has to rank and scale the candles well, and it is the less noisy measure of that scale
(docs/move.md).

One LightGBM regression per horizon on the timeframe's table rows (the zoo's scaled features plus
their lags) and five HAR-style inputs computed from the raw candles (``har_inputs``). Its mean is the
predicted log range mu; the scale of the return is ``exp(mu)``. The return quantiles are split-conformal:
the empirical quantiles of ``z = log return / exp(mu)`` on the validation rows (out of sample) give the
shape; a forecast is ``exp(mu) * (Q_z(a) + shift)``, where ``shift = -Q_z(1 - p)`` moves the distribution
so that P(return > 0) equals the direction model's ``probability_up`` p (the centre). The rule (48-candle
mean |return|, ``common.signals``) gets the same treatment with a normal shape, so both are comparable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np

from .base import refused
from .boosters import LightGBMBooster
from .manifest import Manifest

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
QUANTILE_NAMES = ("q05", "q25", "q50", "q75", "q95")
LEVELS = np.round(np.linspace(0.005, 0.995, 199), 6)  # the grid of z quantiles kept (holds every QUANTILES level)
FLOOR = 1e-4  # the smallest range (log units, 1 bp) the logs see: flat candles stay finite
HAR_WINDOWS = (1, 6, 24, 168)  # candles the mean one-candle log range is taken over
RULE_WINDOW = 48
HAR_COLUMNS = tuple(f"har_lr_{k}" for k in HAR_WINDOWS) + ("har_log_rule",)
NORMAL_Z = np.array([NormalDist().inv_cdf(float(a)) for a in LEVELS])
GAUSS_SCALE = float(np.sqrt(np.pi / 2))  # sd of a normal whose mean |r| is 1
DEFAULT_PARAMS = {"num_leaves": 31, "learning_rate": 0.05, "feature_fraction": 0.8, "bagging_fraction": 0.7,
                  "bagging_freq": 1, "min_data_in_leaf": 200, "lambda_l2": 10.0}


def log_range(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """``log(ln(high / low))`` per candle, floored (flat or broken candles give log(FLOOR))."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(np.asarray(high, np.float64) / np.asarray(low, np.float64))
    return np.log(np.maximum(np.nan_to_num(r, nan=FLOOR, posinf=1.0, neginf=FLOOR), FLOOR))


def _trailing_mean(values: np.ndarray, ends: np.ndarray, first: np.ndarray, k: int, chunk: int = 16_384) -> np.ndarray:
    """Mean of ``values[max(end - k + 1, first) .. end]`` per row. Each row is reduced on its own (one
    row of a gathered block), so one row at serving and millions in training give the very same numbers."""
    out = np.empty(len(ends))
    for lo in range(0, len(ends), chunk):
        e, f = ends[lo:lo + chunk], first[lo:lo + chunk]
        idx = e[:, None] - np.arange(k)
        ok = idx >= f[:, None]
        vals = np.where(ok, values[np.maximum(idx, 0)], 0.0)
        out[lo:lo + chunk] = vals.sum(axis=1) / np.maximum(ok.sum(axis=1), 1)
    return out


def har_inputs(high: np.ndarray, low: np.ndarray, close: np.ndarray, ends: np.ndarray,
               first: np.ndarray | None = None) -> np.ndarray:
    """(n, 5): the mean one-candle log range over the last 1, 6, 24 and 168 candles up to each row of
    ``ends`` (none before ``first``, the row's series start), and the log of the rule's 48-candle mean
    |return|. Read from candles up to t only; training (pooled) and serving (one coin) call this."""
    ends = np.atleast_1d(np.asarray(ends, dtype=np.int64))
    first = np.zeros_like(ends) if first is None else np.broadcast_to(np.asarray(first, np.int64), ends.shape)
    lr = log_range(high, low)
    cols = [_trailing_mean(lr, ends, first, k) for k in HAR_WINDOWS]
    with np.errstate(divide="ignore", invalid="ignore"):
        ret = np.abs(np.diff(np.log(np.asarray(close, np.float64)), prepend=np.nan))
    ret = np.nan_to_num(ret, nan=0.0, posinf=0.0, neginf=0.0)
    rule = _trailing_mean(ret, ends, np.minimum(first + 1, ends), RULE_WINDOW)  # a series' first row has no return
    cols.append(np.log(np.maximum(rule, FLOOR)))
    return np.column_stack(cols)


def future_targets(high: np.ndarray, low: np.ndarray, close: np.ndarray, t: np.ndarray, step_ms: int,
                   horizons: tuple[int, ...], symbol_index: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(log range, log return), each (n, H): over candles t+1..t+h of the same symbol, NaN unless the
    candle h steps ahead is exactly h candles later (no gap: the same rule as the direction labels)."""
    n = len(close)
    sym = np.zeros(n, np.int64) if symbol_index is None else np.asarray(symbol_index)
    logc = np.log(np.asarray(close, np.float64))
    high, low = np.asarray(high, np.float64), np.asarray(low, np.float64)
    rng_out = np.full((n, len(horizons)), np.nan)
    ret_out = np.full((n, len(horizons)), np.nan)
    for j, h in enumerate(horizons):
        if n <= h:
            continue
        exact = (t[h:] - t[:-h] == h * step_ms) & (sym[h:] == sym[:-h])
        hi, lo = high[1:n - h + 1].copy(), low[1:n - h + 1].copy()
        for k in range(2, h + 1):
            np.maximum(hi, high[k:n - h + k], out=hi)
            np.minimum(lo, low[k:n - h + k], out=lo)
        rng_out[:-h, j] = np.where(exact, log_range(hi, lo), np.nan)
        ret_out[:-h, j] = np.where(exact, logc[h:] - logc[:-h], np.nan)
    return rng_out, ret_out


@dataclass
class MoveForecast:
    """Per row: expected absolute move and the return quantiles (bps), and the predicted log range."""

    expected_bps: np.ndarray  # (n,)
    quantiles_bps: np.ndarray  # (n, len(QUANTILES))
    log_move: np.ndarray  # (n,)


def centred_quantiles(scale: np.ndarray, z_grid: np.ndarray, p: np.ndarray) -> np.ndarray:
    """(n, 5) quantiles of the return: ``scale * (Q_z(a) - Q_z(1 - p))``, so that P(return > 0) = p under
    the shape ``z_grid`` (z quantiles at ``LEVELS``). Monotone in a whenever ``z_grid`` is sorted."""
    p = np.clip(np.nan_to_num(np.asarray(p, np.float64), nan=0.5), LEVELS[0], LEVELS[-1])
    shift = -np.interp(1.0 - p, LEVELS, z_grid)
    qz = np.interp(QUANTILES, LEVELS, z_grid)
    return np.asarray(scale, np.float64)[:, None] * (qz[None, :] + shift[:, None])


def rule_forecast(rule_bps: np.ndarray, p: np.ndarray) -> MoveForecast:
    """The rule's move (48-candle mean |return| x sqrt(h)) and normal quantiles of the same mean |return|."""
    rule_bps = np.asarray(rule_bps, np.float64)
    q = centred_quantiles(rule_bps * GAUSS_SCALE, NORMAL_Z, p)
    return MoveForecast(rule_bps, q, np.log(np.maximum(rule_bps / 10_000, FLOOR)))


class MoveModel:
    """One LightGBM regression of the log range per horizon, and each horizon's conformal z quantiles."""

    model_id = "move"
    family = "move"
    input_kind = "table"

    def __init__(self, **params):
        self.params = {**DEFAULT_PARAMS, **params}

    def get_params(self) -> dict:
        return dict(self.params)

    def fit(self, x: np.ndarray, y: np.ndarray, x_valid: np.ndarray, y_valid: np.ndarray, r_valid: np.ndarray, *,
            rounds: int, seed: int = 0, threads: int = 2) -> MoveModel:
        """``y``: log range per horizon; ``r_valid``: validation log returns per horizon (the z quantiles)."""
        self.n_features_in_, self.n_outputs_ = x.shape[1], y.shape[1]
        params = {"objective": "regression", "metric": "l2", **self.params}
        self.boosters_ = []
        for j in range(self.n_outputs_):
            booster = LightGBMBooster()
            booster.train(x, y[:, j], rounds=rounds, seed=seed, threads=threads, valid=(x_valid, y_valid[:, j]),
                          stop=40, params=params)
            self.boosters_.append(booster)
        mu = self.predict_log(x_valid)
        z = r_valid / np.exp(mu)
        self.z_grid_ = [np.quantile(z[:, j], LEVELS).tolist() for j in range(self.n_outputs_)]
        self.mean_abs_z_ = [float(np.mean(np.abs(z[:, j]))) for j in range(self.n_outputs_)]
        self.log_sd_ = [float(np.std(y_valid[:, j] - mu[:, j])) for j in range(self.n_outputs_)]
        self.validation_mu_ = mu
        return self

    def predict_log(self, x: np.ndarray, column: int | None = None) -> np.ndarray:
        """Predicted log range: (n, H), or (n,) for one ``column``."""
        x = np.asarray(x, dtype=np.float32)
        if column is not None:
            return np.asarray(self.boosters_[column].raw_scores(x), np.float64)
        return np.column_stack([b.raw_scores(x) for b in self.boosters_]).astype(np.float64)

    def forecast(self, mu: np.ndarray, p: np.ndarray, column: int) -> MoveForecast:
        """Expected |return| and the return quantiles (bps) for predicted log ranges ``mu`` at ``column``."""
        scale = np.exp(np.asarray(mu, np.float64)) * 10_000
        q = centred_quantiles(scale, np.asarray(self.z_grid_[column]), p)
        return MoveForecast(scale * self.mean_abs_z_[column], q, np.asarray(mu, np.float64))

    def importance(self, x: np.ndarray, names: list[str], horizons: tuple[int, ...], *, limit: int = 20,
                   max_rows: int = 1024, seed: int = 0) -> dict:
        """Global importance as the direction boosters keep it (``models.explain.importance``): mean
        |TreeSHAP contribution| to the predicted log range over (a sample of) validation rows ``x``."""
        if len(x) > max_rows:
            x = x[np.sort(np.random.default_rng(seed).choice(len(x), max_rows, replace=False))]
        by_horizon = {}
        for column, horizon in enumerate(horizons):
            mean = np.abs(self.boosters_[column].contributions(np.asarray(x, np.float32))[:, :-1]).mean(axis=0)
            order = np.argsort(-mean, kind="stable")[:limit]
            by_horizon[str(horizon)] = [{"name": names[j], "mean_abs_contribution": round(float(mean[j]), 6)}
                                        for j in order]
        return {"method": "tree_shap", "rows": int(len(x)), "by_horizon": by_horizon}

    def files(self) -> list[str]:
        return [f"move-h{j}.txt" for j in range(self.n_outputs_)]

    def state(self) -> dict:
        return {"n_features_in": int(self.n_features_in_), "n_outputs": int(self.n_outputs_),
                "levels": LEVELS.tolist(), "z_grid": self.z_grid_, "mean_abs_z": self.mean_abs_z_,
                "log_sd": self.log_sd_, "rounds": [b.rounds_used() for b in self.boosters_]}

    def restore_state(self, state: dict) -> None:
        self.n_features_in_, self.n_outputs_ = int(state["n_features_in"]), int(state["n_outputs"])
        if not np.allclose(state["levels"], LEVELS):
            raise ValueError("z quantiles kept at other levels")
        self.z_grid_ = [list(map(float, g)) for g in state["z_grid"]]
        self.mean_abs_z_ = [float(v) for v in state["mean_abs_z"]]
        self.log_sd_ = [float(v) for v in state["log_sd"]]
        if not (len(self.z_grid_) == len(self.mean_abs_z_) == self.n_outputs_):
            raise ValueError(f"{len(self.z_grid_)} quantile grids for {self.n_outputs_} outputs")
        if any(np.any(np.diff(g) < 0) or not np.all(np.isfinite(g)) for g in self.z_grid_):
            raise ValueError("z quantiles not sorted or not finite")

    def save_weights(self, directory: Path) -> list[str]:
        for booster, name in zip(self.boosters_, self.files()):
            booster.save(directory / name)
        return self.files()

    def load_weights(self, directory: Path) -> None:
        boosters = []
        for name in self.files():
            path, booster = directory / name, LightGBMBooster()
            if not path.is_file():
                raise refused(path, "missing")
            try:
                n = booster.load(path, {})
            except Exception as exc:  # noqa: BLE001 - lightgbm raises its own error types
                raise refused(path, "cannot load lightgbm model", str(exc).splitlines()[0][:200]) from exc
            if n != self.n_features_in_:
                raise refused(path, f"model has {n} inputs, manifest says {self.n_features_in_}")
            boosters.append(booster)
        self.boosters_ = boosters


def pooled_inputs(data, ends: np.ndarray, table: np.ndarray | None = None) -> np.ndarray:
    """The move model's inputs at rows ``ends`` of scaled pooled data: table rows (``table`` when they
    were scaled otherwise) plus ``har_inputs``, which read raw candles only."""
    ends = np.asarray(ends, dtype=np.int64)
    first = np.searchsorted(data.symbol_index, data.symbol_index[ends])  # each row's series start
    har = har_inputs(data.high, data.low, data.close, ends, first)
    return np.concatenate([data.tables(ends) if table is None else table, har], axis=1).astype(np.float32)


def load_move_at(directory: Path, manifest: Manifest) -> MoveModel:
    """The move model of a version folder whose manifest (checksums verified) is ``manifest``."""
    model = MoveModel(**(manifest.params or {}))
    try:
        if manifest.state is None:
            raise KeyError("state")
        model.restore_state(manifest.state)
    except (KeyError, TypeError, ValueError) as exc:
        raise refused(directory / "manifest.json", "incomplete state", str(exc)) from exc
    model.load_weights(directory)
    return model
