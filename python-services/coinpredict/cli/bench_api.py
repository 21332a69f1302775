"""HTTP speed through the real gunicorn server (the Procfile line) on loopback (issue targets):
- /predict/single one model p50 <= 15 ms; ensemble of all 19 p50 <= 60 ms
- /predict/batch with 100 items <= 1 s; /predict/top100 with the ensemble, warm, <= 2 s
- 16 concurrent clients for 60 s: no errors, no memory growth; serving processes <= 2 GB
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from coinpredict.common import clock
from coinpredict.config import REPO_ROOT as REPO
from coinpredict.data.sources.csvdir import CsvFolderSource
from coinpredict.launch import procfile_server

DEFAULT_DATA = REPO.parent / "shared" / "data" / "ohlcv"


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn master and workers)."""
    total = 0
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
                    .stdout.split()]
    for p in list(pids):
        pids += [int(c) for c in subprocess.run(["pgrep", "-P", str(p)], capture_output=True, text=True).stdout.split()
                 if int(c) not in pids]
    for p in set(pids):
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def p50(fn, n: int) -> float:
    runs = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--models-dir", type=Path, default=Path(os.environ.get("MODELS_DIR", REPO / "models")))
    ap.add_argument("--soak-seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, default=16)
    args = ap.parse_args()
    # The service's clock half an hour after the folder's newest 1h candle closed: its candles are current,
    # as they are in live operation (top100 would otherwise skip every symbol as stale).
    newest = max(CsvFolderSource(args.data_dir).fetch(s, "1h").last_close_time_ms
                 for s in CsvFolderSource(args.data_dir).symbols("1h"))
    env = {"OHLCV_DIR": str(args.data_dir), "MODELS_DIR": str(args.models_dir), "OFFLINE": "1",
           "LOG_LEVEL": "WARNING", "CLOCK": clock.spec(newest / 1000 + 1800, time.time(), 1)}
    ok = True
    with procfile_server(env, start_timeout=120) as (base, proc):
        session = requests.Session()
        symbols = [p.stem for p in sorted((args.data_dir / "1h").glob("*.csv"))]
        for s in symbols:  # warm both workers' candle caches
            for _ in range(2):
                session.post(f"{base}/predict/single", json={"symbol": s, "model": "xgboost"})

        def single(model):
            r = session.post(f"{base}/predict/single", json={"symbol": "ADAUSDT", "model": model})
            assert r.status_code == 200, r.text

        items = [{"symbol": symbols[i % len(symbols)], "model": "ensemble" if i % 2 else "gru_standard"}
                 for i in range(100)]

        def batch():
            r = session.post(f"{base}/predict/batch", json={"items": items})
            assert r.status_code == 200 and not any("error" in x for x in r.json()["results"]), r.text[:300]

        def top():
            r = session.get(f"{base}/predict/top100", params={"model": "ensemble"})
            assert r.status_code == 200, r.text

        figures = [("single, gru_attention, p50 ms", p50(lambda: single("gru_attention"), 200), 15),
                   ("single, lightgbm, p50 ms", p50(lambda: single("lightgbm"), 200), 15),
                   ("single, ensemble of 19, p50 ms", p50(lambda: single("ensemble"), 100), 60),
                   ("batch of 100 items, p50 ms", p50(batch, 10), 1000),
                   ("top100 with the ensemble, warm, p50 ms", p50(top, 10), 2000)]
        rss_start = tree_rss_mb(proc.pid)
        errors, done = [], [0]
        stop = time.time() + args.soak_seconds

        def client(i):
            s = requests.Session()
            while time.time() < stop:
                model = ("ensemble", "gru_attention", "xgboost", "cnn_tcn")[i % 4]
                try:
                    r = s.post(f"{base}/predict/single", json={"symbol": symbols[i % len(symbols)], "model": model},
                               timeout=30)
                    if r.status_code != 200:
                        errors.append(r.status_code)
                except requests.RequestException as exc:
                    errors.append(str(exc))
                done[0] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        samples = []  # RSS every tenth of the soak: warm-up growth first, then it must level off
        while any(t.is_alive() for t in threads):
            time.sleep(args.soak_seconds / 10)
            samples.append(tree_rss_mb(proc.pid))
        for t in threads:
            t.join()
        rss_end = tree_rss_mb(proc.pid)
        half = samples[len(samples) // 2] if samples else rss_start
        print(f"{'measure':<44}{'value':>10}{'target':>10}  ok")
        for name, value, target in figures:
            print(f"{name:<44}{value:>10.1f}{target:>10}  {'yes' if value <= target else 'NO'}")
            ok &= value <= target
        print(f"soak: {args.clients} clients x {args.soak_seconds:.0f}s: {done[0]} requests "
              f"({done[0] / args.soak_seconds:.0f}/s), {len(errors)} errors; serving RSS MB: start {rss_start:.0f}, "
              f"samples {[round(x) for x in samples]}, end {rss_end:.0f} (target <= 2048, flat in the second half)")
        ok &= not errors and rss_end <= 2048 and rss_end <= half * 1.03
    print("all targets met" if ok else "SOME TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
