"""Pooled datasets: every symbol's feature rows in one float32 array; windows and tables are
gathered from it by index, so nothing is copied once per window.

Labels: one column per horizon h, 1 when the close h candles ahead is above the close at t (ties are
not up); the future candle must sit exactly h steps later, so gaps never produce a label. The relative
target (``outperform``): 1 when the coin's log return over those h candles is above the market's mean
over the same candles (``market_context.forward_means``); unknown where the market's mean is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data.candles import Candles
from ..data.timeframes import TIMEFRAME_MS
from .market_context import MarketFrame
from .pipeline import FeatureSet, warmup_rows

TABLE_LAGS = (1, 2, 3, 4, 5, 6, 12, 24)
CLIP = 5.0
WARMUP_ROWS = 200  # >= the longest feature lookback (pos_168 + return lag); checked in tests


def direction_labels(candles: Candles, horizons: tuple[int, ...]) -> np.ndarray:
    """(n, H) float32 labels (1 up, 0 not up), NaN where the candle h steps ahead is missing."""
    n = len(candles)
    y = np.full((n, len(horizons)), np.nan, dtype=np.float32)
    step = TIMEFRAME_MS[candles.timeframe]
    for j, h in enumerate(horizons):
        if n > h:
            exact = candles.t[h:] - candles.t[:-h] == h * step
            up = (candles.close[h:] > candles.close[:-h]).astype(np.float32)
            y[:-h, j] = np.where(exact, up, np.nan)
    return y


def outperform_labels(candles: Candles, horizons: tuple[int, ...],
                      forward: dict[int, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """(n, H) float32: 1 when the coin's log return over the h candles after t beats the market's mean
    log return over them (``forward[h]``: open times, means), 0 when not, NaN where either is unknown."""
    n = len(candles)
    y = np.full((n, len(horizons)), np.nan, dtype=np.float32)
    step = TIMEFRAME_MS[candles.timeframe]
    for j, h in enumerate(horizons):
        if n <= h or h not in forward:
            continue
        t, mean = forward[h]
        pos = np.clip(np.searchsorted(t, candles.t[:-h]), 0, max(len(t) - 1, 0))
        market = np.where(t[pos] == candles.t[:-h], mean[pos], np.nan) if len(t) else np.full(n - h, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            own = np.log(candles.close[h:] / candles.close[:-h])
        known = (candles.t[h:] - candles.t[:-h] == h * step) & np.isfinite(own) & np.isfinite(market)
        y[:-h, j] = np.where(known, (own > market).astype(np.float32), np.nan)
    return y


@dataclass
class Scaler:
    """Per-feature standardisation fitted on training rows only; outliers clipped at +-5 sd."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, rows: np.ndarray) -> Scaler:
        mean = np.nanmean(rows, axis=0)
        std = np.nanstd(rows, axis=0)
        return cls(np.nan_to_num(mean).astype(np.float32), np.where(std > 1e-12, std, 1.0).astype(np.float32))

    def apply(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean) / self.std
        np.clip(z, -CLIP, CLIP, out=z)
        return np.nan_to_num(z, nan=0.0).astype(np.float32, copy=False)

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> Scaler:
        return cls(np.asarray(d["mean"], dtype=np.float32), np.asarray(d["std"], dtype=np.float32))


