"""Train models on an OHLCV_DIR folder (OPERATIONS.md, Training).

  .venv/bin/python scripts/train.py --data-dir DIR --timeframe 1h --end 2025-07-01 --profile default --models all

`--timeframe default` trains 1h, 4h and 1d, each with its default horizons (1h: 1,4,24; 4h: 1,6; 1d: 1,7);
`--timeframe all` every timeframe the folder has candles for (15m 1,4,16; 30m 1,2,8; 2h 1,3,12 from 1h;
1w 1,4: boosters only where the history is too short for the networks).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from coinpredict.common.files import write_atomic_text
from coinpredict.config import Settings
from coinpredict.data.sources.csvdir import CsvFolderSource
from coinpredict.data.timeframes import DEFAULT_HORIZONS, TIMEFRAMES
from coinpredict.models.registry import resolve_ids
from coinpredict.training.pipeline import PROFILES, PROMOTE_POLICIES, summary_table, train_models


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", required=True, type=Path, help="folder laid out as <timeframe>/<SYMBOL>.csv")
    ap.add_argument("--timeframe", default="1h", type=timeframes,
                    help=f"one of {', '.join(TIMEFRAMES)}, a comma-separated list, 'default' "
                         f"({', '.join(DEFAULT_HORIZONS)}) or 'all' (every timeframe the folder has)")
    ap.add_argument("--end", required=True, help="exclusive: no candle at or after this time is used")
    ap.add_argument("--start", default=None)
    ap.add_argument("--profile", default="default", choices=sorted(PROFILES))
    ap.add_argument("--models", default="all", help="'all' or comma-separated ids")
    ap.add_argument("--symbols", default=None, help="comma-separated symbols (default: every file)")
    ap.add_argument("--horizon", type=horizons, default=None,
                    help="comma-separated candles ahead, one output each (default: the timeframe's default horizons)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--placebo", action="store_true", help="train on shuffled labels (a leak check)")
    ap.add_argument("--models-dir", type=Path, default=None, help="overrides MODELS_DIR")
    ap.add_argument("--promote", default="always", choices=PROMOTE_POLICIES,
                    help="serve the new versions always (default), only if_better than the serving ones on recent "
                         "candles, or never")
    ap.add_argument("--no-promote", dest="promote", action="store_const", const="never",
                    help="keep the served versions (same as --promote never)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"), format="%(asctime)s %(levelname)s %(message)s")
    try:
        ids = resolve_ids(args.models)
    except ValueError as exc:
        ap.error(str(exc))
    if not args.data_dir.is_dir():
        ap.error(f"--data-dir {args.data_dir} is not a folder")
    models_dir = args.models_dir or Settings.from_env().models_dir
    if args.timeframe == ["all"]:
        args.timeframe = CsvFolderSource(args.data_dir).trainable_timeframes()
        if not args.timeframe:
            ap.error(f"--data-dir {args.data_dir} holds no candle file of any timeframe")
    started = time.time()
    for timeframe in args.timeframe:
        results = train_models(data_dir=args.data_dir, timeframe=timeframe, end=args.end, start=args.start,
                               models_dir=models_dir, profile=args.profile, model_ids=ids, horizons=args.horizon,
                               symbols=args.symbols.split(",") if args.symbols else None, seed=args.seed,
                               shuffle_labels=args.placebo, promote=args.promote)
        meta = results.meta()
        print(f"\ntrained {len(results)} models for {timeframe} (horizons {meta['horizons']}) in "
              f"{meta['seconds']:.0f}s -> {models_dir}")
        print(f"train {meta['train'][0]} .. {meta['train'][1]} ({meta['n_train']} windows), "
              f"valid {meta['valid'][0]} .. {meta['valid'][1]} ({meta['n_valid']})")
        print(summary_table(results))
        if results.move is not None:
            move = results.move
            r2 = ", ".join(f"h{h} {m['r2_log_move']:.3f}" for h, m in move.validation_by_horizon.items())
            print(f"move {move.version} ({'served' if move.promoted else 'not served'}: {move.gate.get('basis')}); "
                  f"validation R2 of the log move: {r2}")
        for model_id, why in results.skipped.items():
            print(f"{model_id}: not trained ({why})")
        write_atomic_text(Path(models_dir) / timeframe / "last_training.json",
                          json.dumps(results.to_dict(), indent=1, default=float))
    if len(args.timeframe) > 1:
        print(f"\nall timeframes trained in {time.time() - started:.0f}s")
    return 0


def timeframes(text: str) -> list[str]:
    """'default', 'all', one timeframe or a comma-separated list -> timeframes in order ('all' is resolved
    against the folder once it is known)."""
    if text.strip() == "all":
        return ["all"]
    names = list(DEFAULT_HORIZONS) if text.strip() == "default" else [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in names if t not in TIMEFRAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown timeframe {', '.join(unknown) or text!r}; use "
                                         f"{', '.join(TIMEFRAMES)}, a comma-separated list, 'default' or 'all'")
    return names


def horizons(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"horizons are positive integers, got {text!r}") from None
    if not values or min(values) < 1 or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"horizons are distinct positive integers, got {text!r}")
    return values


if __name__ == "__main__":
    sys.exit(main())
