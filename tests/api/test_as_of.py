"""Predictions as of a past close (``as_of`` on single, batch items and top100): the answer the service gave
live at that close, freshness judged against it, never recorded in the ledger; and the market clock shown
in /health and every answer while ``CLOCK`` (here ``clock.use``) shifts it."""

from __future__ import annotations

import shutil
import time

import pytest

from coinpredict import create_app
from coinpredict.api.openapi import openapi_document
from coinpredict.api.state import KEY
from coinpredict.common import clock
from coinpredict.common.times import iso
from coinpredict.data.sources.csvdir import CsvFolderSource
from coinpredict.data.sources.synthetic import SyntheticSource
from coinpredict.data.store import CandleStore
from tests.conftest import SYNTHETIC_END_MS, SYNTHETIC_SYMBOLS, write_ohlcv_csv

HOUR = 3_600_000
LAST = SYNTHETIC_END_MS - HOUR  # open time of the synthetic folder's last candle
VARYING = {"latency_ms", "market_time"}


@pytest.fixture()
def at():
    """``at(seconds)`` sets the market clock; the clock in force before the test afterwards."""
    previous = clock.use(None)
    clock.use(previous)
    yield lambda s: clock.use(lambda: s)
    clock.use(previous)


@pytest.fixture()
def folder_app(synthetic_dir, trained_dir, tmp_path):
    """The synthetic folder plus ADAUSDT, whose candles end ten hours before the others', with a ledger
    of its own."""
    data = tmp_path / "ohlcv"
    shutil.copytree(synthetic_dir, data)
    early = SyntheticSource(["ADAUSDT"], seed=5, clock=lambda: (SYNTHETIC_END_MS - 10 * HOUR) / 1000)
    write_ohlcv_csv(data / "1h" / "ADAUSDT.csv", early.fetch("ADAUSDT", "1h").last(2500))
    return create_app({"TESTING": True, "ohlcv_dir": data, "models_dir": trained_dir, "offline": True,
                       "database_url": f"sqlite:///{tmp_path / 'ledger.sqlite'}", "queue_path": tmp_path / "q.sqlite"})


def without(answer: dict, keys=VARYING) -> dict:
    return {k: v for k, v in answer.items() if k not in keys}


@pytest.mark.parametrize("model", ["ensemble", "lightgbm"])
def test_an_as_of_answer_is_the_one_served_live_at_that_close(client, at, model):
    as_of = LAST - 5 * HOUR  # inside the folder: the live answer then must not see the five later candles
    past = client.post("/predict/single", json={"symbol": "ETH", "model": model, "as_of": iso(as_of)}).get_json()
    assert past["as_of"] == iso(as_of) and past["data_stale"] is False and past["last_candle_age_s"] == 0
    assert "market_time" not in past  # the wall clock: nothing shifted
    at((as_of + HOUR) / 1000)  # the market clock at that candle's close
    live = client.post("/predict/single", json={"symbol": "ETH", "model": model}).get_json()
    assert live["market_time"] == iso(as_of + HOUR)
    assert without(past) == without(live)
    batch = client.post("/predict/batch", json={"items": [{"symbol": "ETH", "model": model, "as_of": iso(as_of)}]})
    assert without(batch.get_json()["results"][0]) == without(live)


