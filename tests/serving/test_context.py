"""Market context in serving: anchor candles gathered once per batch, client candles matched with the
market's anchor at their own times, cache rows keyed by the anchor's last candle, and the served rows
equal to the training rows."""

from __future__ import annotations

import numpy as np

from coinpredict.data.candles import Candles
from coinpredict.data.sources.csvdir import load_folder
from coinpredict.features.datasets import build_pooled, input_rows
from coinpredict.serving import PredictRequest
from coinpredict.serving.features import FeatureCache, feature_rows
from coinpredict.serving.gather import CandleGatherer
from coinpredict.serving.resolve import plan_for


def own(c: Candles) -> Candles:
    return Candles.from_arrays(c.symbol, c.timeframe, c.t, c.open, c.high, c.low, c.close, c.volume, source="request")


def test_anchor_candles_are_gathered_once_per_batch_and_client_candles_get_them_at_their_times(store, market):
    gatherer = CandleGatherer(market, lookback=500)
    client = own(market.candles("ETHUSDT", "1h", 500).slice(0, 450))  # a client history ending 50 candles ago
    reqs = [PredictRequest("SOLUSDT", "1h", "lightgbm"), PredictRequest("BTCUSDT", "1h", "xgboost"),
            PredictRequest("ETHUSDT", "1h", "lightgbm"), PredictRequest("ETHUSDT", "1h", "lightgbm", candles=client)]
    plans = {i: plan_for(store, r) for i, r in enumerate(reqs)}
    candles = gatherer.gather(reqs, plans)
    anchors = gatherer.anchors(reqs, plans, candles)
    assert anchors[0]["BTCUSDT"] is candles[1] and anchors[2]["BTCUSDT"] is candles[1]  # the batch's own, once
    mine = anchors[3]["BTCUSDT"]
    assert mine.t[-1] == client.t[-1] and len(mine) == 500


def test_a_cached_row_is_never_served_after_the_anchor_moved_on(store, market):
    entry = store.get("1h", "lightgbm")
    need = input_rows(entry.manifest.window)
    coin, btc = market.candles("SOLUSDT", "1h", 500), market.candles("BTCUSDT", "1h", 500)
    cache = FeatureCache()
    behind = feature_rows(coin, entry, need, cache, {"BTCUSDT": btc.slice(0, len(btc) - 1)})
    current = feature_rows(coin, entry, need, cache, {"BTCUSDT": btc})
    assert len(cache) == 2
    col = entry.feature_set.names.index("btc_ret_1")
    assert behind[-1, col] == 0.0 and current[-1, col] != 0.0  # missing (scaled to the mean) vs known
    np.testing.assert_array_equal(behind[:-1], current[:-1])
    np.testing.assert_array_equal(feature_rows(coin, entry, need, cache, {"BTCUSDT": btc}), current)


def test_served_rows_equal_the_training_rows_with_the_anchor(store, market, synthetic_dir):
    """The scaled rows the 500-candle serving window gives equal those of the whole history pooled."""
    entry = store.get("1h", "gru_standard")
    need = input_rows(entry.manifest.window)
    series = {c.symbol: c for c in load_folder(synthetic_dir, "1h")}
    data = build_pooled([series["SOLUSDT"]], entry.feature_set, window=entry.manifest.window, horizons=(1,),
                        anchors={"BTCUSDT": series["BTCUSDT"]})
    data.scale(entry.scaler)
    for cut in (len(series["SOLUSDT"]), len(series["SOLUSDT"]) - 300):
        coin = series["SOLUSDT"].slice(0, cut)
        btc = series["BTCUSDT"].until(int(coin.t[-1]) + 3_600_000)
        rows = feature_rows(coin.last(500), entry, need, FeatureCache(), {"BTCUSDT": btc.last(500)})
        np.testing.assert_allclose(rows, data.features[cut - need:cut], rtol=1e-5, atol=1e-5)
