"""Feature rows for serving: scaled, computed once per (symbol, timeframe, feature set, last candle)
and kept in a small LRU, so repeated requests for the same market candle skip the feature code."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from ..data.candles import Candles
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


def feature_rows(candles: Candles, entry: LoadedModel, need_rows: int, cache: FeatureCache) -> np.ndarray:
    """Scaled last ``need_rows`` feature rows of ``candles`` for one model's feature set and scaler.
    Client candles are never cached (their key would not identify their content)."""
    fs = entry.feature_set
    key = None
    if candles.source != "request":
        key = (candles.symbol, candles.timeframe, fs.hash, int(candles.t[-1]), len(candles), id(entry.scaler))
        hit = cache.get(key)
        if hit is not None and len(hit) >= need_rows:
            return hit[-need_rows:]
    raw = fs.compute(candles)[-need_rows:]
    rows = entry.scaler.apply(raw)  # apply returns a new array; the computed matrix is not reused
    if key is not None:
        cache.put(key, rows)
    return rows
