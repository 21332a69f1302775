"""Feature rows for serving: scaled, computed once per (symbol, timeframe, feature set, last candle,
each anchor's last candle and the market's build) and kept in a small LRU, so repeated requests for
the same market candle skip the feature code, and a row is never served after its anchor (or the
market it read) has moved on."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from ..data.candles import Candles
from ..features.market_context import MarketFrame
from .model_store import LoadedModel


class FeatureCache:
    """LRU of the last feature rows per (symbol, timeframe, feature set, last candle)."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def feature_rows(candles: Candles, entry: LoadedModel, need_rows: int, cache: FeatureCache,
                 anchors: dict[str, Candles] | None = None, market: MarketFrame | None = None) -> np.ndarray:
    """Scaled last ``need_rows`` feature rows of ``candles`` for one model's feature set and scaler;
    ``anchors``: the anchor candles its market context reads (absent ones leave it missing); ``market``:
    the cross-sectional market (``serving.market``), keyed by its build.
    Client candles are never cached (their key would not identify their content)."""
    fs = entry.feature_set
    anchors = anchors or {}
    key = None
    if candles.source != "request":
        anchored = tuple((a, int(anchors[a].t[-1]) if a in anchors else None) for a in fs.anchors)
        built = (market.key if market is not None else None) if fs.reads_market else None
        key = (candles.symbol, candles.timeframe, fs.hash, int(candles.t[-1]), len(candles), id(entry.scaler),
               anchored, built)
        hit = cache.get(key)
        if hit is not None and len(hit) >= need_rows:
            return hit[-need_rows:]
    raw = fs.compute(candles, anchors, market if fs.reads_market else None)[-need_rows:]
    rows = entry.scaler.apply(raw)  # apply returns a new array; the computed matrix is not reused
    if key is not None:
        cache.put(key, rows)
    return rows


def _has(candles: Candles, t: int) -> bool:
    i = int(np.searchsorted(candles.t, t))
    return i < len(candles) and int(candles.t[i]) == t


def context_part(candles: Candles, anchors: dict[str, Candles], wanted: tuple[str, ...]) -> dict:
    """What an answer says about its market context: whether each anchor the models read had a candle
    at the prediction's candle, and whether the coin's own candle carried order flow (taker buys)."""
    t = int(candles.t[-1])
    tbv = candles.extra.get("taker_buy_volume")
    return {"anchors": {a: a in anchors and _has(anchors[a], t) for a in wanted},
            "order_flow": bool(tbv is not None and np.isfinite(tbv[-1]))}
