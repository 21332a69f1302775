import numpy as np
import pytest
from scipy.stats import kurtosis

from coinpredict.config import Settings
from coinpredict.data.market import MarketData
from coinpredict.data.providers import LiveProvider, SyntheticProvider
from coinpredict.data.sources.synthetic import SyntheticSource
from coinpredict.data.universe import BUNDLED_TOP100, Universe
from coinpredict.errors import NotFound, Unavailable

NOW = 1_750_000_000


def test_synthetic_market_is_deterministic_and_never_rewrites_history():
    a = SyntheticSource(["XUSDT"], seed=3, clock=lambda: NOW).fetch("XUSDT", "1h")
    b = SyntheticSource(["XUSDT"], seed=3, clock=lambda: NOW + 86_400 * 30).fetch("XUSDT", "1h")
    assert np.array_equal(a.close, b.close[: len(a)])
    c = SyntheticSource(["XUSDT"], seed=4, clock=lambda: NOW).fetch("XUSDT", "1h")
    assert not np.array_equal(a.close, c.close)


def test_synthetic_market_has_fat_tails_vol_clustering_and_volume_following_volatility():
    c = SyntheticSource(["XUSDT"], clock=lambda: NOW).fetch("XUSDT", "1h")
    r = np.diff(np.log(c.close))
    assert kurtosis(r) > 3
    assert np.corrcoef(np.abs(r[1:]), np.abs(r[:-1]))[0, 1] > 0.1
    assert np.corrcoef(np.abs(r), np.log(c.volume[1:]))[0, 1] > 0.1
    assert np.all(c.high >= np.maximum(c.open, c.close)) and np.all(c.low <= np.minimum(c.open, c.close))


def test_universe_falls_back_to_the_bundled_list_when_offline():
    coins, origin = Universe("http://127.0.0.1:9/markets", timeout_s=0.5).top(100)
    assert "bundled" in origin and coins[0] == "BTC" and "USDT" not in coins
    assert len(BUNDLED_TOP100) == 100


def test_offline_with_an_empty_store_answers_503_never_invented_prices(tmp_path):
    market = MarketData(Settings(offline=True, store_path=tmp_path / "s.sqlite"), clock=lambda: NOW)
    assert isinstance(market.provider, LiveProvider)
    with pytest.raises(Unavailable) as err:
        market.candles("BTCUSDT", "1h", 500)
    assert err.value.retry_after and err.value.code == "data_unavailable"


def test_synthetic_market_only_when_asked_for_and_labelled(tmp_path):
    market = MarketData(Settings(synthetic=True, store_path=tmp_path / "s.sqlite"), clock=lambda: NOW)
    candles = market.candles("BTCUSDT", "1h", 500)
    assert isinstance(market.provider, SyntheticProvider) and len(candles) == 500
    assert candles.meta["data_source"] == "synthetic" and "synthetic" in candles.meta["warning"]
    with pytest.raises(NotFound):
        market.candles("NOPEUSDT", "1h", 500)


def test_unreachable_exchange_answers_from_the_store_marked_stale(tmp_path):
    settings = Settings(store_path=tmp_path / "s.sqlite", exchange_url="http://127.0.0.1:9")
    stored = SyntheticSource(["XUSDT"], clock=lambda: NOW - 7200).fetch("XUSDT", "1h")
    stored.source = "exchange"
    from coinpredict.data.store import CandleStore

    CandleStore(settings.store_path).upsert(stored.last(300))
    market = MarketData(settings, clock=lambda: NOW)
    assert isinstance(market.provider, LiveProvider)
    with pytest.raises(Unavailable) as err:
        market.candles("YUSDT", "1h", 100)
    assert err.value.retry_after
    candles = market.candles("XUSDT", "1h", 100)
    assert len(candles) == 100 and candles.meta["data_stale"] is True
    assert candles.meta["last_candle_age_s"] >= 3600


def test_csv_candles_resampled_from_a_finer_file_say_csv_and_warn(synthetic_dir):
    market = MarketData(Settings(ohlcv_dir=synthetic_dir, offline=True))
    candles = market.candles("BTCUSDT", "4h", 100)  # the folder holds 1h only
    assert candles.meta["data_source"] == "csv" and candles.meta["warning"] == "resampled from 1h"
    assert market.candles("BTCUSDT", "1h", 100).meta.get("warning") is None
