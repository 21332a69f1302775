import numpy as np
import pytest

from coinpredict.data.candles import Candles, resample
from coinpredict.data.symbols import normalise_symbol
from coinpredict.data.timeframes import TIMEFRAME_MS, TIMEFRAMES, period_start

H = 3_600_000


@pytest.mark.parametrize("raw", ["BTC", "btc", "BTCUSDT", "BTC/USDT", "BTC_USDT", "btc-usdt", " btcusdt "])
def test_every_accepted_spelling_maps_to_exchange_form(raw):
    assert normalise_symbol(raw) == "BTCUSDT"


@pytest.mark.parametrize("raw", ["", "BTC/USDT/X", "BTC$", None, 12, "../etc"])
def test_unreadable_symbols_are_rejected(raw):
    with pytest.raises(ValueError):
        normalise_symbol(raw)


def test_the_nine_timeframes():
    assert TIMEFRAMES == ("1m", "5m", "15m", "30m", "1h", "2h", "4h", "1d", "1w")


def test_weeks_open_on_monday():
    monday = np.datetime64("2025-06-30T00:00", "ms").astype(np.int64)  # a Monday
    assert period_start(monday + 3 * 86_400_000, "1w") == monday


def _hourly(n, start=0, drop=()):
    t = np.array([start + i * H for i in range(n) if i not in drop], dtype=np.int64)
    k = np.arange(len(t), dtype=float)
    return Candles.from_arrays("XUSDT", "1h", t, 10 + k, 11 + k, 9 + k, 10.5 + k, np.ones(len(t)))


def test_resample_aggregates_ohlcv_correctly():
    four = resample(_hourly(8), "4h")
    assert list(four.t) == [0, 4 * H]
    assert four.open[0] == 10 and four.close[0] == 13.5
    assert four.high[0] == 14 and four.low[0] == 9 and four.volume[0] == 4


def test_resample_drops_the_period_still_forming():
    four = resample(_hourly(10), "4h")  # hours 8 and 9 belong to an open period
    assert list(four.t) == [0, 4 * H]


def test_resample_keeps_a_closed_period_with_an_outage():
    four = resample(_hourly(8, drop={1}), "4h")
    assert len(four) == 2 and four.volume[0] == 3


def test_resample_rejects_non_divisible_targets():
    with pytest.raises(ValueError):
        resample(_hourly(4), "1h")
    assert TIMEFRAME_MS["1d"] % TIMEFRAME_MS["4h"] == 0
