"""Order flow (the exchange's extra kline columns) and market context (an anchor coin's candles).

Order flow (``of_*``) reads ``taker_buy_volume`` and ``trades``; a coin whose candles lack them gets
NaN there and ``of_avail`` = 0, never an invented value. Market context (``btc_*``, ``eth_*``) reads
the anchor's candle with the same open time (closed at the same moment as the coin's); where the
anchor has no such candle, or was not given, its features are NaN and ``<anchor>_avail`` is 0.
Every value at row t uses candles (the coin's or the anchor's) opened at or before t only. Which of
them the default sets use, as measured (``scripts/ablate_features.py``): ``features/default.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.candles import Candles
from ..data.sources.csvdir import load_folder
from .catalogue import rolling_mean, rolling_std

ANCHORS = {"btc": "BTCUSDT", "eth": "ETHUSDT"}
Z_WINDOW = 48
ORDER_FLOW_FEATURES = ("of_avail", "of_share", "of_share_6", "of_share_24", "of_share_z", "of_trades_z",
                       "of_size_z", "of_signed_vol", "of_signed_vol_6")
ANCHOR_SUFFIXES = ("avail", "ret_1", "ret_3", "ret_24", "vol_regime", "share", "share_6",
                   "excess_1", "excess_3", "excess_24")


def anchor_features(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}_{s}" for s in ANCHOR_SUFFIXES)


CONTEXT_FEATURES = ORDER_FLOW_FEATURES + tuple(n for p in ANCHORS for n in anchor_features(p))


def anchor_of(name: str) -> str | None:
    """The anchor symbol a feature name reads (``btc_ret_1`` -> BTCUSDT), else None."""
    prefix, _, rest = name.partition("_")
    return ANCHORS.get(prefix) if rest in ANCHOR_SUFFIXES else None


def is_context(name: str) -> bool:
    """Features that may be missing on some rows (and must not hold back a series' warm-up)."""
    return name in ORDER_FLOW_FEATURES or anchor_of(name) is not None


def _zscore(x: np.ndarray, window: int = Z_WINDOW) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (x - rolling_mean(x, window)) / (rolling_std(x, window) + 1e-9)


def _log_returns(close: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.concatenate([[np.nan], np.log(close[1:] / close[:-1])]) if len(close) else np.zeros(0)


def _k_return(close: np.ndarray, k: int) -> np.ndarray:
    """log(close_t / close_{t-k}) over rows (NaN for the first k)."""
    out = np.full(close.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[k:] = np.log(close[k:] / close[:-k])
    return out


def taker_share(c: Candles) -> np.ndarray:
    """Taker-buy share of volume minus one half (NaN without the column or with no volume)."""
    tbv = c.extra.get("taker_buy_volume")
    if tbv is None:
        return np.full(len(c), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c.volume > 0, tbv / c.volume, np.nan) - 0.5


def order_flow(c: Candles) -> dict[str, np.ndarray]:
    """The ``of_*`` columns; rolling values are NaN wherever a value in their window is missing."""
    share = taker_share(c)
    trades = c.extra.get("trades", np.full(len(c), np.nan))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_volume = c.volume / (rolling_mean(c.volume, Z_WINDOW) + 1e-12)
        size = np.where(trades > 0, np.log(c.volume / trades), np.nan)
        signed = 2 * share * rel_volume
        return {
            "of_avail": np.isfinite(share).astype(np.float64),
            "of_share": share,
            "of_share_6": rolling_mean(share, 6),
            "of_share_24": rolling_mean(share, 24),
            "of_share_z": _zscore(share),
            "of_trades_z": _zscore(np.log1p(trades)),
            "of_size_z": _zscore(size),
            "of_signed_vol": signed,
            "of_signed_vol_6": rolling_mean(signed, 6),
        }


def _own_anchor_columns(a: Candles) -> dict[str, np.ndarray]:
    """Anchor features over the anchor's own rows (before alignment), raw k-returns included."""
    ret = _log_returns(a.close)
    vol = rolling_std(ret, Z_WINDOW)  # the coin's own ret_k use the same 48-candle volatility
    share = taker_share(a)
    cols = {"share": share, "share_6": rolling_mean(share, 6)}
    with np.errstate(divide="ignore", invalid="ignore"):
        cols["vol_regime"] = np.log(rolling_std(ret, 24) / rolling_std(ret, 168))
        for k in (1, 3, 24):
            raw = _k_return(a.close, k)
            cols[f"raw_{k}"] = raw
            cols[f"ret_{k}"] = raw / (vol * np.sqrt(k))
    return cols


def market_context(c: Candles, prefix: str, anchor: Candles | None, vol: np.ndarray,
                   wanted: set[str]) -> dict[str, np.ndarray]:
    """The ``<prefix>_*`` columns for coin candles ``c``; ``vol`` is the coin's return volatility."""
    n = len(c)
    names = anchor_features(prefix)
    if not wanted & set(names):
        return {}
    out = {name: np.full(n, np.nan) for name in names}
    out[f"{prefix}_avail"] = np.zeros(n)
    if anchor is None or not len(anchor) or not n:
        return out
    own = _own_anchor_columns(anchor)
    pos = np.clip(np.searchsorted(anchor.t, c.t), 0, len(anchor) - 1)
    found = anchor.t[pos] == c.t
    out[f"{prefix}_avail"] = found.astype(np.float64)
    aligned = {k: np.where(found, v[pos], np.nan) for k, v in own.items()}
    for s in ("ret_1", "ret_3", "ret_24", "vol_regime", "share", "share_6"):
        out[f"{prefix}_{s}"] = aligned[s]
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in (1, 3, 24):
            out[f"{prefix}_excess_{k}"] = (_k_return(c.close, k) - aligned[f"raw_{k}"]) / (vol * np.sqrt(k))
    return out


def context_columns(c: Candles, names: tuple[str, ...], anchors: dict[str, Candles] | None,
                    vol: np.ndarray) -> dict[str, np.ndarray]:
    """Every context column ``names`` asks for (order flow and each anchor's), computed once each."""
    wanted = set(names)
    cols: dict[str, np.ndarray] = {}
    if wanted & set(ORDER_FLOW_FEATURES):
        cols.update(order_flow(c))
    for prefix, symbol in ANCHORS.items():
        cols.update(market_context(c, prefix, (anchors or {}).get(symbol), vol, wanted))
    return cols


def load_anchors(data_dir: Path, timeframe: str, symbols: tuple[str, ...], have: list[Candles],
                 start_ms: int | None, end_ms: int | None) -> dict[str, Candles]:
    """The anchor candles a feature set reads, from series already loaded or else from the folder
    (same time bounds), so a run over a subset of coins still sees the market context."""
    loaded = {c.symbol: c for c in have if c.symbol in symbols}
    missing = [s for s in symbols if s not in loaded]
    if missing:
        loaded.update({c.symbol: c for c in load_folder(Path(data_dir), timeframe, missing, start_ms, end_ms)})
    return loaded
