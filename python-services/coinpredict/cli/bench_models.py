"""Model inference, memory and size (issue targets, 2 cores):
- batch of 1: <= 5 ms p50 per neural model; batch of 100: <= 40 ms
- all 19 loaded: <= 1.5 GB resident; all artifacts together: <= 150 MB
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models-dir", type=Path, default=None)
    ap.add_argument("--timeframe", default="1h")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (serving uses 1)")
    args = ap.parse_args()
    import numpy as np
    import torch

    from coinpredict.config import Settings
    from coinpredict.models.registry import MODEL_IDS
    from coinpredict.serving import ModelStore

    torch.set_num_threads(args.threads)
    models_dir = args.models_dir or Settings.from_env().models_dir
    before = rss_mb()
    store = ModelStore(models_dir).load_all()
    loaded_mb = rss_mb()
    size_mb = sum(p.stat().st_size for p in Path(models_dir).rglob("*") if p.is_file()) / 2**20
    print(f"loaded {store.counts()} from {models_dir}: process RSS {loaded_mb:.0f} MB "
          f"(+{loaded_mb - before:.0f} MB for the models); artifacts on disk {size_mb:.1f} MB")
    rng = np.random.default_rng(0)
    print(f"{'model':<24}{'p50 batch 1 (ms)':>18}{'p50 batch 100 (ms)':>20}")
    ok = loaded_mb <= 1536 and size_mb <= 150
    for model_id in MODEL_IDS:
        entry = store.get(args.timeframe, model_id)
        if entry.status != "ready":
            print(f"{model_id:<24}{entry.status}")
            continue
        n_in = entry.model.n_features_in_
        window = entry.manifest.window

        timings = {}
        for n in (1, 100):
            shape = (n, window, n_in) if entry.model.input_kind == "sequence" else (n, n_in)
            x = rng.standard_normal(shape).astype(np.float32)
            entry.model.predict_proba(x)
            runs = []
            for _ in range(30 if n == 1 else 10):
                t0 = time.perf_counter()
                entry.model.predict_proba(x)
                runs.append((time.perf_counter() - t0) * 1000)
            timings[n] = statistics.median(runs)
        neural = entry.model.input_kind == "sequence"
        good = not neural or (timings[1] <= 5 and timings[100] <= 40)
        ok &= good
        print(f"{model_id:<24}{timings[1]:>18.2f}{timings[100]:>20.2f}  {'' if good else 'over target'}")
    print(f"targets: neural batch 1 <= 5 ms, batch 100 <= 40 ms; all loaded <= 1536 MB; artifacts <= 150 MB: "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
