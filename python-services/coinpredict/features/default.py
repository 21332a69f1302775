"""The default feature set per timeframe.

TA-Lib outputs chosen by evidence (``scripts/select_features.py``): LightGBM on the core features
plus the whole catalogue, pooled over the 16 coins of the shared 1h folder, trained 2020-01 to
2024-06 and validated 2024-07 to 2024-12 (the 2025 test half-year untouched), outputs ranked by
gain. Validation AUC: core only 0.5444; core + top 10 0.5455; top 20 0.5466; top 30 0.5485;
all 184 0.5484. The top 30 are kept (NVI and VWAP, ranked in it, have no finite memory and were
replaced by the next two, PLUS_DM and ADOSC).

Market context and order flow (``features/context.py``), measured by ``scripts/ablate_features.py``:
pooled LightGBM over the 18 coins of the shared folder, each half-year scored by a model trained on
2020-01 up to it (the last 90 days before a 50-candle embargo only pick the number of rounds), 200k
training rows sampled per fit. AUC over every coin, and the mean over the rows of the seven 1h coins
whose files carry the extra kline columns (order-flow rows); an AUC's standard error is about 0.002
on 1h (~75k rows a half-year), 0.004 on 4h and 0.01 on 1d:

| variant, 1h | 2024 H1 | 2024 H2 | 2025 H1 | mean | vs default | mean, order-flow rows |
|---|---|---|---|---|---|---|
| default | 0.5515 | 0.5491 | 0.5335 | 0.5447 | +0.0000 | 0.5464 |
| + BTC ret 1/3/24 + share | 0.5541 | 0.5503 | 0.5389 | 0.5478 | +0.0030 | 0.5487 |
| **+ BTC all (adopted)** | 0.5567 | 0.5498 | 0.5403 | 0.5489 | +0.0042 | 0.5495 |
| + order flow (flag) | 0.5509 | 0.5486 | 0.5338 | 0.5444 | -0.0003 | 0.5460 |
| + order flow + BTC all | 0.5556 | 0.5499 | 0.5414 | 0.5490 | +0.0042 | 0.5503 |
| + BTC all + ETH all | 0.5533 | 0.5509 | 0.5396 | 0.5480 | +0.0032 | 0.5489 |
| + BTC quick + excess | 0.5553 | 0.5517 | 0.5385 | 0.5485 | +0.0037 | 0.5496 |
| + BTC quick + vol regime | 0.5558 | 0.5510 | 0.5414 | 0.5494 | +0.0046 | 0.5505 |
| + order flow (no flag) | 0.5523 | 0.5498 | 0.5341 | 0.5454 | +0.0006 | 0.5467 |
| + order flow + BTC all + ETH all | 0.5546 | 0.5509 | 0.5373 | 0.5476 | +0.0028 | 0.5483 |

| variant, 4h | 2024 H1 | 2024 H2 | 2025 H1 | mean | vs default |
|---|---|---|---|---|---|
| default (kept) | 0.5552 | 0.5393 | 0.5190 | 0.5378 | +0.0000 |
| + BTC ret 1/3/24 + share | 0.5582 | 0.5349 | 0.5258 | 0.5396 | +0.0018 |
| + BTC all | 0.5579 | 0.5368 | 0.5226 | 0.5391 | +0.0013 |
| + BTC quick + vol regime | 0.5572 | 0.5352 | 0.5275 | 0.5400 | +0.0021 |

| variant, 1d | 2024 H1 | 2024 H2 | 2025 H1 | mean | vs default |
|---|---|---|---|---|---|
| default (kept) | 0.5213 | 0.5148 | 0.5045 | 0.5135 | +0.0000 |
| + BTC ret 1/3/24 + share | 0.5279 | 0.5067 | 0.5409 | 0.5251 | +0.0116 |
| + BTC all | 0.5271 | 0.5142 | 0.5232 | 0.5215 | +0.0080 |
| + BTC quick + vol regime | 0.5238 | 0.4977 | 0.4964 | 0.5059 | -0.0076 |

Decision. 1h adopts BTC's whole context (``btc_*``: availability flag, volatility-scaled 1/3/24-candle
returns, volatility regime, taker-buy share and its 6-candle mean, the coin's excess returns): above
the default in every period, +0.0042 on the mean; its variants (quick four, + vol regime, + excess)
are within noise of it, and it carries the flag a network needs when the anchor candle is missing.
The coin's own order flow adds nothing pooled (-0.0003 alone, +0.0000 on top of BTC; +0.0008 on the
seven coins' rows), with the flag or without; ETH as a second anchor lowers the mean slightly: neither
is adopted. 4h and 1d keep their sets: the changes are within noise there and of mixed sign across
periods (4h 2024 H2 drops in every variant), and their BTC files have no taker-buy columns.

Cross-sectional market (``mkt_*``, ``features/market_context.py``), measured the same way (same
periods, rows and LightGBM; the market built from all 18 coins of the folder). 1h (run before the
rank IC column existed):

| variant, 1h | 2024 H1 | 2024 H2 | 2025 H1 | mean | vs default |
|---|---|---|---|---|---|
| default | 0.5515 | 0.5491 | 0.5335 | 0.5447 | +0.0000 |
| **+ BTC all (kept)** | 0.5567 | 0.5498 | 0.5403 | 0.5489 | +0.0042 |
| + market all | 0.5515 | 0.5474 | 0.5344 | 0.5444 | -0.0003 |
| + BTC all + market all | 0.5540 | 0.5499 | 0.5371 | 0.5470 | +0.0022 |
| + BTC all + market (no count) | 0.5538 | 0.5494 | 0.5387 | 0.5473 | +0.0026 |
| + BTC all + market excess | 0.5554 | 0.5491 | 0.5396 | 0.5480 | +0.0033 |

The two that matter, run again with the rank IC (per-candle Spearman of the probabilities against the
next return across coins; a rerun moves an AUC by up to 0.0014: LightGBM's threads):

| variant, 1h | 2024 H1 | 2024 H2 | 2025 H1 | mean AUC | rank IC 2024 H1 | 2024 H2 | 2025 H1 | mean |
|---|---|---|---|---|---|---|---|---|
| + BTC all (kept) | 0.5567 | 0.5498 | 0.5403 | 0.5489 | 0.0238 | 0.0156 | 0.0126 | 0.0173 |
| + BTC all + market all | 0.5547 | 0.5499 | 0.5385 | 0.5477 | 0.0274 | 0.0192 | 0.0144 | 0.0203 |

| variant, 4h | 2024 H1 | 2024 H2 | 2025 H1 | mean | vs default | mean rank IC |
|---|---|---|---|---|---|---|
| default (kept) | 0.5552 | 0.5393 | 0.5190 | 0.5378 | +0.0000 | 0.0195 |
| + market all | 0.5494 | 0.5386 | 0.5134 | 0.5338 | -0.0040 | 0.0184 |

| variant, 1d | 2024 H1 | 2024 H2 | 2025 H1 | mean | vs default | mean rank IC |
|---|---|---|---|---|---|---|
| default (kept) | 0.5213 | 0.5148 | 0.5045 | 0.5135 | +0.0000 | -0.0017 |
| + market all | 0.5727 | 0.4750 | 0.4942 | 0.5140 | +0.0005 | -0.0281 |
| + market (no count) | 0.5646 | 0.4983 | 0.5641 | 0.5423 | +0.0288 | 0.0125 |
| + BTC all + market all | 0.5408 | 0.4840 | 0.5167 | 0.5138 | +0.0003 | -0.0147 |

Decision. The market is adopted nowhere. On 1h it adds nothing alone (-0.0003) and every variant on
top of BTC's context is below BTC's alone (-0.0009 to -0.0019 on the mean, below it in 2024 H1 and
2025 H1): BTC's own returns already carry most of the common move (their correlation with the market
mean is 0.85). It does rank the coins better (rank IC +0.0030, higher in every period): a candidate
for a ranking target, not for ``probability_up``, whose AUC it lowers. On 4h it is below the default
in every period (-0.0040), its rank IC too. On 1d the variants swing by as much as dropping one
column (all: +0.0005; without ``mkt_coins``: +0.0288, yet 2024 H2 below the default by 0.0165): noise
at ~3k test rows a half-year, and of mixed sign across periods, like BTC's variants there.
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


# Market context adopted per timeframe (the measurements and the decision are in the docstring above).
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
