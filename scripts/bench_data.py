#!/usr/bin/env python
"""Data and feature speed (issue targets, 2 cores):
- load every file of the shared candle folder into a fresh store: <= 60 s; again, nothing new: <= 10 s
- the last 500 candles of 100 symbols from the store: <= 100 ms
- default features for 100 symbols x 500 candles: <= 300 ms
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python-services"))

from coinpredict.data.ingest import ingest_folder  # noqa: E402
from coinpredict.data.sources.synthetic import SyntheticSource  # noqa: E402
from coinpredict.data.store import CandleStore  # noqa: E402
from coinpredict.data.universe import BUNDLED_TOP100  # noqa: E402
from coinpredict.features.catalogue import catalogue  # noqa: E402
from coinpredict.features.default import default_feature_set  # noqa: E402

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "ohlcv"


def timed(fn, repeat: int = 1):
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - t0)
    return out, statistics.median(runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if (args.data_dir / "1h").is_dir():
            store = CandleStore(Path(tmp) / "bench.sqlite")
            summary, first = timed(lambda: ingest_folder(store, args.data_dir))
            _, again = timed(lambda: ingest_folder(store, args.data_dir))
            results += [(f"ingest {summary['files']} files, {summary['inserted']:,} candles", first, 60.0),
                        ("ingest again, nothing new", again, 10.0)]
        else:
            print(f"(no candle folder at {args.data_dir}: skipping the ingest figures)")
        symbols = [f"{c}USDT" for c in BUNDLED_TOP100]
        synthetic = SyntheticSource(symbols, clock=lambda: 1_750_000_000)
        store100 = CandleStore(Path(tmp) / "hundred.sqlite")
        for s in symbols:
            store100.upsert(synthetic.fetch(s, "1h").last(2000))
        candles, read_s = timed(lambda: store100.read_many(symbols, "1h", 500), repeat=7)
        results.append(("read last 500 candles x 100 symbols", read_s, 0.100))
        fs = default_feature_set("1h")
        catalogue()  # built once per process, at start-up
        _, feat_s = timed(lambda: [fs.compute(c) for c in candles.values()], repeat=7)
        results.append((f"default features ({len(fs)}) x 100 symbols x 500 candles", feat_s, 0.300))
    print(f"{'measure':<58}{'seconds':>10}{'target':>10}  ok")
    ok = True
    for name, secs, target in results:
        print(f"{name:<58}{secs:>10.3f}{target:>10.3f}  {'yes' if secs <= target else 'NO'}")
        ok &= secs <= target
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