def test_batch_items_each_read_as_of_their_own_close(client):
    items = [{"symbol": "BTC", "model": "xgboost", "as_of": iso(LAST - 2 * HOUR)},
             {"symbol": "BTC", "model": "xgboost", "as_of": iso(LAST)},
             {"symbol": "BTC", "model": "xgboost"},
             {"symbol": "BTC", "model": "xgboost", "as_of": "2999-01-01T00:00:00Z"},
             {"symbol": "BTC", "model": "xgboost", "as_of": iso(LAST + HOUR // 2)}]
    r = client.post("/predict/batch", json={"items": items}).get_json()["results"]
    assert [x.get("as_of") for x in r[:3]] == [iso(LAST - 2 * HOUR), iso(LAST), iso(LAST)]
    assert r[1]["data_stale"] is False and r[2]["data_stale"] is True  # the folder is old by the wall clock
    assert r[3]["status"] == 400 and r[3]["error"]["code"] == "as_of_not_closed" and r[3]["error"]["field"] == "as_of"
    assert r[4]["status"] == 400 and r[4]["error"]["code"] == "invalid_as_of"


def test_top100_as_of_the_folder_end_ranks_its_coins(folder_app):
    c = folder_app.test_client()
    now = c.get("/predict/top100?model=lightgbm").get_json()
    assert now["count"] == 0  # every file ends in the past by the wall clock: nothing is current now
    reasons = {s["symbol"]: s["reason"] for s in now["skipped"]}
    assert reasons["BTCUSDT"].startswith("stale data:") and f"as_of={iso(LAST)}" in reasons["BTCUSDT"]
    top = c.get(f"/predict/top100?model=lightgbm&as_of={iso(LAST)}").get_json()
    assert top["count"] == 3 and {r["symbol"] for r in top["results"]} == set(SYNTHETIC_SYMBOLS)
    assert top["as_of"] == iso(LAST) and all(r["last_candle_age_s"] == 0 and not r["data_stale"]
                                             for r in top["results"])
    reasons = {s["symbol"]: s["reason"] for s in top["skipped"]}
    assert reasons["ADAUSDT"] == "stale data: its newest candle closed 10.0 h before as_of closed (more than 3 h)"
    assert reasons["XRPUSDT"] == "no market data on 1h"


def test_a_coin_whose_candles_ended_earlier_answers_from_its_last_one_stale(folder_app):
    c = folder_app.test_client()
    single = c.post("/predict/single", json={"symbol": "ADA", "model": "lightgbm", "as_of": iso(LAST)}).get_json()
    assert single["as_of"] == iso(LAST - 10 * HOUR) and single["data_stale"] is True
    assert single["last_candle_age_s"] == 10 * 3600 and "nothing newer" in single["stale_reason"]
    batch = c.post("/predict/batch", json={"items": [{"symbol": "ADA", "model": "lightgbm", "as_of": iso(LAST)}]})
    assert without(batch.get_json()["results"][0]) == without(single)
    before = c.post("/predict/single", json={"symbol": "ADA", "model": "lightgbm", "as_of": iso(LAST - 5000 * HOUR)})
    assert before.status_code == 404 and before.get_json()["error"]["message"].endswith("up to as_of")


def test_as_of_answers_are_not_recorded_in_the_ledger(folder_app):
    c, st = folder_app.test_client(), folder_app.extensions[KEY]
    c.post("/predict/single", json={"symbol": "BTC", "model": "lightgbm", "as_of": iso(LAST - HOUR)})
    c.post("/predict/single", json={"symbol": "BTC", "as_of": iso(LAST)})
    c.post("/predict/batch", json={"items": [{"symbol": "ETH", "model": "xgboost", "as_of": iso(LAST)}]})
    assert c.get(f"/predict/top100?model=xgboost&as_of={iso(LAST)}").get_json()["count"] == 3
    st.recorder.drain()
    assert c.get("/predictions/history?limit=1000").get_json()["count"] == 0
    c.post("/predict/single", json={"symbol": "BTC", "model": "lightgbm"})  # live: recorded
    st.recorder.drain()
    rows = c.get("/predictions/history?limit=1000").get_json()["results"]
    assert [(r["symbol"], r["model"], r["as_of"]) for r in rows] == [("BTCUSDT", "lightgbm", iso(LAST))]


def test_a_future_or_unclosed_as_of_is_a_400(client, synthetic_now):  # half an hour into the candle after the last
    for as_of in (iso(SYNTHETIC_END_MS), "2999-01-01"):  # still open; the future
        for resp in (client.post("/predict/single", json={"symbol": "BTC", "as_of": as_of}),
                     client.get(f"/predict/top100?as_of={as_of}")):
            assert resp.status_code == 400, resp.get_data(as_text=True)
            error = resp.get_json()["error"]
            assert error["code"] == "as_of_not_closed" and error["field"] == "as_of"
            assert error["newest_closed"] == iso(LAST) and error["market_time"] == iso(int(synthetic_now * 1000))
    assert client.post("/predict/single", json={"symbol": "BTC", "as_of": iso(LAST)}).status_code == 200
    bad = client.post("/predict/single", json={"symbol": "BTC", "as_of": "yesterday"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "as_of"


def test_client_candles_are_cut_at_as_of(client, synthetic_dir):
    candles = CsvFolderSource(synthetic_dir).fetch("SOLUSDT", "1h").last(520)
    rows = [[int(t), o, h, lo, cl, v] for t, o, h, lo, cl, v in zip(candles.t, candles.open, candles.high,
                                                                   candles.low, candles.close, candles.volume)]
    as_of = iso(LAST - 4 * HOUR)
    sent = client.post("/predict/single", json={"symbol": "SOL", "model": "lightgbm", "candles": rows,
                                                "as_of": as_of}).get_json()
    held = client.post("/predict/single", json={"symbol": "SOL", "model": "lightgbm", "as_of": as_of}).get_json()
    assert sent["as_of"] == as_of and sent["data_source"] == "request" and sent["last_candle_age_s"] == 0
    assert sent["probability_up"] == held["probability_up"]
    few = client.post("/predict/single", json={"symbol": "SOL", "model": "lightgbm", "candles": rows[-10:],
                                               "as_of": iso(LAST - 20 * HOUR)})
    assert few.status_code == 400 and few.get_json()["error"]["code"] == "too_few_candles"


def test_as_of_reads_the_store_like_the_folder(synthetic_dir, trained_dir, tmp_path, client):
    """With a store (the live mode, exchange offline here) the same candles answer the same."""
    store = CandleStore(tmp_path / "s.sqlite")
    for symbol in SYNTHETIC_SYMBOLS:
        store.upsert(CsvFolderSource(synthetic_dir).fetch(symbol, "1h"))
    live = create_app({"TESTING": True, "models_dir": trained_dir, "store_path": tmp_path / "s.sqlite",
                       "offline": True}).test_client()
    as_of = iso(LAST - 3 * HOUR)
    for model in ("ensemble", "xgboost"):
        from_store = live.post("/predict/single", json={"symbol": "BTC", "model": model, "as_of": as_of}).get_json()
        from_folder = client.post("/predict/single", json={"symbol": "BTC", "model": model, "as_of": as_of}).get_json()
        assert from_store["as_of"] == as_of and from_store["data_stale"] is False
        assert without(from_store, VARYING | {"data_source"}) == without(from_folder, VARYING | {"data_source"})


def test_as_of_on_the_synthetic_market(trained_dir, tmp_path, at):
    c = create_app({"TESTING": True, "models_dir": trained_dir, "store_path": tmp_path / "s.sqlite",
                    "synthetic": True, "universe_url": "http://127.0.0.1:9"}).test_client()
    as_of = (int(time.time() * 1000) // HOUR - 6) * HOUR
    past = c.post("/predict/single", json={"symbol": "BTC", "model": "lightgbm", "as_of": iso(as_of)}).get_json()
    assert past["as_of"] == iso(as_of) and past["data_stale"] is False and past["data_source"] == "synthetic"
    at((as_of + HOUR) / 1000)
    live = c.post("/predict/single", json={"symbol": "BTC", "model": "lightgbm"}).get_json()
    assert without(past) == without(live)


def test_health_and_answers_show_the_market_clock_only_when_it_is_shifted(client, at):
    assert "market_time" not in client.get("/health").get_json()
    now = SYNTHETIC_END_MS / 1000 + 1800
    at(now)
    shown = iso(int(now * 1000))
    assert client.get("/health").get_json()["market_time"] == shown
    top = client.get("/predict/top100?model=lightgbm&limit=2").get_json()
    assert top["market_time"] == shown and all(r["market_time"] == shown for r in top["results"])
    single = client.post("/predict/single", json={"symbol": "BTC", "model": "lightgbm"}).get_json()
    assert single["market_time"] == shown and single["last_candle_age_s"] == 1800


def test_the_document_offers_as_of_as_a_date_time():
    doc = openapi_document()
    item = doc["components"]["schemas"]["PredictItem"]["properties"]["as_of"]
    assert {"type": "string", "format": "date-time"}.items() <= item["anyOf"][0].items()
    top = {p["name"]: p for p in doc["paths"]["/predict/top100"]["get"]["parameters"]}
    assert top["as_of"]["schema"]["anyOf"][0]["format"] == "date-time"
    assert doc["components"]["schemas"]["Health"]["properties"]["market_time"]["anyOf"][0]["format"] == "date-time"
