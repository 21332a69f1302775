"""Feature rows (cached for market candles, never for a client's) and gathering candles."""

from __future__ import annotations

import numpy as np
import pytest

from coinpredict.data.candles import Candles
from coinpredict.features.datasets import input_rows
from coinpredict.models.registry import ENSEMBLE_ID
from coinpredict.serving import PredictRequest
from coinpredict.serving.features import FeatureCache, feature_rows
from coinpredict.serving.gather import CandleGatherer
from coinpredict.serving.resolve import plan_for


def test_the_cache_is_a_bounded_lru():
    cache = FeatureCache(size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the newest
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3 and len(cache) == 2


def test_market_rows_are_computed_once_and_client_rows_never_cached(store, market):
    entry = store.get("1h", "gru_standard")
    need = input_rows(entry.manifest.window)
    candles = market.candles("ETHUSDT", "1h", 500)
    cache = FeatureCache()
    first = feature_rows(candles, entry, need, cache)
    assert first.shape == (need, len(entry.feature_set.names)) and len(cache) == 1
    assert np.shares_memory(feature_rows(candles, entry, need, cache), first)  # served from the cache
    own = Candles.from_arrays("ETHUSDT", "1h", candles.t, candles.open, candles.high, candles.low, candles.close,
                              candles.volume, source="request")
    np.testing.assert_allclose(feature_rows(own, entry, need, cache), first)
    assert len(cache) == 1


def test_candles_are_fetched_once_per_symbol_and_client_candles_are_checked(store, market):
    gatherer = CandleGatherer(market, lookback=500)
    reqs = [PredictRequest("BTCUSDT", "1h", "xgboost"), PredictRequest("BTCUSDT", "1h", ENSEMBLE_ID),
            PredictRequest("SOLUSDT", "1h", "xgboost")]
    short = market.candles("ETHUSDT", "1h", 20)
    reqs.append(PredictRequest("ETHUSDT", "1h", "xgboost", candles=short))
    plans = {i: plan_for(store, r) for i, r in enumerate(reqs)}
    got = gatherer.gather(reqs, plans)
    assert got[0] is got[1] and got[2].symbol == "SOLUSDT" and len(got[0]) == 500
    assert got[3].code == "too_few_candles" and got[3].details == {"needed": plans[3].need, "got": 20}


def test_a_symbol_without_enough_history_is_503(store, synthetic_dir):
    from coinpredict.config import Settings
    from coinpredict.data.market import MarketData

    gatherer = CandleGatherer(MarketData(Settings(offline=True, ohlcv_dir=synthetic_dir)), lookback=10)
    req = PredictRequest("BTCUSDT", "1h", "xgboost")
    got = gatherer.gather([req], {0: plan_for(store, req)})
    assert got[0].code == "insufficient_history"


@pytest.mark.parametrize("rows", [[], "x", [[1, 2, 3]]])
def test_unusable_client_candles_are_a_data_error(rows):
    from coinpredict.data.client_candles import InvalidCandles, parse_candles
    from coinpredict.errors import DataError

    with pytest.raises(InvalidCandles) as info:
        parse_candles(rows, "BTCUSDT", "1h")
    assert isinstance(info.value, DataError)
