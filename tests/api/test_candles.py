"""``GET /candles`` through Flask's test client: the market's newest closed candles, for charts."""

from __future__ import annotations

import pytest

from coinpredict.common.times import to_ms
from coinpredict.data.timeframes import TIMEFRAME_MS
from tests.api.test_endpoints import assert_error
from tests.conftest import SYNTHETIC_END_MS

HOUR = TIMEFRAME_MS["1h"]


def test_answers_the_newest_candles_oldest_first(client):
    body = client.get("/candles?symbol=btc&timeframe=1h&limit=50").get_json()
    assert body["symbol"] == "BTCUSDT" and body["timeframe"] == "1h" and body["data_source"] == "csv"
    assert body["count"] == len(body["candles"]) == 50
    times = [c["t"] for c in body["candles"]]
    assert times == sorted(times) and times[-1] == SYNTHETIC_END_MS - HOUR and times[0] == times[-1] - 49 * HOUR
    assert to_ms(body["last"]) == times[-1] and to_ms(body["first"]) == times[0]
    for c in body["candles"]:
        assert set(c) == {"t", "o", "h", "l", "c", "v"}
        assert c["l"] <= min(c["o"], c["c"]) <= max(c["o"], c["c"]) <= c["h"]
    assert body["data_stale"] is True  # the folder ends in June 2025, the clock is the wall's


def test_a_fresh_clock_is_not_stale(client, synthetic_now):
    body = client.get("/candles?symbol=ETHUSDT").get_json()
    assert body["count"] == 300 and body["data_stale"] is False and body["last_candle_age_s"] == pytest.approx(1800)


def test_a_coarser_timeframe_is_resampled(client):
    body = client.get("/candles?symbol=SOL/USDT&timeframe=4h&limit=10").get_json()
    assert body["count"] == 10 and all(c["t"] % TIMEFRAME_MS["4h"] == 0 for c in body["candles"])


@pytest.mark.parametrize(("query", "status", "code"), [
    ("symbol=DOGEUSDT", 404, "unknown_symbol"),
    ("symbol=b%C3%9F", 400, "invalid_symbol"),
    ("", 400, "invalid_value"),
    ("symbol=BTC&limit=0", 400, "invalid_value"),
    ("symbol=BTC&limit=1001", 400, "invalid_value"),
    ("symbol=BTC&timeframe=7h", 400, "invalid_value"),
])
def test_refusals_are_json_errors(client, query, status, code):
    assert_error(client.get(f"/candles?{query}"), status, code)


def test_is_documented(client):
    doc = client.get("/openapi.json").get_json()
    op = doc["paths"]["/candles"]["get"]
    assert {p["name"] for p in op["parameters"]} == {"symbol", "timeframe", "limit"}
    assert {"200", "400", "404", "503"} <= set(op["responses"])
