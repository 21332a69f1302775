"""Replay live operation on real candles, months in minutes: the proof that the live service works.

A loopback exchange (``replay_exchange.py``) serves a candle folder hour by hour on an accelerated clock
(``CLOCK``, shared by every process). The Procfile's web and worker lines run against it from an empty
store: the worker ingests each new candle, scores outcomes and runs the scheduled retraining with its
gate; clients send a steady stream of single, batch and top-100 requests, each checked to be answered
from candles at most one period old. At the end the ledger's live AUC of every model version is set
beside what ``evaluate.py`` computes with that version on the same candles (``replay_agreement.py``).
With ``--strategies`` the worker also trades a ``signal`` and a ``topk`` strategy on paper over the replayed
days, and ``scripts/backtest.py``'s engine over the same candles and model versions must give the same
trades and equity to 1e-6 of capital (``replay_strategies.py``).

    .venv/bin/python scripts/replay.py --data-dir ../shared/data/ohlcv --start 2025-05-01 --days 30
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import requests

from coinpredict.common import clock
from coinpredict.common.times import to_ms
from coinpredict.models.registry import MODEL_IDS

from .dashboard_tour import tour
from .replay_agreement import agreement, print_agreement
from .replay_cluster import LeaderKill, missing_candles, start_processes, unscored
from .replay_exchange import ReplayExchange
from .replay_strategies import check_strategies, create_strategies, print_strategies

H_S = 3600


class Traffic:
    """Client threads sending requests until ``stop``; every answer's age is checked against one period."""

    def __init__(self, base: str, symbols: list[str], stop: threading.Event):
        self.base, self.symbols, self.stop = base, symbols, stop
        self.counts = {"requests": 0, "answers": 0, "errors": 0, "too_old": 0, "stale": 0}
        self.worst_age_s = 0.0
        self.examples: list[str] = []
        self._lock = threading.Lock()

    def _check(self, answers: list[dict]) -> None:
        with self._lock:
            for a in answers:
                if "error" in a:
                    self.counts["errors"] += 1
                    self._example(f"item error: {a['error']}")
                    continue
                self.counts["answers"] += 1
                age = a.get("last_candle_age_s") or 0.0
                self.worst_age_s = max(self.worst_age_s, age)
                if age > H_S:
                    self.counts["too_old"] += 1
                    self._example(f"{a['symbol']} as_of {a['as_of']}: candle {age:.0f} s old")
                self.counts["stale"] += bool(a.get("data_stale"))

    def _example(self, text: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(text)

    def _call(self, method: str, path: str, **kw) -> dict | None:
        with self._lock:
            self.counts["requests"] += 1
        try:
            resp = requests.request(method, f"{self.base}{path}", timeout=30, **kw)
        except requests.RequestException as exc:
            with self._lock:
                self.counts["errors"] += 1
                self._example(f"{path}: {exc}")
            return None
        if resp.status_code != 200:
            with self._lock:
                self.counts["errors"] += 1
                self._example(f"{path}: HTTP {resp.status_code} {resp.text[:200]}")
            return None
        return resp.json()

    def ranking(self) -> None:
        """The ensemble's top-100 over and over: every symbol and every member recorded each hour."""
        while not self.stop.is_set():
            body = self._call("GET", "/predict/top100?model=ensemble&limit=100")
            if body:
                self._check(body["results"])

    def singles(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self.stop.is_set():
            if rng.random() < 0.2:
                items = [{"symbol": rng.choice(self.symbols), "model": rng.choice(MODEL_IDS)} for _ in range(5)]
                body = self._call("POST", "/predict/batch", json={"items": items})
                if body:
                    self._check(body["results"])
            else:
                body = self._call("POST", "/predict/single", json={"symbol": rng.choice(self.symbols),
                                                                   "model": rng.choice(MODEL_IDS)})
                if body:
                    self._check([body])
            time.sleep(0.02)


def train_initial(data_dir: Path, models_dir: Path, end: str, profile: str, symbols: list[str]) -> None:
    from coinpredict.training.pipeline import train_models

    print(f"training the {profile} profile on candles before {end}")
    subset = models_dir.parent / "train-candles" / "1h"
    subset.mkdir(parents=True, exist_ok=True)
    for s in symbols:
        shutil.copyfile(data_dir / "1h" / f"{s}.csv", subset / f"{s}.csv")
    train_models(data_dir=subset.parent, timeframe="1h", end=end, models_dir=models_dir, profile=profile,
                 horizons=(1,))


def trading_symbols(data_dir: Path, start_ms: int, end_ms: int) -> list[str]:
    """The folder's 1h symbols with candles from a thousand hours before the start to the end (a coin
    delisted before then would only be a 404 for every request)."""
    from coinpredict.data.sources.csvdir import CsvFolderSource

    source = CsvFolderSource(data_dir)
    return [s for s in source.symbols("1h") if (c := source.fetch(s, "1h")).t[0] <= start_ms - 1000 * 3_600_000
            and c.t[-1] >= end_ms]


def merged_counts(traffic: list[Traffic]) -> dict[str, int]:
    return {k: sum(t.counts[k] for t in traffic) for k in traffic[0].counts}


def wait_until(sim_ms: int, poll_s: float = 0.05) -> None:
    while clock.now_ms() < sim_ms:
        time.sleep(poll_s)


def jobs_of(base: str) -> list[dict]:
    return requests.get(f"{base}/jobs", timeout=10).json()["jobs"]


def run(args) -> dict:
    work = Path(args.work or tempfile.mkdtemp(prefix="replay-"))
    models = work / "models"
    start_ms, end_ms = to_ms(args.start), to_ms(args.start) + args.days * 86_400_000
    symbols = args.symbols.split(",") if args.symbols else trading_symbols(args.data_dir, start_ms, end_ms)
    if args.models_dir:
        shutil.copytree(args.models_dir, models)
    elif not models.is_dir():
        train_initial(args.data_dir, models, args.start, args.profile, symbols)
    speed = args.days * 86_400 / (args.minutes * 60)
    origin = time.time() + args.lead_s  # the processes start before the clock reaches --start
    spec = clock.spec(start_ms / 1000, origin, speed)
    clock.use(clock.parse(spec))
    exchange = ReplayExchange(args.data_dir, symbols)
    url = exchange.start()
    database_url = args.database_url or f"sqlite:///{work / 'ledger.sqlite'}"
    env = {"CLOCK": spec, "EXCHANGE_URL": url, "UNIVERSE_URL": "http://127.0.0.1:9/none", "MODELS_DIR": str(models),
           "STORE_PATH": str(work / "candles.sqlite"), "DATABASE_URL": database_url,
           "QUEUE_PATH": str(work / "queue.sqlite"), "WORKER_TICK_S": "0.1", "MODELS_POLL_S": "0.5",
           "RETRAIN_EVERY": args.retrain_every, "LOG_LEVEL": "WARNING"}
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    for key in ("OHLCV_DIR", "OFFLINE", "SYNTHETIC", "API_KEY", "REDIS_URL", "WORKER_LIVE"):
        if key not in env:
            os.environ.pop(key, None)
    if args.fee_bps is not None:
        env["FEE_BPS"] = str(args.fee_bps)
    if args.strategies:  # created before the processes start, at the replay's start: its first close is theirs
        env["STRATEGY_LATE_CANDLES"] = "3"  # a loaded machine may fetch a candle late; a skip fails the check
        create_strategies(database_url, symbols, start_ms / 1000)
    print(f"replaying {args.days} days from {args.start} at {speed:.0f}x (an hour every {H_S / speed:.2f} s) "
          f"for {len(symbols)} symbols on {args.webs} web master(s) and {args.workers} worker(s); work folder {work}")
    stop = threading.Event()
    launched_ms = clock.now_ms()
    kill = None
    if args.kill_leader_after_h is not None:
        kill = LeaderKill(start_ms + int(args.kill_leader_after_h * H_S * 1000), database_url, args.redis_url)
    with ExitStack() as processes:
        bases = start_processes(processes, env, args.webs, args.workers, work)
        base = bases[0]
        wait_until(start_ms)
        if kill is not None:
            kill.start()
        began = time.time()
        traffic = [Traffic(b, symbols, stop) for b in bases]
        threads = [threading.Thread(target=traffic[0].ranking, daemon=True)] + \
                  [threading.Thread(target=traffic[i % len(bases)].singles, args=(i,), daemon=True)
                   for i in range(max(args.clients, len(bases)))]
        for t in threads:
            t.start()
        wait_until(end_ms)
        stop.set()
        for t in threads:
            t.join(30)
        replay_s = time.time() - began
        wait_until(end_ms + 3 * 3_600_000)  # the last forecasts' outcome candles close and are scored
        deadline = time.time() + args.job_wait_s
        while any(j["status"] in ("queued", "running") for j in jobs_of(base)) and time.time() < deadline:
            time.sleep(1)
        jobs = jobs_of(base)
        # The dashboard over what the replay left: its models, served forecasts and their outcomes.
        problems = tour(base, Path(args.shots)) if args.shots else []
        live = {m: requests.get(f"{base}/models/{m}/status", timeout=10).json().get("live")
                for m in (*MODEL_IDS, "ensemble")}
    exchange.stop()
    result = {"replay_s": round(replay_s, 1), "speed": round(speed), "traffic": merged_counts(traffic),
              "worst_age_s": max(t.worst_age_s for t in traffic), "examples": [e for t in traffic for e in t.examples],
              "jobs": jobs, "live": live, "leader_kill": kill.result if kill is not None else None,
              "unscored": unscored(database_url, start_ms, end_ms),
              "missing_candles": missing_candles(database_url, work / "candles.sqlite", symbols, start_ms, end_ms),
              "exchange_calls": exchange.calls, "work": str(work), "symbols": symbols, "start_ms": start_ms,
              "end_ms": end_ms, "retrain_every": args.retrain_every, "dashboard_problems": problems,
              "simulated_hours": round((clock.now_ms() - launched_ms) / 3_600_000, 1)}
    (work / "replay.json").write_text(json.dumps(result, indent=1, default=str))  # kept if the check fails
    result["agreement"] = agreement(database_url, models, args.data_dir, symbols, start_ms, end_ms)
    if args.strategies:
        from coinpredict.config import Settings

        fee = args.fee_bps if args.fee_bps is not None else Settings.from_env().fee_bps
        result["strategies"] = check_strategies(database_url, models, args.data_dir, end_ms, fee)
    return result


def report(result: dict, days: int) -> int:
    t = result["traffic"]
    print(f"\n{days} simulated days in {result['replay_s']} s ({result['speed']}x); {t['requests']} requests, "
          f"{t['answers']} answers, {t['errors']} errors; worst candle age {result['worst_age_s']:.0f} s, "
          f"{t['too_old']} answers from candles older than one period, {t['stale']} marked stale")
    for example in result["examples"]:
        print(f"  e.g. {example}")
    print(f"exchange calls: {result['exchange_calls']}")
    scheduled = [j for j in result["jobs"] if j["params"].get("scheduled")]
    for j in scheduled:
        gate = (j.get("result") or {}).get("gate") or {}
        promoted = (j.get("result") or {}).get("promoted") or []
        print(f"retraining {j['id']} ({j['params']['data']}, end {j['params']['end']}): {j['status']}, "
              f"{len(promoted)} promoted of {len(gate)} gated")
    kill = result["leader_kill"]
    if kill is not None:
        print(f"leader kill: {kill}")
    lost = {s: n for s, n in result["missing_candles"].items() if n}
    print(f"candles missing from the store: {lost or 'none'}; forecasts left unscored: {result['unscored']}")
    print_agreement(result["agreement"], result["live"])
    worst = max((abs(r["auc_diff"]) for r in result["agreement"] if r["auc_diff"] is not None), default=None)
    retrained = result["retrain_every"] == "off" or any(j["status"] == "succeeded" for j in scheduled)
    for problem in result["dashboard_problems"]:
        print(f"dashboard: {problem}")
    print_strategies(result.get("strategies", []))
    ok = (t["errors"] == 0 and t["too_old"] == 0 and retrained and worst is not None and worst <= 1e-6
          and not result["dashboard_problems"] and not lost and result["unscored"] == 0
          and (kill is None or (kill.get("takeover_s") is not None and kill["takeover_s"] <= 30))
          and all(r["ok"] for r in result.get("strategies", [])))
    print("REPLAY OK" if ok else "REPLAY FAILED: see above")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, required=True, help="candle folder the exchange serves (1h files)")
    ap.add_argument("--start", required=True, help="simulated start (ISO); models are trained on candles before it")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--minutes", type=float, default=8.0, help="wall minutes the simulated days take")
    ap.add_argument("--symbols", default=None, help="comma-separated; default every 1h file of --data-dir")
    ap.add_argument("--models-dir", type=Path, default=None, help="start from a copy of these models (else train)")
    ap.add_argument("--profile", default="smoke", help="training profile of the initial models")
    ap.add_argument("--retrain-every", default="1h=240h")
    ap.add_argument("--clients", type=int, default=2, help="threads sending single and batch requests")
    ap.add_argument("--lead-s", type=float, default=25.0, help="wall seconds for the processes to start")
    ap.add_argument("--job-wait-s", type=float, default=300.0, help="how long to wait for a running job at the end")
    ap.add_argument("--shots", default=None, help="walk the dashboard at the end, screenshots into this folder")
    ap.add_argument("--strategies", action="store_true", help="also trade a signal and a topk strategy live and "
                    "check them against scripts/backtest.py's engine")
    ap.add_argument("--fee-bps", type=float, default=None, help="the service's FEE_BPS (the served signal's cost)")
    ap.add_argument("--work", default=None, help="work folder (default: a new temporary one)")
    ap.add_argument("--json", type=Path, default=None, help="also write the result here")
    ap.add_argument("--webs", type=int, default=1, help="web masters (machines), each with its own metrics")
    ap.add_argument("--workers", type=int, default=1, help="worker processes; one leads the live duties")
    ap.add_argument("--database-url", default=None, help="the deployment's database (default: SQLite in --work)")
    ap.add_argument("--redis-url", default=None, help="queue and exchange budget in Redis (default: embedded)")
    ap.add_argument("--kill-leader-after-h", type=float, default=None,
                    help="kill -9 the leader worker this many simulated hours after the start")
    args = ap.parse_args(argv)
    result = run(args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
    return report(result, args.days)


if __name__ == "__main__":
    sys.exit(main())
