"""Staleness by the wall clock in every mode: a candle folder whose newest candle is old says so."""

from __future__ import annotations

from coinpredict.config import Settings
from coinpredict.data.market import MarketData
from tests.conftest import SYNTHETIC_END_MS


def test_a_folder_of_old_candles_is_stale_and_says_why(synthetic_dir):
    close_s = SYNTHETIC_END_MS / 1000  # the folder's newest candle closes at the end
    fresh = MarketData(Settings(offline=True, ohlcv_dir=synthetic_dir), clock=lambda: close_s + 1800)
    candles = fresh.candles("BTCUSDT", "1h", 100)
    assert candles.meta["data_stale"] is False and candles.meta["last_candle_age_s"] == 1800
    old = MarketData(Settings(offline=True, ohlcv_dir=synthetic_dir), clock=lambda: close_s + 10 * 86_400)
    candles = old.candles("BTCUSDT", "1h", 100)
    assert candles.meta["data_stale"] is True and candles.meta["last_candle_age_s"] == 10 * 86_400
    assert candles.meta["stale_reason"] == "the candle folder holds nothing newer"
    past = old.candles("BTCUSDT", "1h", 100, end_ms=SYNTHETIC_END_MS - 86_400_000)
    assert not past.meta["data_stale"] and "last_candle_age_s" not in past.meta  # a window in the past
    assert "stale_reason" not in past.meta and "stale_reason" not in fresh.candles("BTCUSDT", "1h", 100).meta
