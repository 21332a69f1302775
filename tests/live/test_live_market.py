"""Live mode against a real loopback exchange serving candles on the service's clock: the worker's
refresher keeps the store current within the rate limits, requests never wait on the exchange past
their deadline, and symbols the exchange does not list cost it nothing."""

from __future__ import annotations

import time

import pytest

from coinpredict import create_app
from coinpredict.cli.replay_exchange import ReplayExchange
from coinpredict.common import clock
from coinpredict.config import Settings
from coinpredict.data.market import EXCHANGE_BACKOFF_S, MarketData
from coinpredict.data.refresher import CandleRefresher
from tests.conftest import SYNTHETIC_END_MS, SYNTHETIC_SYMBOLS

H = 3_600_000


@pytest.fixture()
def exchange(synthetic_dir):
    ex = ReplayExchange(synthetic_dir)
    url = ex.start()
    yield ex, url
    ex.stop()


@pytest.fixture()
def at():
    """Sets the service's clock; the wall clock again after the test."""
    saved = clock.use(None)
    clock.use(saved)
    yield lambda ms: clock.use(lambda: ms / 1000)
    clock.use(saved)


def test_refresher_fetches_each_closed_candle_once_shortly_after_it_closes(exchange, tmp_path, at):
    ex, url = exchange
    at(SYNTHETIC_END_MS - 100 * H + 60_000)  # a minute after a close, 100 candles before the folder ends
    market = MarketData(Settings(store_path=tmp_path / "s.sqlite", exchange_url=url))
    assert market.provider.pairs.load_now() and market.provider.pairs.known("NOPEUSDT") is False
    refresher = CandleRefresher(market, backfill=300)
    watched = {"1h": set(SYNTHETIC_SYMBOLS) | {"NOPEUSDT"}}
    assert refresher.run_once(watched)["fetched"] == 3
    newest = SYNTHETIC_END_MS - 101 * H
    assert all(market.store.last_time(s, "1h") == newest for s in SYNTHETIC_SYMBOLS)
    assert market.store.count() == 3 * 301 and "NOPEUSDT" not in ex.klines_by_symbol
    calls = ex.calls["/api/v3/klines"]
    assert refresher.run_once(watched)["fetched"] == 0 and ex.calls["/api/v3/klines"] == calls  # current
    at(SYNTHETIC_END_MS - 99 * H + 1_000)  # one second after the next close: not settled yet
    assert refresher.run_once(watched)["fetched"] == 0
    at(SYNTHETIC_END_MS - 99 * H + 5_000)
    assert refresher.run_once(watched)["fetched"] == 3 and ex.calls["/api/v3/klines"] == calls + 3
    assert market.store.count() == 3 * 302 and market.store.last_time("BTCUSDT", "1h") == newest + H
    # A request now reads the current store and never calls the exchange.
    candles = market.candles("ETHUSDT", "1h", 200)
    assert candles.meta["data_stale"] is False and ex.calls["/api/v3/klines"] == calls + 3


def test_rate_limit_answers_pause_the_refresher(exchange, tmp_path, at):
    ex, url = exchange
    at(SYNTHETIC_END_MS - 10 * H + 60_000)
    market = MarketData(Settings(store_path=tmp_path / "s.sqlite", exchange_url=url, offline=False))
    # The pairs list first: loaded in the background on the first symbol check, its call would race the
    # refresher's for the one klines call's room, and a 429 to either pauses the budget both share.
    assert market.provider.pairs.load_now()
    ex.weight_limit = ex.used_weight() + 3  # room for one more klines call this minute
    refresher = CandleRefresher(market, backfill=50, threads=1)
    counts = refresher.run_once({"1h": set(SYNTHETIC_SYMBOLS)})
    assert counts["fetched"] == 1 and counts["waiting"] == 2
    assert refresher.budget.paused_for() > 0  # the 429's Retry-After is honoured by every symbol
    assert market.provider.budget is refresher.budget  # and by the requests' catch-ups in this process
    calls = ex.calls["/api/v3/klines"]
    assert refresher.run_once({"1h": set(SYNTHETIC_SYMBOLS)})["waiting"] == 2 and ex.calls["/api/v3/klines"] == calls


def _live_app(trained_dir, tmp_path, url, **kw):
    return create_app({"TESTING": True, "models_dir": trained_dir, "store_path": tmp_path / "s.sqlite",
                       "exchange_url": url, "universe_url": "http://127.0.0.1:9", **kw})


def test_made_up_symbols_cost_the_exchange_nothing(exchange, trained_dir, tmp_path, at):
    ex, url = exchange
    at(SYNTHETIC_END_MS + 1_800_000)
    app = _live_app(trained_dir, tmp_path, url)
    from coinpredict.api.state import KEY

    assert app.extensions[KEY].market.provider.pairs.load_now()
    c = app.test_client()
    items = [{"symbol": f"FAKE{i}", "model": "lightgbm"} for i in range(500)]
    body = c.post("/predict/batch", json={"items": items}).get_json()
    assert {r["error"]["code"] for r in body["results"]} == {"unknown_symbol"}
    assert ex.calls.get("/api/v3/klines", 0) == 0 and not (tmp_path / "s.sqlite").exists() or \
        app.extensions[KEY].market.store.count() == 0
    ok = c.post("/predict/single", json={"symbol": "BTC", "model": "lightgbm"}).get_json()
    assert ok["data_stale"] is False and ok["data_source"] == "exchange" and ex.calls["/api/v3/klines"] == 1


def test_a_slow_exchange_never_holds_a_request_past_its_deadline(exchange, trained_dir, tmp_path, at):
    ex, url = exchange
    at(SYNTHETIC_END_MS - 3 * H + 1_800_000)
    app = _live_app(trained_dir, tmp_path, url, fetch_deadline_s=1.0)
    c = app.test_client()
    assert c.post("/predict/single", json={"symbol": "ETH", "model": "lightgbm"}).get_json()["data_stale"] is False
    at(SYNTHETIC_END_MS + 1_800_000)  # three candles later; the exchange now takes 10 s to answer
    ex.delay_s = 10.0
    started = time.monotonic()
    stale = c.post("/predict/single", json={"symbol": "ETH", "model": "lightgbm"})
    cold = c.post("/predict/single", json={"symbol": "SOL", "model": "lightgbm"})
    top = c.get("/predict/top100?model=lightgbm")
    assert time.monotonic() - started < 6
    body = stale.get_json()
    assert body["data_stale"] is True and body["data_source"] == "store" and "too slow" in body["stale_reason"]
    assert body["last_candle_age_s"] == 3 * 3600 + 1800
    assert cold.status_code == 503 and cold.headers["Retry-After"] and cold.get_json()["error"]["code"] == \
        "data_unavailable"
    assert top.status_code == 200
    ex.delay_s = 0.0  # the exchange is back: after a short pause the next request catches up and is fresh
    time.sleep(EXCHANGE_BACKOFF_S + 0.1)
    fresh = c.post("/predict/single", json={"symbol": "ETH", "model": "lightgbm"}).get_json()
    assert fresh["data_stale"] is False and fresh["last_candle_age_s"] == 1800
