"""Cross-sectional market context (``mkt_*``): what the whole market did at each candle, and how the
coin did against it.

BTC is one coin; the market is all of them. Per candle open time t, over the coins that have a candle
at t and a known 48-candle volatility there: the mean and the dispersion (cross-sectional standard
deviation) of their volatility-scaled 1/3/24-candle returns, the share of them whose last candle
closed up, and how many there were; each coin's excess is its own scaled return minus that mean.
Every coin's scaled return at t reads its own candles at or before t only (the same trailing 48-candle
volatility as its ``ret_k`` features), so a row at t never changes when any coin's later candles do.
Sums run over the coins in symbol order, so a serving window over the same coins gives the same bits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.candles import Candles
from ..data.sources.csvdir import CsvFolderSource, load_folder
from ..data.timeframes import TIMEFRAME_MS
from .catalogue import rolling_std

HORIZONS = (1, 3, 24)
VOL_WINDOW = 48  # the coin features' own volatility window (pipeline.VOL_WINDOW)
MIN_COINS = 3  # fewer coins at a candle: no market there (a mean of one or two is that coin)
MARKET_FEATURES = ("mkt_avail", "mkt_coins", *(f"mkt_mean_{k}" for k in HORIZONS),
                   *(f"mkt_disp_{k}" for k in HORIZONS), "mkt_up", *(f"mkt_excess_{k}" for k in HORIZONS))


def is_market(name: str) -> bool:
    return name in MARKET_FEATURES


@dataclass(frozen=True)
class MarketFrame:
    """The market's row per open time (``t`` ascending, ms); ``key`` names how it was built (serving
    caches feature rows by it)."""

    timeframe: str
    t: np.ndarray
    coins: np.ndarray  # coins used at t (finite scaled returns)
    mean: dict[int, np.ndarray]  # horizon -> mean scaled return
    disp: dict[int, np.ndarray]  # horizon -> cross-sectional std of scaled returns
    up: np.ndarray  # share of the coins used whose last candle closed above the one before
    symbols: tuple[str, ...] = ()
    key: tuple = field(default=())

    def __len__(self) -> int:
        return len(self.t)

    def row_at(self, t_ms: int) -> int | None:
        i = int(np.searchsorted(self.t, t_ms))
        return i if i < len(self.t) and int(self.t[i]) == t_ms else None


def _k_return(close: np.ndarray, k: int) -> np.ndarray:
    out = np.full(close.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[k:] = np.log(close[k:] / close[:-k])
    return out


def scaled_returns(close: np.ndarray) -> dict[int, np.ndarray]:
    """log(close_t / close_{t-k}) / (vol_t * sqrt(k)) per horizon k, vol the trailing 48-candle std of
    one-candle log returns (rows, not hours: the coin's ``ret_k`` features read them the same way)."""
    ret = _k_return(close, 1)
    vol = rolling_std(ret, VOL_WINDOW)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {k: _k_return(close, k) / (vol * np.sqrt(k)) for k in HORIZONS}


def build_market(series: list[Candles], timeframe: str, key: tuple = ()) -> MarketFrame:
    """The market over ``series`` (one per coin, any lengths and gaps): a row at every open time any
    coin has. A coin counts at t when all its scaled returns there are finite."""
    series = sorted((c for c in series if len(c)), key=lambda c: c.symbol)
    t = np.unique(np.concatenate([c.t for c in series])) if series else np.zeros(0, np.int64)
    n = len(t)
    values, count, ups = [], np.zeros(n), np.zeros(n)
    for c in series:
        pos = np.searchsorted(t, c.t)
        scaled = scaled_returns(c.close)
        used = np.logical_and.reduce([np.isfinite(scaled[k]) for k in HORIZONS])
        values.append((pos[used], {k: scaled[k][used] for k in HORIZONS}))
        count[pos[used]] += 1
        ups[pos[used]] += scaled[1][used] > 0
    mean, disp = {}, {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in HORIZONS:
            total = np.zeros(n)
            for pos, v in values:  # one coin at a time, in symbol order: the same sums for any window
                total[pos] += v[k]
            mean[k] = total / count
            spread = np.zeros(n)
            for pos, v in values:
                spread[pos] += (v[k] - mean[k][pos]) ** 2
            disp[k] = np.sqrt(spread / count)
        up = ups / count
    thin = count < MIN_COINS
    for arr in (*mean.values(), *disp.values(), up):
        arr[thin] = np.nan
    return MarketFrame(timeframe, t, count, mean, disp, up, tuple(c.symbol for c in series), key)


def market_columns(c: Candles, market: MarketFrame | None, wanted: set[str]) -> dict[str, np.ndarray]:
    """The ``mkt_*`` columns of coin candles ``c``: the market's row at each of the coin's open times
    (NaN and ``mkt_avail`` 0 where it has none or too few coins), and the coin's excess over it."""
    if not wanted & set(MARKET_FEATURES):
        return {}
    n = len(c)
    out = {name: np.full(n, np.nan) for name in MARKET_FEATURES}
    out["mkt_avail"], out["mkt_coins"] = np.zeros(n), np.zeros(n)
    if market is None or not len(market) or not n:
        return out
    pos = np.clip(np.searchsorted(market.t, c.t), 0, len(market) - 1)
    found = (market.t[pos] == c.t) & (market.coins[pos] >= MIN_COINS)
    out["mkt_avail"] = found.astype(np.float64)
    out["mkt_coins"] = np.where(market.t[pos] == c.t, market.coins[pos], 0.0)
    own = scaled_returns(c.close)
    for k in HORIZONS:
        mean = np.where(found, market.mean[k][pos], np.nan)
        out[f"mkt_mean_{k}"] = mean
        out[f"mkt_disp_{k}"] = np.where(found, market.disp[k][pos], np.nan)
        out[f"mkt_excess_{k}"] = own[k] - mean
    out["mkt_up"] = np.where(found, market.up[pos], np.nan)
    return out


def market_forward_mean(series: list[Candles], timeframe: str, h: int,
                        min_coins: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(open times, the market's mean log return over the ``h`` candles after each): at t, over the coins
    with a candle at t and one exactly h steps later, mean of log(close_{t+h} / close_t); NaN where fewer
    than ``min_coins`` have them. It reads the future by design: a label (the relative target), never a
    feature."""
    step = TIMEFRAME_MS[timeframe]
    series = sorted((c for c in series if len(c)), key=lambda c: c.symbol)
    t = np.unique(np.concatenate([c.t for c in series])) if series else np.zeros(0, np.int64)
    total, count = np.zeros(len(t)), np.zeros(len(t))
    for c in series:
        if len(c) <= h:
            continue
        exact = c.t[h:] - c.t[:-h] == h * step
        with np.errstate(divide="ignore", invalid="ignore"):
            fwd = np.log(c.close[h:] / c.close[:-h])
        ok = exact & np.isfinite(fwd)
        pos = np.searchsorted(t, c.t[:-h][ok])
        total[pos] += fwd[ok]
        count[pos] += 1
    with np.errstate(divide="ignore", invalid="ignore"):
        return t, np.where((count > 0) & (count >= min_coins), total / count, np.nan)


def forward_means(series: list[Candles], timeframe: str,
                  horizons: tuple[int, ...]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """``market_forward_mean`` per horizon, over at least ``MIN_COINS`` coins (the features' rule: the
    mean of one or two coins is those coins): what the relative target's labels compare against."""
    return {h: market_forward_mean(series, timeframe, h, MIN_COINS) for h in horizons}


def folder_series(data_dir: Path, timeframe: str, have: list[Candles], start_ms: int | None,
                  end_ms: int | None) -> list[Candles]:
    """Every coin of the folder on ``timeframe`` (series already loaded are reused, the rest read)."""
    loaded = {c.symbol: c for c in have}
    every = CsvFolderSource(Path(data_dir)).symbols(timeframe)
    missing = [s for s in every if s not in loaded]
    rest = load_folder(Path(data_dir), timeframe, missing, start_ms, end_ms) if missing else []
    return [loaded[s] for s in every if s in loaded] + rest


def folder_market(data_dir: Path, timeframe: str, have: list[Candles], start_ms: int | None,
                  end_ms: int | None) -> MarketFrame:
    """The market of every coin of the folder on ``timeframe`` (series already loaded are reused), so a
    run over a subset of coins still sees the whole market. ``start_ms`` should reach back ~75 candles
    before the first row that matters (the volatility and 24-candle warm-up)."""
    return build_market(folder_series(data_dir, timeframe, have, start_ms, end_ms), timeframe,
                        key=("folder", timeframe))
