"""The applicable TA-Lib catalogue, each output made scale-free so one model serves every coin.

Rather than hand-labelling ~200 functions, each output's transform is derived from how it behaves:
computed on a reference series, then with prices x1000, volume x1000 and the first candles dropped.
- homogeneous of degree 1 in price and tracking the close  -> ``log(out / close)``   ("price")
- degree 1 in price otherwise (MACD, ATR, MOM)             -> ``out / close``        ("price_diff")
- degree 2 in price (VAR)                                  -> ``sqrt(out) / close``  ("price_sq")
- degree 1 in volume                                       -> ``out / mean volume``  ("volume")
- scale-free already (RSI, patterns, CORREL)              -> ``out / spread``       ("ratio")
- depends on where the history starts (OBV, AD)            -> change over 24 candles, then as above
Outputs whose change still depends on where the history starts (NVI, PVI, VWAP) are left out: a
served window of 500 candles would not reproduce what training saw.
Math operators and transforms do not apply to prices and are left out, as is MAVP (needs a period series).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import talib
from talib import abstract

EXCLUDED_GROUPS = {"Math Operators", "Math Transform"}
EXCLUDED_FUNCTIONS = {"MAVP"}
CUMULATIVE_WINDOW = 24
VOLUME_WINDOW = 24


@dataclass(frozen=True)
class OutputSpec:
    name: str  # "<FUNC>" or "<FUNC>_<output>" for multi-output functions
    function: str
    output: int
    transform: str
    cumulative: bool
    scale: float  # divides "ratio" outputs to bring them near unit range


def _reference_series(n: int = 3000, seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(0.01 * rng.standard_t(4, n)))
    open_ = np.concatenate([[close[0]], close[:-1]]) * np.exp(0.001 * rng.standard_normal(n))
    high = np.maximum(open_, close) * np.exp(np.abs(0.006 * rng.standard_normal(n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(0.006 * rng.standard_normal(n)))
    volume = 1e4 * np.exp(rng.standard_normal(n))
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


@functools.cache
def _direct(function: str) -> tuple:
    """The plain TA-Lib function and the series it reads, in order (the abstract API is ~10x slower)."""
    keys: list[str] = []
    for value in abstract.Function(function).info["input_names"].values():
        keys.extend(value if isinstance(value, list) else [value])
    return getattr(talib, function), tuple(keys)


def call_function(function: str, series: dict[str, np.ndarray]) -> list[np.ndarray]:
    fn, keys = _direct(function)
    out = fn(*(series[k] for k in keys))
    return list(out) if isinstance(out, tuple) else [out]


def _classify(function: str, output: int, ref: dict[str, np.ndarray]) -> OutputSpec | None:
    def run(price_k: float = 1.0, vol_k: float = 1.0, drop: int = 0) -> np.ndarray:
        s = {k: (v * (vol_k if k == "volume" else price_k))[drop:] for k, v in ref.items()}
        return call_function(function, s)[output][-1000:]

    try:
        base = run()
    except Exception:  # noqa: BLE001 - a function that cannot run on OHLCV is simply not in the catalogue
        return None
    if not np.isfinite(base).sum() > 500 or np.nanstd(base) == 0:
        return None
    ok = np.isfinite(base)

    def same(a: np.ndarray, b: np.ndarray) -> bool:
        both = ok & np.isfinite(a) & np.isfinite(b)
        return both.sum() > 500 and np.allclose(a[both], b[both], rtol=1e-4, atol=1e-8 * np.nanmax(np.abs(b)))

    cumulative = not same(run(drop=500), base)
    if cumulative:
        diff = lambda x: x - np.roll(x, CUMULATIVE_WINDOW)  # noqa: E731 - only used to classify the change
        base_c = diff(base)
        if not same(diff(run(drop=500)), base_c):
            return None  # multiplicative or averaged from the start (NVI, PVI, VWAP): no finite memory
        price_scaled, vol_scaled = diff(run(price_k=1000.0)), diff(run(vol_k=1000.0))
    else:
        base_c, price_scaled, vol_scaled = base, run(price_k=1000.0), run(vol_k=1000.0)
    names = abstract.Function(function).info["output_names"]
    name = function if len(names) == 1 else f"{function}_{names[output]}"
    close = ref["close"][-1000:]
    if same(vol_scaled, base_c) and same(price_scaled, base_c):
        spread = float(np.nanpercentile(np.abs(base_c[ok]), 95)) or 1.0
        return OutputSpec(name, function, output, "ratio", cumulative, spread)
    if same(vol_scaled, base_c) and same(price_scaled, base_c * 1000.0):
        ratio = base[ok] / close[ok]
        tracks = not cumulative and abs(float(np.nanmedian(ratio)) - 1) < 0.2 and np.nanmin(ratio) > 0
        return OutputSpec(name, function, output, "price" if tracks else "price_diff", cumulative, 1.0)
    if same(vol_scaled, base_c) and same(price_scaled, base_c * 1e6) and np.nanmin(base) >= 0:
        return OutputSpec(name, function, output, "price_sq", cumulative, 1.0)
    if same(price_scaled, base_c) and same(vol_scaled, base_c * 1000.0):
        return OutputSpec(name, function, output, "volume", cumulative, 1.0)
    return None


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, OutputSpec]:
    """Every usable TA-Lib output (at default parameters) with its scale-free transform."""
    ref = _reference_series()
    specs: dict[str, OutputSpec] = {}
    for group, functions in talib.get_function_groups().items():
        if group in EXCLUDED_GROUPS:
            continue
        for function in functions:
            if function in EXCLUDED_FUNCTIONS:
                continue
            n_out = len(abstract.Function(function).info["output_names"])
            for output in range(n_out):
                spec = _classify(function, output, ref)
                if spec is not None:
                    specs[spec.name] = spec
    return specs


def rolling_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over exactly ``window`` values (NaN before); depends only on those values."""
    out = np.full(x.shape, np.nan)
    if len(x) >= window:
        out[window - 1:] = np.lib.stride_tricks.sliding_window_view(x, window).mean(axis=-1)
    return out


def rolling_std(x: np.ndarray, window: int) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    if len(x) >= window:
        out[window - 1:] = np.lib.stride_tricks.sliding_window_view(x, window).std(axis=-1)
    return out


def transform(spec: OutputSpec, raw: np.ndarray, series: dict[str, np.ndarray]) -> np.ndarray:
    """Apply the spec's scale-free transform to one raw TA-Lib output."""
    close = series["close"]
    x = raw
    if spec.cumulative:
        x = np.full(raw.shape, np.nan)
        x[CUMULATIVE_WINDOW:] = raw[CUMULATIVE_WINDOW:] - raw[:-CUMULATIVE_WINDOW]
    with np.errstate(divide="ignore", invalid="ignore"):
        if spec.transform == "price":
            return np.log(x / close)
        if spec.transform == "price_diff":
            return x / close
        if spec.transform == "price_sq":
            return np.sqrt(np.maximum(x, 0)) / close
        if spec.transform == "volume":
            return x / (rolling_mean(series["volume"], VOLUME_WINDOW) + 1e-12)
        return x / spec.scale


def compute_output(spec: OutputSpec, series: dict[str, np.ndarray],
                   cache: dict[str, list[np.ndarray]] | None = None) -> np.ndarray:
    """One catalogue feature; ``cache`` shares a multi-output function's call across its outputs."""
    cache = {} if cache is None else cache
    if spec.function not in cache:
        cache[spec.function] = call_function(spec.function, series)
    return transform(spec, cache[spec.function][spec.output], series)
