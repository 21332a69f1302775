"""Many machines, one candle store: with a PostgreSQL ``DATABASE_URL`` a candle fetched by one machine
(the leading worker's refresher, or a web request catching a symbol up) is read by every other machine
without a second call to the exchange, whatever each machine's own ``STORE_PATH``. A store that cannot
be reached degrades answers (503 ``data_unavailable`` with ``Retry-After``) and never crashes a worker.
On a real PostgreSQL server and the loopback exchange."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

import coinpredict
from coinpredict.cli.replay_exchange import ReplayExchange
from coinpredict.common import clock
from coinpredict.config import Settings
from coinpredict.data.market import MarketData
from coinpredict.data.refresher import CandleRefresher
from coinpredict.data.store_pg import PostgresCandleStore, StoreUnavailable
from coinpredict.launch import free_port
from tests.conftest import SYNTHETIC_END_MS

H = 3_600_000
NOW_S = (SYNTHETIC_END_MS - 10 * H + 60_000) / 1000  # a minute after a close, ten hours before the folder ends
SOURCE_ROOT = str(Path(coinpredict.__file__).resolve().parents[1])

# Another machine: a process of its own, its own STORE_PATH, the same DATABASE_URL and exchange.
OTHER_MACHINE = """
import json, sys
from coinpredict.common import clock
from coinpredict.config import Settings
from coinpredict.data.market import MarketData
clock.use(lambda: float(sys.argv[1]))
market = MarketData(Settings.from_env())
answers = {}
for symbol in sys.argv[2:]:
    c = market.candles(symbol, "1h", 200)
    answers[symbol] = {"n": len(c), "last": int(c.t[-1]), "close": float(c.close[-1]), "stale": c.meta["data_stale"],
                       "source": c.meta["data_source"]}
