"""The ``move`` part of an answer: how far the coin is expected to move over the horizon and the
quantiles of its return (``models.move``). The timeframe's move model predicts the log range once per
batch (one LightGBM call per horizon over every request that needs it); each answer then centres the
quantiles on its own ``probability_up``. Without a ready move model for the timeframe and horizon, or
when it fails on an input, the answer falls back to the 48-candle rule (``move.source: "rule"``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..data.candles import Candles
from ..features.datasets import input_rows
from ..features.market_context import MarketFrame
from ..models.move import QUANTILE_NAMES, MoveForecast, har_inputs, rule_forecast
from .features import FeatureCache, feature_rows
from .model_store import LoadedModel, ModelStore
from .requests import Plan, PredictRequest
from .scoring import model_inputs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MoveScale:
    """One request's predicted log range, and the model and horizon column it came from."""

    entry: LoadedModel
    column: int
    log_move: float


def move_inputs(entry: LoadedModel, candles: list[Candles], cache: FeatureCache,
                anchors: list[dict[str, Candles] | None],
                markets: list[MarketFrame | None] | None = None) -> np.ndarray:
    """The move model's input rows for each candle history (its last candle): table row + HAR terms."""
    need_rows = input_rows(entry.manifest.window)
    markets = markets or [None] * len(candles)
    block = np.stack([feature_rows(c, entry, need_rows, cache, a, m) for c, a, m in zip(candles, anchors, markets)])
    har = np.vstack([har_inputs(c.high, c.low, c.close, np.array([len(c) - 1])) for c in candles])
    return np.concatenate([model_inputs(entry, block), har], axis=1).astype(np.float32)


def move_scales(store: ModelStore, reqs: list[PredictRequest], plans: dict[int, Plan], candles: dict[int, Candles],
                cache: FeatureCache, anchors: dict[int, dict[str, Candles]],
                markets: dict[int, MarketFrame] | None = None) -> dict[int, MoveScale]:
    """Predicted log ranges by request index, for the requests whose timeframe has a ready move model
    at their horizon; a model that fails leaves its requests on the rule."""
    groups: dict[str, list[int]] = {}
    for i in plans:
        entry = store.moves.get(reqs[i].timeframe)
        if i in candles and entry is not None and entry.status == "ready" and plans[i].horizon in entry.horizons:
            groups.setdefault(reqs[i].timeframe, []).append(i)
    out: dict[int, MoveScale] = {}
    for tf, indices in groups.items():
        entry = store.moves[tf]
        try:
            x = move_inputs(entry, [candles[i] for i in indices], cache, [anchors.get(i) for i in indices],
                            [(markets or {}).get(i) for i in indices])
            columns = np.array([entry.horizons.index(plans[i].horizon) for i in indices])
            mu = np.empty(len(indices))
            with entry.lock:
                for column in np.unique(columns):
                    mu[columns == column] = entry.model.predict_log(x[columns == column], int(column))
            if not np.all(np.isfinite(mu)):
                raise ValueError("non-finite move forecast")
        except Exception:  # noqa: BLE001 - a failing move model leaves the answers on the rule
            log.exception("move model (%s) failed on a batch of %d", tf, len(indices))
            continue
        out.update({i: MoveScale(entry, int(c), float(m)) for i, c, m in zip(indices, columns, mu)})
    return out


def move_forecast(scale: MoveScale | None, p: float, rule_bps: float | None) -> tuple[MoveForecast, dict]:
    """The forecast (unrounded, for the signal) and the answer's ``move`` object: the model's when it
    served ``scale``, else the rule's from ``rule_bps`` (``serving.answers.SharedParts.move``)."""
    if scale is None:
        forecast, source, version = rule_forecast(np.array([rule_bps]), np.array([p])), "rule", None
    else:
        forecast = scale.entry.model.forecast(np.array([scale.log_move]), np.array([p]), scale.column)
        source, version = "model", scale.entry.version
    quantiles = {name: round(float(v), 2) for name, v in zip(QUANTILE_NAMES, forecast.quantiles_bps[0])}
    return forecast, {"source": source, "expected_bps": round(float(forecast.expected_bps[0]), 2),
                      "quantiles_bps": quantiles, "model_version": version}
