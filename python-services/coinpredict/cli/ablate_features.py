"""Measure order-flow and market-context features: a pooled LightGBM over every coin of a folder,
the default features against variants with context columns added, scored (AUC) on half-year periods
with models trained on rows ending before each period (less an embargo); the last ``--stop-days``
before the embargo only pick the number of rounds (early stopping), the period itself is never seen.

Prints a Markdown table: AUC per period over every coin, their mean and its change against the
default set, the mean over the rows that carry order-flow columns, and the mean over periods of the
cross-sectional rank IC (Spearman of the probabilities against the next candle's returns, per candle).
Lean by design: rows subsampled, two threads; run it under ``nice``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np

from coinpredict.common.metrics import fast_auc
from coinpredict.common.times import to_ms
from coinpredict.data.sources.csvdir import load_folder
from coinpredict.data.timeframes import TIMEFRAME_MS
from coinpredict.evaluation.ranking import ranking_quality
from coinpredict.features.context import ORDER_FLOW_FEATURES, anchor_features, load_anchors
from coinpredict.features.datasets import build_pooled
from coinpredict.features.default import base_feature_names
from coinpredict.features.market_context import MARKET_FEATURES, folder_market
from coinpredict.features.pipeline import FeatureSet

PARAMS = {"objective": "binary", "num_leaves": 15, "learning_rate": 0.06, "min_data_in_leaf": 400,
          "feature_fraction": 0.6, "bagging_fraction": 0.7, "bagging_freq": 1, "verbosity": -1, "num_threads": 2}
PERIODS = {"2024 H1": ("2024-01-01", "2024-07-01"), "2024 H2": ("2024-07-01", "2025-01-01"),
           "2025 H1": ("2025-01-01", "2025-07-01")}
EMBARGO_CANDLES = 50
BTC, ETH = anchor_features("btc"), anchor_features("eth")
OF_NO_FLAG = tuple(n for n in ORDER_FLOW_FEATURES if n != "of_avail")
BTC_QUICK = ("btc_ret_1", "btc_ret_3", "btc_ret_24", "btc_share")
EXCESS = ("btc_excess_1", "btc_excess_3", "btc_excess_24")
MKT = MARKET_FEATURES
MKT_NO_COUNT = tuple(n for n in MKT if n != "mkt_coins")
MKT_EXCESS = ("mkt_avail", "mkt_excess_1", "mkt_excess_3", "mkt_excess_24")


def variants(base: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Named column lists to compare; every one starts with the default set."""
    return {
        "default": base,
        "+ BTC ret 1/3/24 + share": base + BTC_QUICK,
        "+ BTC all": base + BTC,
        "+ order flow (flag)": base + ORDER_FLOW_FEATURES,
        "+ order flow + BTC all": base + ORDER_FLOW_FEATURES + BTC,
        "+ BTC all + ETH all": base + BTC + ETH,
        "+ BTC quick + excess": base + BTC_QUICK + EXCESS,
        "+ BTC quick + vol regime": base + BTC_QUICK + ("btc_vol_regime",),
        "+ order flow (no flag)": base + OF_NO_FLAG,
        "+ order flow + BTC all + ETH all": base + ORDER_FLOW_FEATURES + BTC + ETH,
        "+ market all": base + MKT,
        "+ market (no count)": base + MKT_NO_COUNT,
        "+ BTC all + market all": base + BTC + MKT,
        "+ BTC all + market (no count)": base + BTC + MKT_NO_COUNT,
        "+ BTC all + market excess": base + BTC + MKT_EXCESS,
    }


