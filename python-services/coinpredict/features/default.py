"""The default feature set per timeframe.

TA-Lib outputs were ranked by LightGBM gain on a pooled 1h validation period (train up to
2024-07-01, validate 2024-07-01..2025-01-01, 16 coins; ``scripts/select_features.py``) and kept
where dropping them lowered validation AUC; see README "Features" for the figures.
"""

from __future__ import annotations

from ..data.timeframes import TIMEFRAME_MS
from .pipeline import CORE_FEATURES, HTF_FEATURES, FeatureSet

DEFAULT_TALIB = (
    "RSI", "STOCH_slowk", "STOCHRSI_fastk", "WILLR", "CCI", "MFI", "ADX", "PLUS_DI", "MINUS_DI",
    "AROONOSC", "MACD_macdhist", "PPO", "BBANDS_upperband", "BBANDS_lowerband", "NATR", "TRIX",
    "ULTOSC", "CMF", "ADOSC", "OBV", "BOP", "KAMA", "SAR", "HT_DCPERIOD", "HT_SINE_sine",
    "CORREL", "LINEARREG_SLOPE", "MASSI", "RVOL", "ER", "VHF",
)


def default_feature_set(timeframe: str) -> FeatureSet:
    """Core + TA-Lib defaults + the higher-timeframe context that exists above ``timeframe``."""
    step = TIMEFRAME_MS[timeframe]
    htf = tuple(f for f in HTF_FEATURES if TIMEFRAME_MS[f.split("_")[1]] > step)
    core = tuple(f for f in CORE_FEATURES if not (f.startswith("hour_") and step >= TIMEFRAME_MS["1d"])
                 and not (f.startswith("dow_") and step >= TIMEFRAME_MS["1w"]))
    return FeatureSet(core + DEFAULT_TALIB + htf)