@dataclass
class PooledData:
    """Feature rows of many symbols end to end; ``ends`` index rows that can close a window."""

    feature_set: FeatureSet
    window: int
    features: np.ndarray  # (N, F) float32, raw until ``scale`` is called
    t: np.ndarray  # (N,) open times, ms
    close: np.ndarray
    labels: np.ndarray  # (N, H) float32, one column per horizon, NaN where unknown
    symbol_index: np.ndarray  # (N,) int32
    symbols: list[str]
    can_end: np.ndarray  # (N,) bool: a full window of warmed-up rows of one symbol ends here
    horizons: tuple[int, ...] = (1,)
    scaler: Scaler | None = None
    meta: dict = field(default_factory=dict)
    high: np.ndarray | None = None  # raw highs and lows (the move model's targets and inputs)
    low: np.ndarray | None = None
    outperform: np.ndarray | None = None  # (N, H) the relative target's labels, NaN where unknown

    @property
    def targets(self) -> tuple[str, ...]:
        """What a model trained on this data predicts: direction, and the relative target when labelled."""
        return ("direction",) if self.outperform is None else ("direction", "outperform")

    def target_labels(self, ends: np.ndarray) -> np.ndarray:
        """(n, T*H) labels of every target, direction's horizons first: a model's output columns."""
        if self.outperform is None:
            return self.labels[ends]
        return np.concatenate([self.labels[ends], self.outperform[ends]], axis=1)

    def select(self, start_ms: int | None = None, end_ms: int | None = None, *, labelled: bool = True,
               label_before_ms: int | None = None, horizon_ms: int = 0, column: int | None = None) -> np.ndarray:
        """Window ends with open time in [start_ms, end_ms), labelled for every horizon (or for
        ``column`` alone); with ``label_before_ms`` the labelling candle ``horizon_ms`` later must also
        open before it (so nothing at or after ``--end`` is ever used)."""
        mask = self.can_end.copy()
        if start_ms is not None:
            mask &= self.t >= start_ms
        if end_ms is not None:
            mask &= self.t < end_ms
        if labelled:
            known = np.isfinite(self.labels)
            mask &= known.all(axis=1) if column is None else known[:, column]
        if label_before_ms is not None:
            mask &= self.t + horizon_ms < label_before_ms
        return np.flatnonzero(mask)

    def fit_scaler(self, ends: np.ndarray) -> Scaler:
        self.scaler = Scaler.fit(self.features[ends])
        return self.scaler

    def scale(self, scaler: Scaler) -> None:
        """Standardise in place (chunked, to keep peak memory near one copy)."""
        for lo in range(0, len(self.features), 200_000):
            self.features[lo:lo + 200_000] = scaler.apply(self.features[lo:lo + 200_000])
        self.scaler = scaler

    def windows(self, ends: np.ndarray) -> np.ndarray:
        """(B, T, F) windows ending at ``ends`` (inclusive), gathered on demand."""
        offsets = np.arange(-self.window + 1, 1)
        return self.features[ends[:, None] + offsets]

    def tables(self, ends: np.ndarray) -> np.ndarray:
        return table_rows(self.features, ends, self.feature_set)


def table_rows(features: np.ndarray, ends: np.ndarray, feature_set: FeatureSet) -> np.ndarray:
    """Flat rows for boosting: all features at t plus lagged normalised returns and volume."""
    ret_col = feature_set.names.index("ret_z")
    vol_col = feature_set.names.index("vol_z")
    lags = [features[ends - k][:, [ret_col, vol_col]] for k in TABLE_LAGS]
    return np.concatenate([features[ends]] + lags, axis=1)


def table_columns(feature_set: FeatureSet) -> list[str]:
    return list(feature_set.names) + [f"{c}_lag{k}" for k in TABLE_LAGS for c in ("ret_z", "vol_z")]


def input_rows(window: int) -> int:
    """Feature rows one prediction reads: the window, or the deepest table lag, whichever is longer."""
    return max(window, max(TABLE_LAGS) + 1)


def min_history(window: int) -> int:
    """Candles one prediction needs: the features' warm-up plus its input rows."""
    return WARMUP_ROWS + input_rows(window)


def build_pooled(series: list[Candles], feature_set: FeatureSet, *, window: int,
                 horizons: tuple[int, ...] = (1,), anchors: dict[str, Candles] | None = None,
                 market: MarketFrame | None = None,
                 forward: dict[int, tuple[np.ndarray, np.ndarray]] | None = None) -> PooledData:
    """``anchors``: the anchor candles (by symbol) the feature set's market context reads; ``market``:
    the cross-sectional market (``features.market_context``) its ``mkt_*`` features read; ``forward``:
    the market's forward means (``market_context.forward_means``), which label the relative target."""
    blocks, ts, closes, labels, sym, can_end, highs, lows, rel = [], [], [], [], [], [], [], [], []
    for i, candles in enumerate(series):
        x = feature_set.compute(candles, anchors, market)
        n = len(x)
        ok = np.zeros(n, dtype=bool)
        first = max(warmup_rows(x, feature_set.optional), WARMUP_ROWS) + input_rows(window) - 1
        ok[first:] = True
        blocks.append(x)
        ts.append(candles.t)
        closes.append(candles.close)
        highs.append(candles.high)
        lows.append(candles.low)
        labels.append(direction_labels(candles, horizons))
        if forward is not None:
            rel.append(outperform_labels(candles, horizons, forward))
        sym.append(np.full(n, i, dtype=np.int32))
        can_end.append(ok)

    def cat(parts, dt):
        return np.concatenate(parts).astype(dt, copy=False) if parts else np.zeros(0, dt)

    features = np.concatenate(blocks) if blocks else np.zeros((0, len(feature_set)), np.float32)
    y = np.concatenate(labels) if labels else np.zeros((0, len(horizons)), np.float32)
    outperform = None if forward is None else (np.concatenate(rel) if rel else np.zeros_like(y))
    return PooledData(feature_set, window, features, cat(ts, np.int64), cat(closes, np.float64), y,
                      cat(sym, np.int32), [c.symbol for c in series], cat(can_end, bool), tuple(horizons),
                      high=cat(highs, np.float64), low=cat(lows, np.float64), outperform=outperform)