def fit_predict(x, y, xs, ys, xt) -> np.ndarray:
    booster = lgb.train(PARAMS, lgb.Dataset(x, y), 500, valid_sets=[lgb.Dataset(xs, ys)],
                        callbacks=[lgb.early_stopping(30, verbose=False)])
    return booster.predict(xt, num_iteration=booster.best_iteration)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--timeframe", default="1h")
    ap.add_argument("--start", default="2020-01-01")
    ap.add_argument("--rows", type=int, default=200_000, help="training rows sampled per fit")
    ap.add_argument("--stop-days", type=float, default=90.0)
    ap.add_argument("--only", default=None, help="comma-separated variant names (default: all)")
    args = ap.parse_args()
    started = time.time()
    tf, step = args.timeframe, TIMEFRAME_MS[args.timeframe]
    base = base_feature_names(tf)
    chosen = variants(base)
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    every = tuple(dict.fromkeys(n for cols in chosen.values() for n in cols))
    fs = FeatureSet(every)
    end_ms = to_ms(max(e for _, e in PERIODS.values()))
    series = load_folder(args.data_dir, tf, None, to_ms(args.start), end_ms + step)
    anchors = load_anchors(args.data_dir, tf, fs.anchors, series, to_ms(args.start), end_ms + step)
    market = folder_market(args.data_dir, tf, series, to_ms(args.start), end_ms + step) if fs.reads_market else None
    data = build_pooled(series, fs, window=2, horizons=(1,), anchors=anchors, market=market)
    print(f"{len(series)} coins, {len(data.t)} rows, {len(fs)} columns, built in {time.time() - started:.0f}s",
          file=sys.stderr)
    rng = np.random.default_rng(0)
    flow = data.features[:, fs.names.index("of_avail")] == 1 if "of_avail" in fs.names else None
    splits = {}
    for period, (p_start, p_end) in PERIODS.items():
        start_ms, stop_ms = to_ms(p_start), to_ms(p_end)
        cut = start_ms - EMBARGO_CANDLES * step
        stop_from = cut - int(args.stop_days * 86_400_000)
        train = data.select(None, stop_from - EMBARGO_CANDLES * step, label_before_ms=stop_from, horizon_ms=step)
        stop = data.select(stop_from, cut, label_before_ms=cut, horizon_ms=step)
        test = data.select(start_ms, stop_ms, label_before_ms=stop_ms, horizon_ms=step)
        splits[period] = (np.sort(rng.choice(train, min(args.rows, len(train)), replace=False)), stop, test)
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    for name, cols in chosen.items():  # variant by variant, so a cut-short run has whole rows
        j = [fs.names.index(n) for n in cols]
        results[name] = {}
        for period, (train, stop, test) in splits.items():
            p = fit_predict(data.features[train][:, j], data.labels[train, 0], data.features[stop][:, j],
                            data.labels[stop, 0], data.features[test][:, j])
            y = data.labels[test, 0]
            auc_flow = fast_auc(y[flow[test]], p[flow[test]]) if flow is not None else float("nan")
            fut = data.close[test + 1] / data.close[test] - 1  # a label means the next candle is the next row
            ic = ranking_quality(p, fut, data.symbol_index[test], data.t[test])["rank_ic"]
            results[name][period] = (fast_auc(y, p), auc_flow, ic)
            print(f"{period} {name}: {results[name][period][0]:.4f} (order-flow rows {auc_flow:.4f}, rank IC "
                  f"{ic:.4f}) [{time.time() - started:.0f}s]", file=sys.stderr)
        print(table(results, tf, len(series)), file=sys.stderr)
    print(table(results, tf, len(series)))
    return 0


def table(results: dict[str, dict[str, tuple[float, float, float]]], timeframe: str, n_coins: int) -> str:
    periods = list(PERIODS)
    ref = np.mean([results["default"][p][0] for p in periods]) if "default" in results else np.nan
    lines = [f"{timeframe}, {n_coins} coins | " + " | ".join(periods) + " | mean | vs default | mean, order-flow rows"
             " | mean rank IC", "|".join(["---"] * (len(periods) + 5))]
    lines[0] = "| variant, " + lines[0] + " |"
    lines[1] = "|" + lines[1] + "|"
    for name, by in results.items():
        mean = np.mean([by[p][0] for p in periods])
        flow = np.mean([by[p][1] for p in periods])
        ic = np.mean([by[p][2] for p in periods])
        lines.append(f"| {name} | " + " | ".join(f"{by[p][0]:.4f}" for p in periods)
                     + f" | {mean:.4f} | {mean - ref:+.4f} | {flow:.4f} | {ic:.4f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
