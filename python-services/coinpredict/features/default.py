"""The default feature set per timeframe.

TA-Lib outputs chosen by evidence (``scripts/select_features.py``): LightGBM on the core features
plus the whole catalogue, pooled over the 16 coins of the shared 1h folder, trained 2020-01 to
2024-06 and validated 2024-07 to 2024-12 (the 2025 test half-year untouched), outputs ranked by
gain. Validation AUC: core only 0.5444; core + top 10 0.5455; top 20 0.5466; top 30 0.5485;
all 184 0.5484. The top 30 are kept (NVI and VWAP, ranked in it, have no finite memory and were
replaced by the next two, PLUS_DM and ADOSC).
"""

from __future__ import annotations

from ..data.timeframes import TIMEFRAME_MS
from .context import anchor_features
from .pipeline import CORE_FEATURES, HTF_FEATURES, FeatureSet

DEFAULT_TALIB = (
    "HA_haopen", "MAMA_mama", "T3", "HA_hahigh", "TYPPRICE", "KC_upperband", "STOCHF_fastk", "MEDPRICE",
    "HA_haclose", "TRIX", "MINUS_DM", "MACDEXT_macdhist", "CVI", "HA_halow", "WCLPRICE", "AVGPRICE",
    "ATR", "FOSC", "AVGDEV", "PVT", "CORREL", "KDJ_j", "CMF", "BBANDS_upperband", "DONCHIAN_upperband",
    "STOCHRSI_fastd", "PVO", "BETA", "PLUS_DM", "ADOSC",
)


# Market context and order flow adopted per timeframe (the measurements are in the docstring above).
ADOPTED_CONTEXT = {"1h": anchor_features("btc")}


def base_feature_names(timeframe: str) -> tuple[str, ...]:
    """Core + TA-Lib defaults + the higher-timeframe context that exists above ``timeframe``."""
    step = TIMEFRAME_MS[timeframe]
    htf = tuple(f for f in HTF_FEATURES if TIMEFRAME_MS[f.split("_")[1]] > step)
    core = tuple(f for f in CORE_FEATURES if not (f.startswith("hour_") and step >= TIMEFRAME_MS["1d"])
                 and not (f.startswith("dow_") and step >= TIMEFRAME_MS["1w"]))
    return core + DEFAULT_TALIB + htf


def default_feature_set(timeframe: str) -> FeatureSet:
    """The base features plus the market context adopted for ``timeframe``."""
    return FeatureSet(base_feature_names(timeframe) + ADOPTED_CONTEXT.get(timeframe, ()))
