"""The time split: candles loaded from a folder, pooled features, train and validation by time with an
embargo between them, and the scaler fitted on training rows only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common.times import iso, to_ms
from ..data.candles import Candles
from ..data.sources.csvdir import load_folder
from ..data.timeframes import TIMEFRAME_MS
from ..features.context import load_anchors
from ..features.datasets import PooledData, build_pooled
from ..features.default import default_feature_set
from ..features.market_context import MarketFrame, build_market, folder_series, forward_means
from ..models.base import DataView
from .gate import RawRecent
from .profiles import Profile


@dataclass
class Split:
    data: PooledData
    train: DataView
    valid: DataView
    ranges: dict
    raw: RawRecent | None = None  # unscaled recent rows, for the promotion gate
    step_ms: int = TIMEFRAME_MS["1h"]  # one candle of the timeframe

    def valid_clusters(self, horizon: int) -> np.ndarray:
        """Validation rows whose labels move together: every coin's candle of one period, and the
        ``horizon`` consecutive candles an overlapping label spans."""
        return self.data.t[self.valid.ends] // (horizon * self.step_ms)


def make_split(series: list[Candles], timeframe: str, profile: Profile, horizons: tuple[int, ...],
               end_ms: int, anchors: dict[str, Candles] | None = None, *, keep_raw: bool = False,
               market: MarketFrame | None = None,
               forward: dict[int, tuple[np.ndarray, np.ndarray]] | None = None) -> Split:
    """Train and validation by time. Both need every horizon's direction label (the relative target's,
    ``forward``, may be unknown on a row: masked per column); the embargo between them is a window plus
    the longest horizon, so no training label reaches a validation candle. ``market``: the
    cross-sectional market the set's ``mkt_*`` features read."""
    fs = default_feature_set(timeframe)
    data = build_pooled(series, fs, window=profile.window, horizons=horizons, anchors=anchors, market=market,
                        forward=forward)
    step = TIMEFRAME_MS[timeframe]
    horizon = max(horizons)
    horizon_ms = horizon * step
    valid_start = end_ms - validation_length(data, profile, step, end_ms)
    embargo = (profile.window + horizon) * step
    train_start = to_ms(profile.train_start)
    train_ends = data.select(train_start, valid_start - embargo, label_before_ms=valid_start - embargo + step,
                             horizon_ms=horizon_ms)
    valid_ends = data.select(valid_start, end_ms, label_before_ms=end_ms, horizon_ms=horizon_ms)
    if len(train_ends) < 100 or len(valid_ends) < 50:
        raise ValueError(f"not enough labelled candles to train ({len(train_ends)} train, {len(valid_ends)} valid)")
    raw = RawRecent.keep(data, valid_start) if keep_raw else None
    data.scale(data.fit_scaler(train_ends))
    ranges = {"train": [iso(int(data.t[train_ends].min())), iso(int(data.t[train_ends].max()))],
              "valid": [iso(int(data.t[valid_ends].min())), iso(int(data.t[valid_ends].max()))],
              "embargo_candles": profile.window + horizon, "end_exclusive": iso(end_ms),
              "n_train": int(len(train_ends)), "n_valid": int(len(valid_ends))}
    return Split(data, DataView(data, train_ends), DataView(data, valid_ends), ranges, raw, step)


def validation_length(data: PooledData, profile: Profile, step: int, end_ms: int) -> int:
    """The profile's validation days, at least 400 candles, but at most a third of the time that has usable
    rows before ``end_ms`` (1w has a few hundred weeks in all: 400 of them would leave nothing to train on)."""
    wanted = max(int(profile.valid_days * 86_400_000), 400 * step)
    usable = data.t[data.can_end & (data.t < end_ms)]
    if not len(usable):
        return wanted
    return min(wanted, max(step, (end_ms - int(usable.min())) // 3 // step * step))


def load_split(data_dir: Path, timeframe: str, prof: Profile, horizons: tuple[int, ...], start: str | None,
               end: str, symbols: list[str] | None, *, keep_raw: bool,
               report: Callable[[float, str], None]) -> Split:
    """The folder's candles (and the market context's anchors and whole market, read even when
    ``symbols`` leave them out: a subset run sees the same market) between ``start`` and ``end``, split."""
    end_ms = to_ms(end)
    series = load_folder(Path(data_dir), timeframe, symbols, to_ms(start), end_ms)
    fs = default_feature_set(timeframe)
    anchors = load_anchors(Path(data_dir), timeframe, fs.anchors, series, to_ms(start), end_ms)
    every = folder_series(Path(data_dir), timeframe, series, to_ms(start), end_ms)
    market = build_market(every, timeframe, key=("folder", timeframe)) if fs.reads_market else None
    # The relative target's market: the folder's coins, whatever ``symbols`` selects; its labels stop at
    # ``end`` like direction's (``select``'s label_before_ms keeps every labelling candle before it).
    forward = forward_means(every, timeframe, horizons)
    if prof.max_symbols:
        series = series[: prof.max_symbols]
    if not series:
        raise ValueError(f"no candles for {timeframe} in {data_dir}")
    report(0.03, f"computing features for {len(series)} symbols")
    return make_split(series, timeframe, prof, horizons, end_ms, anchors, keep_raw=keep_raw, market=market,
                      forward=forward)
