"""The time split the research scripts share (feature selection, unseen coins): pooled rows of every
coin in a folder, training before ``--split`` (less an embargo), scoring from ``--split`` to ``--end``."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from coinpredict.common.times import to_ms
from coinpredict.data.sources.csvdir import load_folder
from coinpredict.data.timeframes import TIMEFRAME_MS
from coinpredict.features.datasets import PooledData, build_pooled
from coinpredict.features.pipeline import FeatureSet

EMBARGO_CANDLES = 50  # longer than any label or lag reaches across the split


def add_split_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--timeframe", default="1h")
    ap.add_argument("--start", default="2020-01-01")
    ap.add_argument("--split", default="2024-07-01")
    ap.add_argument("--end", default="2025-01-01")


def pooled_split(args: argparse.Namespace, feature_set: FeatureSet) -> tuple[PooledData, np.ndarray, np.ndarray]:
    """(pooled data, training row ends, scoring row ends) for the arguments above."""
    series = load_folder(args.data_dir, args.timeframe, None, to_ms(args.start), to_ms(args.end))
    data = build_pooled(series, feature_set, window=2, horizons=(1,))
    split, end, step = to_ms(args.split), to_ms(args.end), TIMEFRAME_MS[args.timeframe]
    train = data.select(None, split - EMBARGO_CANDLES * step)
    scored = data.select(split, end, label_before_ms=end, horizon_ms=step)
    return data, train, scored
