"""The replay on many machines: several web masters and workers on one PostgreSQL and one Redis, the
leader worker killed with kill -9 part-way, and the checks that they behaved as one service (no candle
fetched twice or lost, every outcome scored, one retraining per due time, the lease taken over)."""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from coinpredict.common import clock
from coinpredict.common.leader import lease_holder
from coinpredict.common.times import iso
from coinpredict.launch import procfile_server, procfile_worker

HOUR_MS = 3_600_000


def start_processes(stack: ExitStack, env: dict[str, str], webs: int, workers: int) -> list[str]:
    """Start ``workers`` Procfile workers and ``webs`` Procfile web masters (one gunicorn worker each when
    there are several masters, two for a single one); their base URLs. Each web master stands for a
    machine of its own: its metrics folder is its own (gunicorn makes one per master)."""
    for _ in range(workers):
        stack.enter_context(procfile_worker(env))
    concurrency = "2" if webs == 1 else "1"
    return [stack.enter_context(procfile_server({**env, "WEB_CONCURRENCY": concurrency}))[0] for _ in range(webs)]


class LeaderKill(threading.Thread):
    """At simulated time ``at_ms``, kill -9 the worker holding the leader lease, then measure how long (wall
    seconds) until another worker holds it."""

    def __init__(self, at_ms: int, database_url: str, redis_url: str | None, give_up_s: float = 60.0):
        super().__init__(daemon=True, name="leader-kill")
        self.at_ms, self.database_url, self.redis_url, self.give_up_s = at_ms, database_url, redis_url, give_up_s
        self.result: dict = {}

    def run(self) -> None:
        while clock.now_ms() < self.at_ms:
            time.sleep(0.05)
        holder = lease_holder(self.database_url, self.redis_url)
        if holder is None:
            self.result = {"error": "nobody held the lease at the kill time"}
            return
        killed_at = time.monotonic()
        os.kill(int(holder.rsplit(":", 1)[1]), signal.SIGKILL)
        self.result = {"killed": holder, "killed_at": iso(clock.now_ms()), "takeover_s": None}
        while time.monotonic() - killed_at < self.give_up_s:
            now = lease_holder(self.database_url, self.redis_url)
            if now is not None and now != holder:
                self.result.update(new_leader=now, takeover_s=round(time.monotonic() - killed_at, 2))
                return
            time.sleep(0.05)


def ledger_frame(database_url: str, query: str) -> pd.DataFrame:
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return pd.read_sql_query(sa.text(query), conn)
    finally:
        engine.dispose()


def unscored(database_url: str, start_ms: int, end_ms: int) -> int:
    """Served forecasts of the replayed hours whose outcome candle closed before the end but were never
    scored: an outcome lost (say by a leader killed mid-round)."""
    rows = ledger_frame(database_url, "SELECT as_of, horizon, timeframe FROM predictions WHERE outcome_up IS NULL")
    rows = rows[(rows.timeframe == "1h") & (rows.as_of >= start_ms)]
    return int(((rows.as_of + rows.horizon * HOUR_MS) < end_ms).sum())


def missing_candles(store_path: Path, symbols: list[str], start_ms: int, end_ms: int) -> dict[str, int]:
    """Per symbol, the 1h candles of [start, end) the live store lacks: a candle the leaders lost."""
    from coinpredict.data.store import CandleStore

    store = CandleStore(store_path)
    try:
        out = {}
        for symbol in symbols:
            have = set(store.read(symbol, "1h", start_ms=start_ms, end_ms=end_ms).t.tolist())
            out[symbol] = sum(t not in have for t in range(start_ms, end_ms, HOUR_MS))
        return out
    finally:
        store.close()
