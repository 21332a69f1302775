#!/usr/bin/env python
"""Train models on an OHLCV_DIR folder (OPERATIONS.md, Training).

  .venv/bin/python scripts/train.py --data-dir DIR --timeframe 1h --end 2025-07-01 --profile default --models all
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python-services"))

from coinpredict.config import Settings  # noqa: E402
from coinpredict.data.timeframes import TIMEFRAMES  # noqa: E402
from coinpredict.models.registry import resolve_ids  # noqa: E402
from coinpredict.training.pipeline import PROFILES, summary_table, train_models  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", required=True, type=Path, help="folder laid out as <timeframe>/<SYMBOL>.csv")
    ap.add_argument("--timeframe", default="1h", choices=TIMEFRAMES)
    ap.add_argument("--end", required=True, help="exclusive: no candle at or after this time is used")
    ap.add_argument("--start", default=None)
    ap.add_argument("--profile", default="default", choices=sorted(PROFILES))
    ap.add_argument("--models", default="all", help="'all' or comma-separated ids")
    ap.add_argument("--symbols", default=None, help="comma-separated symbols (default: every file)")
    ap.add_argument("--horizon", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--placebo", action="store_true", help="train on shuffled labels (a leak check)")
    ap.add_argument("--models-dir", type=Path, default=None, help="overrides MODELS_DIR")
    args = ap.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"), format="%(asctime)s %(levelname)s %(message)s")
    try:
        ids = resolve_ids(args.models)
    except ValueError as exc:
        ap.error(str(exc))
    if not args.data_dir.is_dir():
        ap.error(f"--data-dir {args.data_dir} is not a folder")
    models_dir = args.models_dir or Settings.from_env().models_dir
    started = time.time()
    results = train_models(data_dir=args.data_dir, timeframe=args.timeframe, end=args.end, start=args.start,
                           models_dir=models_dir, profile=args.profile, model_ids=ids, horizon=args.horizon,
                           symbols=args.symbols.split(",") if args.symbols else None, seed=args.seed,
                           shuffle_labels=args.placebo)
    meta = results.pop("_meta")
    print(f"\ntrained {len(results)} models for {args.timeframe} in {time.time() - started:.0f}s -> {models_dir}")
    print(f"train {meta['train'][0]} .. {meta['train'][1]} ({meta['n_train']} windows), "
          f"valid {meta['valid'][0]} .. {meta['valid'][1]} ({meta['n_valid']})")
    print(summary_table(results))
    (Path(models_dir) / args.timeframe).mkdir(parents=True, exist_ok=True)
    (Path(models_dir) / args.timeframe / "last_training.json").write_text(json.dumps({"meta": meta, **results},
                                                                                     indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
