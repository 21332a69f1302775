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

from coinpredict.config import REPO_ROOT
from coinpredict.data.ingest import ingest_folder
from coinpredict.data.sources.synthetic import SyntheticSource
from coinpredict.data.store import CandleStore
from coinpredict.data.universe import BUNDLED_TOP100
from coinpredict.features.catalogue import catalogue
from coinpredict.features.default import default_feature_set

DEFAULT_DIR = REPO_ROOT.parent / "shared" / "data" / "ohlcv"


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
