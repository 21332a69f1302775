"""Scoring a batch: every ready model a set of requests needs runs one forward pass over all the rows
that need it (one per distinct input: requests for the same candles share a row), whatever the number
of symbols. A model that fails degrades the
answers that needed it only."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from ..data.candles import Candles
from ..features.datasets import input_rows, table_rows
from ..features.market_context import MarketFrame
from .features import FeatureCache, feature_rows
from .model_store import LoadedModel
from .requests import Plan

log = logging.getLogger(__name__)
MODEL_FAILED = "model failed on this input"  # what clients see; the log has the exception


@dataclass
class Scores:
    """Probabilities and failures by (request index, model id); ``outperform``: the relative target's
    probability, for the models that predict it."""

    probs: dict[tuple[int, str], float] = field(default_factory=dict)
    failures: dict[tuple[int, str], str] = field(default_factory=dict)
    outperform: dict[tuple[int, str], float] = field(default_factory=dict)


def model_inputs(entry: LoadedModel, block: np.ndarray) -> np.ndarray:
    """Stacked feature rows (requests x rows x features) -> the model's input batch: the last
    ``window`` rows for sequence models, the last row plus lags for tables."""
    window = entry.manifest.window
    if entry.model.input_kind == "sequence":
        return block[:, -window:, :]
    need_rows = block.shape[1]
    flat = block.reshape(-1, block.shape[-1])
    ends = np.arange(len(block)) * need_rows + need_rows - 1
    return table_rows(flat, ends, entry.feature_set)


def jobs(plans: dict[int, Plan]) -> dict[tuple[str, str], tuple[LoadedModel, list[int]]]:
    """Which requests each ready model must score: (timeframe, id) -> (entry, request indices)."""
    out: dict[tuple[str, str], tuple[LoadedModel, list[int]]] = {}
    rows: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, plan in plans.items():
        for m in plan.ready:
            key = (m.timeframe, m.model_id)
            rows[key].append(i)
            out.setdefault(key, (m, rows[key]))
    return out


def input_keys(plans: dict[int, Plan], candles: dict[int, Candles], anchors: dict[int, dict[str, Candles]],
               markets: dict[int, MarketFrame] | None = None) -> dict[int, tuple]:
    """Which requests read the same input, by request index: the same candles and anchor candles (the same
    objects: gather fetches each (symbol, timeframe, as_of) once per call, and anchors once per end). A
    client's own candles are parsed per request, so they never share."""
    out = {}
    for i, c in candles.items():
        if i in plans:
            own = anchors.get(i) or {}
            market = (markets or {}).get(i)
            out[i] = (id(c), *(id(own.get(a)) for a in plans[i].anchors), market.key if market is not None else None)
    return out


def distinct_rows(indices: list[int], keys: dict[int, tuple]) -> tuple[list[int], list[int]]:
    """(one request index per distinct input key, each request's position among them): requests with the
    same key share one feature row and one row of the model's input."""
    first: dict[tuple, int] = {}
    unique: list[int] = []
    where: list[int] = []
    for i in indices:
        key = keys[i]
        if key not in first:
            first[key] = len(unique)
            unique.append(i)
        where.append(first[key])
    return unique, where


def score(plans: dict[int, Plan], candles: dict[int, Candles], cache: FeatureCache,
          anchors: dict[int, dict[str, Candles]] | None = None,
          markets: dict[int, MarketFrame] | None = None) -> Scores:
    """One forward pass per model over the distinct inputs of every request (with candles) that needs
    it; ``anchors``: the anchor candles by request index (``CandleGatherer.anchors``); ``markets``: the
    cross-sectional market by request index (``CandleGatherer.markets``)."""
    anchors, markets = anchors or {}, markets or {}
    scores = Scores()
    keys = input_keys(plans, candles, anchors, markets)
    for (_, model_id), (entry, indices) in jobs({i: p for i, p in plans.items() if i in candles}).items():
        need_rows = input_rows(entry.manifest.window)
        try:  # resolve plans a model only at a horizon it predicts; were it not so, this fails the model only
            horizons = entry.horizons
            columns = [horizons.index(plans[i].horizon) for i in indices]
            unique, where = distinct_rows(indices, keys)
            block = np.stack([feature_rows(candles[i], entry, need_rows, cache, anchors.get(i), markets.get(i))
                              for i in unique])
            x = model_inputs(entry, block)
            with entry.lock:
                out = entry.model.predict_proba(x)
            p = out[where, columns]  # each request's row and horizon
            relative = outperform_columns(entry, [plans[i].horizon for i in indices])
            rel = out[where, relative] if relative is not None else None
            if not np.all(np.isfinite(p)) or (rel is not None and not np.all(np.isfinite(rel))):
                raise ValueError("non-finite probability")
        except Exception:  # noqa: BLE001 - one failing model degrades its answers only
            log.exception("model %s failed on a batch of %d", model_id, len(indices))
            scores.failures.update({(i, model_id): MODEL_FAILED for i in indices})
            continue
        scores.probs.update(zip(((i, model_id) for i in indices), p.tolist()))
        if rel is not None:
            scores.outperform.update(zip(((i, model_id) for i in indices), rel.tolist()))
    return scores


def outperform_columns(entry: LoadedModel, horizons: list[int]) -> list[int] | None:
    """The model's output column of the relative target at each horizon; None for a model trained
    without it (its answers then say ``probability_outperform: null``)."""
    manifest = entry.manifest
    columns = [manifest.output_column("outperform", h) for h in horizons] if manifest is not None else [None]
    return None if any(c is None for c in columns) else columns
