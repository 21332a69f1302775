"""``GET /symbols`` through Flask's test client: what can be predicted, how fresh, what is trained."""

from __future__ import annotations

import statistics
import time

import pytest

from coinpredict import create_app
from coinpredict.api.state import state
from coinpredict.common.times import iso, to_ms
from coinpredict.data.candles import COLUMNS
from coinpredict.data.sources.csvdir import CsvFolderSource
from coinpredict.data.timeframes import TIMEFRAME_MS
from coinpredict.models.registry import MODEL_IDS
from tests.api.test_endpoints import assert_error
from tests.conftest import SYNTHETIC_END_MS, SYNTHETIC_SYMBOLS

HOUR = TIMEFRAME_MS["1h"]
FIELDS = {"symbol", "first", "last", "last_candle_age_s", "data_stale", "columns"}


def test_lists_every_symbol_with_its_range_and_freshness(client):
    body = client.get("/symbols?timeframe=1h").get_json()
    assert body["timeframe"] == "1h" and body["data_source"] == "csv" and body["count"] == len(SYNTHETIC_SYMBOLS)
    assert [s["symbol"] for s in body["symbols"]] == sorted(SYNTHETIC_SYMBOLS)
    for item in body["symbols"]:
        assert set(item) == FIELDS
        assert isinstance(item["last_candle_age_s"], float) and isinstance(item["data_stale"], bool)
        assert item["columns"] == list(COLUMNS)
        assert iso(to_ms(item["first"])) == item["first"] and item["first"] <= item["last"]
        assert item["first"] == iso(SYNTHETIC_END_MS - 2500 * HOUR) and item["last"] == iso(SYNTHETIC_END_MS - HOUR)
        expected_age = time.time() - SYNTHETIC_END_MS / 1000
        assert abs(item["last_candle_age_s"] - expected_age) < 60
        assert item["data_stale"] is True  # the folder ends in June 2025


def test_the_default_timeframe_is_1h(client):
    assert client.get("/symbols").get_json()["timeframe"] == "1h"


def test_trained_matches_the_model_store(app, client):
    body = client.get("/symbols").get_json()
    with app.app_context():
        assert body["trained"] == state().store.trained()
    assert body["trained"] == {"1h": {"horizons": [1, 4, 24], "models": len(MODEL_IDS)}}


@pytest.mark.parametrize("timeframe", ["3h", "1M", "", "x" * 50])
def test_an_unknown_timeframe_is_400(client, timeframe):
    err = assert_error(client.get("/symbols", query_string={"timeframe": timeframe}), 400, "invalid_value")
    assert err["field"] == "timeframe"


def test_a_folder_with_1h_only_lists_the_resampled_4h_range(client, synthetic_dir):
    body = client.get("/symbols?timeframe=4h").get_json()
    assert body["timeframe"] == "4h" and [s["symbol"] for s in body["symbols"]] == sorted(SYNTHETIC_SYMBOLS)
    assert not (synthetic_dir / "4h").exists()
    for item in body["symbols"]:
        resampled = CsvFolderSource(synthetic_dir).fetch(item["symbol"], "4h")
        assert (item["first"], item["last"]) == (iso(int(resampled.t[0])), iso(int(resampled.t[-1])))
        assert to_ms(item["first"]) % TIMEFRAME_MS["4h"] == 0
        assert to_ms(item["last"]) + TIMEFRAME_MS["4h"] <= SYNTHETIC_END_MS


def test_a_timeframe_with_no_data_lists_nothing(client):
    body = client.get("/symbols?timeframe=1m").get_json()
    assert body["count"] == 0 and body["symbols"] == [] and "1h" in body["trained"]


def test_the_synthetic_market_lists_its_universe_as_fresh(tmp_path):
    app = create_app({"TESTING": True, "ohlcv_dir": None, "store_path": tmp_path / "empty.sqlite",
                      "models_dir": tmp_path / "models", "synthetic": True})
    body = app.test_client().get("/symbols?timeframe=1h").get_json()
    assert body["data_source"] == "synthetic" and body["count"] > 50 and body["trained"] == {}
    assert all(not s["data_stale"] and 0 < s["last_candle_age_s"] <= 3600 for s in body["symbols"])


def test_the_real_folder_lists_all_18_1h_symbols_warm_in_milliseconds(shared_ohlcv, tmp_path):
    app = create_app({"TESTING": True, "ohlcv_dir": shared_ohlcv, "models_dir": tmp_path, "offline": True})
    client = app.test_client()
    body = client.get("/symbols?timeframe=1h").get_json()  # the first listing reads the files
    assert body["count"] == 18 and {"BTCUSDT", "ETHUSDT"} <= {s["symbol"] for s in body["symbols"]}
    btc = next(s for s in body["symbols"] if s["symbol"] == "BTCUSDT")
    assert btc["first"] <= "2018-01-01T00:00:00Z" and btc["last"] >= "2025-06-30T23:00:00Z"
    assert {"quote_volume", "trades", "taker_buy_volume", "taker_buy_quote_volume"} <= set(btc["columns"])
    def without_ages(listing: dict) -> dict:  # the age moves with the wall clock between two listings
        return {**listing, "symbols": [{k: v for k, v in s.items() if k != "last_candle_age_s"}
                                       for s in listing["symbols"]]}
    warm = []
    for _ in range(5):
        started = time.perf_counter()
        assert without_ages(client.get("/symbols?timeframe=1h").get_json()) == without_ages(body)
        warm.append(time.perf_counter() - started)
    assert statistics.median(warm) < 0.1


def test_the_openapi_document_describes_the_route_and_its_query():
    from coinpredict.api.openapi import openapi_document

    doc = openapi_document()
    op = doc["paths"]["/symbols"]["get"]
    assert "400" in op["responses"] and op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SymbolsResponse"}
    [param] = op["parameters"]
    assert param["name"] == "timeframe" and param["in"] == "query" and "4h" in param["schema"]["enum"]
    info = doc["components"]["schemas"]["SymbolInfo"]["properties"]
    assert set(info) == FIELDS and "open time" in info["first"]["description"]
    top = [p["name"] for p in doc["paths"]["/predict/top100"]["get"]["parameters"]]
    assert top == ["timeframe", "model", "limit", "horizon", "as_of", "rank_by"]
