"""A training job on one worker against the same job on two (issue 25's target: two workers finish in
at most 0.65 of one worker's time), each worker pinned to one core with ``taskset``.

Each run starts its workers (the worker command, ``taskset -c <core>``, one thread per library) on
fresh job records, queue and MODELS_DIR, submits one job as the web would, and times it from submit
to its end (the job's own start-to-end seconds are printed too). The default is the default profile's
1h job over every model on the shared candles: about 15 minutes on one core; ``--models``, ``--start``
and ``--profile`` measure a documented smaller job (say which one you report).

    scripts/bench_fanout.py                              # the target's measurement
    scripts/bench_fanout.py --profile smoke --models lightgbm,xgboost,ensemble   # a quick check
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.65
WORKER = Path(__file__).resolve().parents[3] / "scripts" / "worker.py"
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "ORT_THREADS")}


def start_worker(core: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    """The worker command pinned to ``core``, in its own session (stopped with its group)."""
    with open(log, "ab") as out:
        return subprocess.Popen(["taskset", "-c", str(core), sys.executable, str(WORKER)], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def run_job(n_workers: int, cores: list[int], params: dict, args: argparse.Namespace) -> dict:
    """One job on ``n_workers`` pinned workers; its record once ended, with ``wall_s`` (submit to end)."""
    from coinpredict.config import Settings
    from coinpredict.jobs import JobQueue
    from coinpredict.launch import stop_group

    root = Path(tempfile.mkdtemp(prefix=f"bench-fanout-{n_workers}w-"))
    settings = Settings(ohlcv_dir=args.data_dir, models_dir=root / "models", offline=True,
                        database_url=f"sqlite:///{root / 'jobs.sqlite'}", queue_path=root / "queue.sqlite",
                        job_stale_s=args.stale_s)
    env = {**os.environ, **ONE_THREAD, "OHLCV_DIR": str(args.data_dir), "MODELS_DIR": str(settings.models_dir),
           "OFFLINE": "1", "DATABASE_URL": settings.database_url, "QUEUE_PATH": str(settings.queue_path),
           "JOB_STALE_S": str(args.stale_s), "RETRAIN_EVERY": "off", "LOG_LEVEL": "WARNING"}
    queue = JobQueue(settings)
    workers = [start_worker(cores[k % len(cores)], env, root / f"worker-{k}.log") for k in range(n_workers)]
    try:
        time.sleep(args.warmup_s)  # the workers import their libraries before the clock starts
        started = time.time()
        job = queue.submit("train", args.timeframe, params)
        while (job := queue.store.get(job["id"]))["status"] in ("queued", "running"):
            if time.time() - started > args.timeout_s:
                raise SystemExit(f"the job on {n_workers} worker(s) did not end within {args.timeout_s:.0f} s")
            time.sleep(1.0)
        job["wall_s"] = time.time() - started
    finally:
        for proc in workers:
            stop_group(proc)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if job["status"] != "succeeded":
        raise SystemExit(f"the job on {n_workers} worker(s) ended {job['status']}: {job['error']}")
    return job


def main() -> int:
    from coinpredict.data.origin import SHARED_OHLCV

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path(os.environ.get("OHLCV_DIR", SHARED_OHLCV)))
    ap.add_argument("--timeframe", default="1h")
    ap.add_argument("--profile", default="default")
    ap.add_argument("--models", default="all", help="comma-separated model ids (default: all, the ensemble, move)")
    ap.add_argument("--start", default=None, help="train from this date only (a smaller job)")
    ap.add_argument("--end", default=None, help="training end (default: the newest candle)")
    ap.add_argument("--cores", default="0,1", help="the cores the workers are pinned to, one each")
    ap.add_argument("--warmup-s", type=float, default=10.0)
    ap.add_argument("--stale-s", type=float, default=120.0, help="JOB_STALE_S of the workers (a loaded machine)")
    ap.add_argument("--timeout-s", type=float, default=7200.0)
    ap.add_argument("--keep", action="store_true", help="keep each run's folder (logs, models) under /tmp")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    if shutil.which("taskset") is None:
        raise SystemExit("taskset (util-linux) is needed to pin each worker to one core")
    cores = [int(c) for c in args.cores.split(",")]
    params = {"models": "all" if args.models == "all" else args.models.split(","), "profile": args.profile,
              "promote": "always", **({"start": args.start} if args.start else {}),
              **({"end": args.end} if args.end else {})}
    print(f"job: {args.timeframe} {json.dumps(params)} on {args.data_dir}; workers pinned to cores {cores}")
    figures = {}
    for n in (1, 2):
        job = run_job(n, cores, params, args)
        figures[n] = {"wall_s": round(job["wall_s"], 1), "job_s": round(job["finished_at"] - job["started_at"], 1),
                      "workers": len(set(job["result"].get("workers", {}).values()))}
        print(f"{n} worker(s): {figures[n]['wall_s']:.1f} s from submit to end ({figures[n]['job_s']:.1f} s running), "
              f"tasks ran on {figures[n]['workers']} worker(s)")
    ratio = figures[2]["wall_s"] / figures[1]["wall_s"]
    met = ratio <= TARGET
    print(f"two workers / one worker: {ratio:.3f} (target <= {TARGET}): {'met' if met else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps({"params": params, "timeframe": args.timeframe, "cores": cores,
                                         "runs": figures, "ratio": round(ratio, 3), "target": TARGET}, indent=1))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
