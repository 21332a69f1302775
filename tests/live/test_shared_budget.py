"""One exchange budget for the deployment: with Redis, the request weight spent per minute and a 429's
pause are shared by every process (two budgets together never spend more than the limit; a pause set by
one is seen by the other), and requests that catch a symbol up spend from it too. On a real Redis and a
real loopback exchange."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import coinpredict
from coinpredict.cli.replay_exchange import ReplayExchange
from coinpredict.common import clock
from coinpredict.config import Settings
from coinpredict.data.budget import RedisBudget, make_budget
from coinpredict.data.market import MarketData
from coinpredict.data.sources.exchange import BudgetSpent, ExchangeSource, RateLimited
from tests.conftest import SYNTHETIC_END_MS

H = 3_600_000
SOURCE_ROOT = str(Path(coinpredict.__file__).resolve().parents[1])

SPENDER = """
import sys, time
from pathlib import Path
from coinpredict.data.budget import RedisBudget
url, namespace, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
budget = RedisBudget(url, 100, namespace=namespace, clock=lambda: 6_000_000.0)  # one minute for both
print("ready", flush=True)
while not go.exists():
    time.sleep(0.002)
print(sum(budget.take(2) for _ in range(200)), flush=True)
"""


@pytest.fixture()
def exchange(synthetic_dir):
    saved = clock.use(None)
    clock.use(lambda: (SYNTHETIC_END_MS - 10 * H + 60_000) / 1000)
    ex = ReplayExchange(synthetic_dir)
    url = ex.start()
    yield ex, url
    ex.stop()
    clock.use(saved)


def test_two_processes_sharing_the_budget_together_never_spend_more_than_the_limit(redis_url, tmp_path):
    namespace, go = uuid.uuid4().hex[:8], tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SOURCE_ROOT, os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, "-c", SPENDER, redis_url, namespace, str(go)], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready", proc.communicate(timeout=60)[1]
        go.touch()  # both spend at once, each asking for four times the limit
        outs = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    taken = [int(out) for out, _ in outs]
    assert sum(taken) * 2 == 100, taken  # exactly the limit between them: never more, none of it lost


def test_a_rate_limit_answer_to_one_process_pauses_the_others(redis_url, exchange):
    ex, url = exchange
    ex.weight_limit = 3  # room for one klines call a minute: the second is answered 429
    namespace = uuid.uuid4().hex[:8]
    first, second = (ExchangeSource(url, retries=0, budget=RedisBudget(redis_url, 1000, namespace=namespace))
                     for _ in range(2))
    start = SYNTHETIC_END_MS - 20 * H
    assert len(first.fetch("BTCUSDT", "1h", start_ms=start)) > 0
    with pytest.raises(RateLimited):
        first.fetch("ETHUSDT", "1h", start_ms=start)
    calls = ex.calls["/api/v3/klines"]
    assert second.budget.paused_for() > 0
    with pytest.raises(RateLimited):
        second.fetch("ETHUSDT", "1h", start_ms=start)
    assert ex.calls["/api/v3/klines"] == calls  # the other process never asked


def test_a_spent_budget_stops_asking_until_the_next_minute(redis_url, exchange):
    ex, url = exchange
    source = ExchangeSource(url, retries=0, budget=RedisBudget(redis_url, 3, namespace=uuid.uuid4().hex[:8]))
    start = SYNTHETIC_END_MS - 20 * H
    source.fetch("BTCUSDT", "1h", start_ms=start)
    with pytest.raises(BudgetSpent) as spent:
        source.fetch("ETHUSDT", "1h", start_ms=start)
    assert 0 < spent.value.retry_after <= 60 and ex.calls["/api/v3/klines"] == 1


def test_requests_catching_a_symbol_up_spend_from_the_shared_budget_and_honour_its_pause(
        redis_url, exchange, tmp_path):
    ex, url = exchange
    settings = Settings(store_path=tmp_path / "s.sqlite", exchange_url=url, redis_url=redis_url)
    market = MarketData(settings)
    assert market.provider.pairs.load_now()
    shared = make_budget(settings)  # another process's view of the same budget

    def spent() -> int:  # over every minute's counter: the test may cross a minute
        return sum(int(shared.client.get(k)) for k in shared.client.keys(f"{shared.prefix}:weight:*"))

    before = spent()
    assert market.candles("ETHUSDT", "1h", 200).meta["data_stale"] is False
    assert spent() - before == 2 * ex.calls["/api/v3/klines"]  # every klines call spent its weight there
    shared.pause(30)  # a 429 answered to another process
    calls = ex.calls["/api/v3/klines"]
    clock.use(lambda: (SYNTHETIC_END_MS - 8 * H + 60_000) / 1000)  # two candles later: the store is behind
    candles = market.candles("ETHUSDT", "1h", 200)
    assert candles.meta["data_stale"] is True and "rate limit" in candles.meta["stale_reason"]
    assert ex.calls["/api/v3/klines"] == calls


def test_machines_sharing_a_store_fetch_each_candle_once_between_them(redis_url, exchange, tmp_path):
    """Two machines' web processes (two markets) on one shared candle store and one Redis: when a candle
    closes and both are asked for it at once, one calls the exchange and the other reads what it stored."""
    import threading

    ex, url = exchange
    markets = []
    for _ in range(2):
        market = MarketData(Settings(store_path=tmp_path / "shared.sqlite", exchange_url=url, redis_url=redis_url))
        market.provider.store.shared = True  # stands for the deployment's store (one file here, one machine)
        assert market.provider.pairs.load_now()
        markets.append(market)
    assert markets[0].candles("ETHUSDT", "1h", 200).meta["data_stale"] is False  # the history, once
    calls = ex.calls["/api/v3/klines"]
    for hours in (9, 8, 7):  # three closes, both machines asked for each at the same moment
        clock.use(lambda hours=hours: (SYNTHETIC_END_MS - hours * H + 60_000) / 1000)
        barrier, answers = threading.Barrier(2), []

        def ask(market, barrier=barrier, answers=answers):
            barrier.wait()
            answers.append(market.candles("ETHUSDT", "1h", 200))

        threads = [threading.Thread(target=ask, args=(m,)) for m in markets]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert [a.meta["data_stale"] for a in answers] == [False, False]
        assert answers[0].t[-1] == answers[1].t[-1] == SYNTHETIC_END_MS - (hours + 1) * H
    assert ex.calls["/api/v3/klines"] == calls + 3  # one call per close between the two machines


def test_without_a_shared_store_each_machine_fetches_for_itself(redis_url, exchange, tmp_path):
    """Machines with stores of their own (SQLite files) must not wait on each other's fetch: each catches
    up from the exchange (the claim is only taken when the store is the deployment's)."""
    ex, url = exchange
    markets = [MarketData(Settings(store_path=tmp_path / f"own-{i}.sqlite", exchange_url=url, redis_url=redis_url))
               for i in range(2)]
    calls = ex.calls.get("/api/v3/klines", 0)
    for market in markets:
        assert market.provider.pairs.load_now()
        assert market.candles("ETHUSDT", "1h", 200).meta["data_stale"] is False
    assert ex.calls["/api/v3/klines"] == calls + 2