print(json.dumps(answers), flush=True)
"""


@pytest.fixture()
def exchange(synthetic_dir):
    saved = clock.use(lambda: NOW_S)
    ex = ReplayExchange(synthetic_dir)
    url = ex.start()
    yield ex, url
    ex.stop()
    clock.use(saved)


def machine(tmp_path: Path, name: str, database: str, exchange_url: str) -> Settings:
    return Settings(store_path=tmp_path / name / "candles.sqlite", database_url=database, exchange_url=exchange_url,
                    universe_url="http://127.0.0.1:9")


def test_a_candle_fetched_by_one_machine_is_read_by_another_without_a_second_klines_call(
        exchange, empty_candle_database, tmp_path):
    ex, url = exchange
    leader = MarketData(machine(tmp_path, "a", empty_candle_database, url))
    refreshed = CandleRefresher(leader, backfill=300).run_once({"1h": {"BTCUSDT"}})  # the leading worker's round
    assert refreshed["fetched"] >= 1 and refreshed["candles"] >= 300
    asked = leader.candles("ETHUSDT", "1h", 200)  # a web request on machine a catches ETH up
    assert asked.meta["data_source"] == "exchange" and len(asked) == 200
    klines = ex.calls["/api/v3/klines"]
    assert klines >= 2

    other = tmp_path / "b"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SOURCE_ROOT, os.environ.get("PYTHONPATH", "")]),
           "DATABASE_URL": empty_candle_database, "STORE_PATH": str(other / "candles.sqlite"), "EXCHANGE_URL": url,
           "UNIVERSE_URL": "http://127.0.0.1:9", "CANDLE_STORE": "auto"}
    done = subprocess.run([sys.executable, "-c", OTHER_MACHINE, str(NOW_S), "BTCUSDT", "ETHUSDT"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    answers = json.loads(done.stdout.splitlines()[-1])
    assert ex.calls["/api/v3/klines"] == klines  # machine b fetched nothing: every candle was fetched once
    for symbol in ("BTCUSDT", "ETHUSDT"):
        mine = leader.candles(symbol, "1h", 200)
        assert answers[symbol] == {"n": 200, "last": int(mine.t[-1]), "close": float(mine.close[-1]),
                                   "stale": False, "source": "exchange"}
    assert int(mine.t[-1]) == SYNTHETIC_END_MS - 11 * H  # the newest candle closed by the clock
    assert not (tmp_path / "a" / "candles.sqlite").exists() and not (other / "candles.sqlite").exists()
    # The same two machines with CANDLE_STORE=sqlite keep their own files: machine b fetches again.
    done = subprocess.run([sys.executable, "-c", OTHER_MACHINE, str(NOW_S), "ETHUSDT"],
                          env={**env, "CANDLE_STORE": "sqlite"}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert ex.calls["/api/v3/klines"] > klines and (other / "candles.sqlite").exists()


def dead_database() -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres"  # nothing listens there


def test_an_unreachable_store_is_a_503_with_retry_after_for_every_call():
    store = PostgresCandleStore(dead_database())  # connects on first use: a process starts while it is down
    calls = [lambda: store.read("BTCUSDT", "1h", last=5), lambda: store.last_time("BTCUSDT", "1h"),
             lambda: store.read_many(["BTCUSDT"], "1h", 5), lambda: store.summary("1h"), store.count,
             lambda: store.touch("BTCUSDT", "1h", "exchange"), lambda: store.symbols("1h")]
    for call in calls:
        with pytest.raises(StoreUnavailable) as err:
            call()
        assert err.value.status == 503 and err.value.code == "data_unavailable" and err.value.retry_after
        assert "127.0.0.1" not in err.value.message  # no server address in an answer


def test_an_unreachable_store_fails_a_live_round_and_an_answer_not_the_worker(exchange, tmp_path):
    _, url = exchange
    market = MarketData(machine(tmp_path, "a", dead_database(), url))  # what the worker's live loop builds
    refresher = CandleRefresher(market)
    with pytest.raises(StoreUnavailable):  # the live loop logs the round and retries at its next tick
        refresher.run_once({"1h": {"BTCUSDT"}})
    with pytest.raises(StoreUnavailable):  # a request: 503 with Retry-After (the API's error path)
        market.candles("BTCUSDT", "1h", 200)


def test_an_answer_while_the_store_is_down_is_a_json_503(trained_dir, tmp_path):
    from coinpredict import create_app
    from coinpredict.api.state import KEY

    app = create_app({"TESTING": True, "models_dir": trained_dir, "store_path": tmp_path / "s.sqlite",
                      "exchange_url": "http://127.0.0.1:9", "universe_url": "http://127.0.0.1:9"})
    provider = app.extensions[KEY].market.provider
    provider.store = provider.live_store = PostgresCandleStore(dead_database())  # the deployment's store, down
    resp = app.test_client().post("/predict/single", json={"symbol": "BTC", "model": "xgboost"})
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    assert resp.get_json()["error"]["code"] == "data_unavailable"


def test_connections_the_server_dropped_are_replaced_without_an_error(empty_candle_database):
    store = PostgresCandleStore(empty_candle_database)
    store.touch("BTCUSDT", "1h", "exchange")
    name = sa.make_url(empty_candle_database).database
    admin = sa.create_engine(empty_candle_database)
    try:
        with admin.connect() as conn:  # a server restart or an idle timeout drops the pool's connections
            dropped = conn.execute(sa.text("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                                           "datname = :db AND pid <> pg_backend_pid()"), {"db": name}).scalar()
    finally:
        admin.dispose()
    assert dropped >= 1
    assert store.symbols("1h") == ["BTCUSDT"]


def _backend_pid(store: PostgresCandleStore) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()


def _child_backend(store: PostgresCandleStore, out) -> None:
    out.put((_backend_pid(store), store.symbols("1h")))


def test_a_store_made_before_a_fork_uses_connections_of_its_own_in_the_child(empty_candle_database):
    import multiprocessing as mp

    store = PostgresCandleStore(empty_candle_database)
    store.touch("BTCUSDT", "1h", "exchange")
    parent = _backend_pid(store)  # a pooled connection the child must not share
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_child_backend, args=(store, out))
    child.start()
    try:
        got = out.get(timeout=60)
    finally:
        child.join(30)
    assert got[1] == ["BTCUSDT"] and got[0] != parent
    assert _backend_pid(store) == parent and store.symbols("1h") == ["BTCUSDT"]  # the parent's pool is intact
