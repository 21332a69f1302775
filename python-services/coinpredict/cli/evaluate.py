"""Score the trained models out of sample (OPERATIONS.md, Evaluation); never trains.

  .venv/bin/python scripts/evaluate.py --data-dir DIR --timeframe 1h --start 2025-01-01 --end 2025-07-01 --out DIR
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from coinpredict.config import Settings
from coinpredict.data.timeframes import TIMEFRAMES
from coinpredict.evaluation.runner import evaluate
from coinpredict.models.registry import resolve_ids
from coinpredict.serving import ModelStore, Predictor


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", required=True, type=Path)
    ap.add_argument("--timeframe", default="1h", choices=TIMEFRAMES)
    ap.add_argument("--start", required=True)
    ap.add_argument("--end", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--symbols", default=None)
    ap.add_argument("--models", default="all")
    ap.add_argument("--fee-bps", type=float, default=None, help="fee per side (default: FEE_BPS, else 10)")
    ap.add_argument("--audit-samples", type=int, default=24)
    ap.add_argument("--horizon", type=int, default=1, help="which trained horizon to score (candles ahead)")
    ap.add_argument("--models-dir", type=Path, default=None, help="overrides MODELS_DIR")
    ap.add_argument("--predictions", action="store_true", help="also write every row's probabilities "
                                                                "(predictions.csv in --out)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"), format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    models_dir = args.models_dir or settings.models_dir
    fee_bps = settings.fee_bps if args.fee_bps is None else args.fee_bps
    store = ModelStore(models_dir).load_all()
    report = evaluate(data_dir=args.data_dir, timeframe=args.timeframe, start=args.start, end=args.end,
                      models_dir=models_dir, out_dir=args.out, store=store,
                      serve=Predictor.offline(store, args.data_dir).probability,
                      symbols=args.symbols.split(",") if args.symbols else None,
                      model_ids=resolve_ids(args.models), fee_bps=fee_bps,
                      audit_samples=args.audit_samples, horizon=args.horizon,
                      write_predictions=args.predictions)
    print(f"{report['n_rows']} predictions, {len(report['symbols'])} symbols, {report['seconds']}s; "
          f"audit: {report['audit']['checked']} re-predictions, no mismatch")
    print(f"{'model':<26}{'AUC':>8}{'acc':>8}{'logloss':>9}{'p':>9}{'Sharpe':>8}{'ret net':>9}")
    rows = sorted(report["models"].items(), key=lambda kv: -kv[1]["auc"]) + \
        [(f"[{k}]", v) for k, v in report["baselines"].items()]
    for name, m in rows:
        print(f"{name:<26}{m['auc']:>8.4f}{m['accuracy']:>8.4f}{m['log_loss']:>9.4f}{m['p_value']:>9.1e}"
              f"{m['backtest']['sharpe_net']:>8.2f}{m['backtest']['return_net']:>+9.1%}")
    print(f"report: {args.out / 'report.md'}; published for the service (GET /evaluation): "
          f"{models_dir / args.timeframe / 'reports' / f'h{args.horizon}'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
