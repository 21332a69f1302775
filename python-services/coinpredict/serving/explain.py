"""Explaining one answer (``"explain": true``): run after the prediction, for that request only, so
the normal path does no work for it. The candles are gathered again through the same gatherer and cut at
the answer's ``as_of`` (a candle that closed in between is not explained); the feature rows come from
the serving's cache (the prediction just computed them), and each model is explained through
``models.explain``. A value shown is the feature as the model read it, unscaled: clipped at 5 standard
deviations like every input, and a missing value reads as the training mean.

The ensemble's explanation is the weighted mean of its answering members' contributions, each in its
own calibrated log-odds, with the weights the answer used (equal for ``median``, the best member's for
``best``); features of the same name add up across members. Its ``logit`` is the same weighted mean of
the members' log-odds; ``probability_up`` is the weighted mean of their probabilities, so
sigmoid(logit) is close to it, not equal."""

from __future__ import annotations

import logging

import numpy as np

from ..common.times import iso, to_ms
from ..data.candles import Candles
from ..data.timeframes import TIMEFRAME_MS
from ..errors import ServiceError, Unavailable
from ..features.datasets import TABLE_LAGS, input_rows
from ..features.market_context import MarketFrame
from ..models.artifacts import model_root, read_importance
from ..models.explain import Contributions, contributions, top_features
from ..models.registry import ENSEMBLE_ID
from .features import FeatureCache, feature_rows
from .model_store import LoadedModel, ModelStore
from .requests import PredictRequest
from .resolve import plan_for
from .scoring import model_inputs

log = logging.getLogger(__name__)
ENSEMBLE_METHOD = "weighted_members"


class Explained:
    """One model's contributions for one request, the values its inputs had, and its attention."""

    def __init__(self, entry: LoadedModel, got: Contributions, shown: np.ndarray, attention: np.ndarray | None):
        self.entry, self.got, self.shown, self.attention = entry, got, shown, attention


def _inputs(entry: LoadedModel, candles: Candles, anchors: dict[str, Candles], cache: FeatureCache,
            market: MarketFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The model's input batch of one row and the value of each input column as the model read it,
    unscaled. The rows come from the serving's feature cache (the prediction just computed them)."""
    rows = feature_rows(candles, entry, input_rows(entry.manifest.window), cache, anchors, market)
    x = model_inputs(entry, rows[None])
    if entry.model.input_kind == "table":
        ret, vol = (entry.feature_set.names.index(c) for c in ("ret_z", "vol_z"))
        scale = np.concatenate([entry.scaler.std, np.tile(entry.scaler.std[[ret, vol]], len(TABLE_LAGS))])
        shift = np.concatenate([entry.scaler.mean, np.tile(entry.scaler.mean[[ret, vol]], len(TABLE_LAGS))])
        return x, x[0] * scale + shift
    return x, x[0, -1] * entry.scaler.std + entry.scaler.mean  # a network's feature: its value at as_of


def explain_model(entry: LoadedModel, horizon: int, candles: Candles, anchors: dict[str, Candles],
                  cache: FeatureCache, market: MarketFrame | None = None) -> Explained:
    x, shown = _inputs(entry, candles, anchors, cache, market)
    column = entry.horizons.index(horizon)
    with entry.lock:
        got = contributions(entry.model, x, column, entry.feature_set)
        attention = entry.model.attention(x) if entry.model.input_kind == "sequence" else None
    if not (np.all(np.isfinite(got.values)) and np.all(np.isfinite(got.logit))):
        raise ValueError(f"{entry.model_id}: non-finite contribution")
    return Explained(entry, got, shown, None if attention is None else attention[0])


def _attention_part(attention: np.ndarray | None, candles: Candles) -> dict | None:
    if attention is None:
        return None
    t = candles.t[-len(attention):]
    return {"candles": [{"t": iso(int(ti)), "weight": round(float(w), 6)} for ti, w in zip(t, attention)]}


def _single(one: Explained, candles: Candles) -> dict:
    got = one.got
    values = got.values[0]
    features = top_features(got.names, values, one.shown)
    shown = sum(f["contribution"] for f in features)
    return {"method": got.method, "logit": float(got.logit[0]),
            "base": None if got.base is None else float(got.base[0]), "rest": float(values.sum() - shown),
            "features": features, "attention": _attention_part(one.attention, candles)}


def _combined(parts: list[tuple[Explained, float]]) -> dict:
    total = sum(w for _, w in parts)
    sums: dict[str, float] = {}
    values: dict[str, float] = {}
    for one, w in parts:
        for name, c, v in zip(one.got.names, one.got.values[0], one.shown):
            sums[name] = sums.get(name, 0.0) + w / total * float(c)
            values.setdefault(name, v)
    names = list(sums)
    contrib = np.array([sums[n] for n in names])
    features = top_features(names, contrib, np.array([values[n] for n in names], dtype=np.float64))
    logit = sum(w / total * float(one.got.logit[0]) for one, w in parts)
    return {"method": ENSEMBLE_METHOD, "logit": logit, "base": None,
            "rest": float(contrib.sum() - sum(f["contribution"] for f in features)), "features": features,
            "attention": None,
            "members": {one.entry.model_id: {"weight": round(w / total, 6), "method": one.got.method,
                                             "logit": float(one.got.logit[0])} for one, w in parts}}


def _candles_of(predictor, req: PredictRequest, answer: dict):
    store = predictor.store
    plan = plan_for(store, req)
    call = predictor.candles.start_call()
    got = predictor.candles.gather([req], {0: plan}, call)[0]
    if isinstance(got, ServiceError):
        raise got
    candles = got.until(to_ms(answer["as_of"]) + TIMEFRAME_MS[req.timeframe])
    anchors = predictor.candles.anchors([req], {0: plan}, {0: candles}, call).get(0, {})
    market = predictor.candles.markets([req], {0: candles}, {0} if plan.reads_market else set(), call).get(0)
    return plan, candles, anchors, market


def explain(predictor, req: PredictRequest, answer: dict) -> dict:
    """The ``explanation`` of ``answer`` (what ``predictor`` answered for ``req``); 503
    ``explanation_failed`` when a model cannot be explained (the log has why)."""
    plan, candles, anchors, market = _candles_of(predictor, req, answer)
    cache = predictor.features
    try:
        if req.model != ENSEMBLE_ID:
            return _single(explain_model(plan.ready[0], plan.horizon, candles, anchors, cache, market), candles)
        by_id = {m.model_id: m for m in plan.ready}
        used = [(by_id[i], w) for i, w in answer["weights"].items() if w > 0 and i in by_id]
        return _combined([(explain_model(m, plan.horizon, candles, anchors, cache, market), w) for m, w in used])
    except Exception as exc:  # noqa: BLE001 - an explanation failing must never fail as a 500
        log.exception("explaining %s %s failed", req.model, req.symbol)
        raise Unavailable("this answer could not be explained (the prediction itself is fine: ask without "
                          "explain)", code="explanation_failed", retry_after=30, field="explain") from exc


def importance_part(store: ModelStore, entry: LoadedModel | None) -> dict:
    """``{"importance": ...}``: the served version's global importance (kept beside it at training);
    empty for a version saved without one, so its status has no such field."""
    if entry is None or entry.status != "ready" or not entry.folder:
        return {}
    found = read_importance(model_root(store.models_dir, entry.timeframe, entry.model_id) / entry.folder,
                            entry.manifest)
    return {} if found is None else {"importance": found}
