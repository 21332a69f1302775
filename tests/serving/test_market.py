"""The cross-sectional market in serving: built once per timeframe and close (counted), a client's own
candles given the market as of their last candle, and the served ``mkt_*`` rows equal to the rows
training pools from the whole folder."""

from __future__ import annotations

import dataclasses

import numpy as np

from coinpredict.data.candles import Candles
from coinpredict.data.sources.csvdir import load_folder
from coinpredict.features.datasets import Scaler, build_pooled, input_rows
from coinpredict.features.market_context import MARKET_FEATURES, folder_market
from coinpredict.features.pipeline import FeatureSet
from coinpredict.serving import PredictRequest
from coinpredict.serving.features import FeatureCache, feature_rows
from coinpredict.serving.gather import CandleGatherer
from coinpredict.serving.predictor import Predictor, reads_market
from coinpredict.serving.resolve import plan_for

H = 3_600_000


def own(c: Candles) -> Candles:
    return Candles.from_arrays(c.symbol, c.timeframe, c.t, c.open, c.high, c.low, c.close, c.volume, source="request")


def with_market(entry, data_dir, same_width: bool = False):
    """``entry`` reading the market too, its scaler fitted on the folder's pooled rows; ``same_width``: in
    place of its last columns, so its model takes the rows as they come (a model trained on the market)."""
    names = tuple(n for n in entry.feature_set.names if n not in MARKET_FEATURES)
    fs = FeatureSet((names[:-len(MARKET_FEATURES)] if same_width else names) + MARKET_FEATURES)
    series = load_folder(data_dir, "1h")
    market = folder_market(data_dir, "1h", series, None, None)
    data = build_pooled(series, fs, window=entry.manifest.window, horizons=(1,), market=market)
    return dataclasses.replace(entry, feature_set=fs, scaler=Scaler.fit(data.features[data.select()]))


def test_the_market_is_built_once_per_close_and_client_candles_get_it_at_their_own_time(store, market):
    gatherer = CandleGatherer(market, lookback=500)
    client = own(market.candles("ETHUSDT", "1h", 500).slice(0, 450))  # a history ending 50 candles ago
    reqs = [PredictRequest(s, "1h", "lightgbm") for s in ("SOLUSDT", "BTCUSDT", "ETHUSDT")]
    reqs.append(PredictRequest("ETHUSDT", "1h", "lightgbm", candles=client))
    plans = {i: plan_for(store, r) for i, r in enumerate(reqs)}
    for _ in range(3):  # three calls after the same close
        candles = gatherer.gather(reqs, plans)
        frames = gatherer.markets(reqs, candles, set(plans))
        assert frames[0] is frames[1] is frames[2] and gatherer.market_cache.builds == 2
    newest = int(candles[0].t[-1])
    assert frames[0].t[-1] == newest and frames[0].coins[-1] == 3
    assert frames[3].t[-1] == client.t[-1] and frames[3] is not frames[0]  # as of its own last candle
    assert len(frames[0]) == 500 and set(frames[0].symbols) == {"SOLUSDT", "BTCUSDT", "ETHUSDT"}


def test_predictions_build_the_market_once_per_close_and_only_for_models_that_read_it(store, synthetic_dir,
                                                                                     monkeypatch):
    """A model saved without the features (before them) serves without the market; one that reads it has
    it built once for every request and call after the same close."""
    predictor = Predictor.offline(store, synthetic_dir)
    cache = predictor.candles.market_cache
    reqs = [PredictRequest(s, "1h", "lightgbm") for s in ("SOLUSDT", "BTCUSDT", "ETHUSDT")]
    entry = store.get("1h", "lightgbm")
    plain = dataclasses.replace(entry, feature_set=FeatureSet(tuple(n for n in entry.feature_set.names
                                                                    if n not in MARKET_FEATURES)))
    plans = {i: dataclasses.replace(plan_for(store, r), members=[plain]) for i, r in enumerate(reqs)}
    move = store.moves.get("1h")
    move_reads = move is not None and move.status == "ready" and move.feature_set.reads_market
    assert reads_market(store, reqs, plans) == ({0, 1, 2} if move_reads else set())
    newer = with_market(entry, synthetic_dir, same_width=True)
    original = store.get
    monkeypatch.setattr(store, "get", lambda tf, m: newer if (tf, m) == ("1h", "lightgbm") else original(tf, m))
    before = cache.builds
    answers = predictor.predict_many(reqs) + predictor.predict_many(reqs[:1])
    assert cache.builds == before + 1
    assert all(isinstance(a, dict) and 0 < a["probability_up"] < 1 for a in answers)
    assert answers[0]["probability_up"] == answers[3]["probability_up"]


def test_served_market_rows_equal_the_training_rows(store, market, synthetic_dir):
    """The scaled rows served from 500-candle windows and the cached market equal those pooled in training
    from the whole folder, the ``mkt_*`` columns included (and known at the last row)."""
    entry = with_market(store.get("1h", "lightgbm"), synthetic_dir)
    need = input_rows(entry.manifest.window)
    series = {c.symbol: c for c in load_folder(synthetic_dir, "1h")}
    data = build_pooled([series["SOLUSDT"]], entry.feature_set, window=entry.manifest.window, horizons=(1,),
                        anchors={"BTCUSDT": series["BTCUSDT"]},
                        market=folder_market(synthetic_dir, "1h", [series["SOLUSDT"]], None, None))
    data.scale(entry.scaler)
    gatherer = CandleGatherer(market, lookback=500)
    cols = [entry.feature_set.names.index(n) for n in MARKET_FEATURES]
    for cut in (len(series["SOLUSDT"]), len(series["SOLUSDT"]) - 300):
        coin = own(series["SOLUSDT"].slice(0, cut).last(500))
        btc = series["BTCUSDT"].until(int(coin.t[-1]) + H)
        req = PredictRequest("SOLUSDT", "1h", "lightgbm", candles=coin)
        frame = gatherer.markets([req], {0: coin}, {0})[0]
        rows = feature_rows(coin, entry, need, FeatureCache(), {"BTCUSDT": btc.last(500)}, frame)
        np.testing.assert_allclose(rows, data.features[cut - need:cut], rtol=1e-5, atol=1e-5)
        raw = entry.feature_set.compute(coin, {"BTCUSDT": btc.last(500)}, frame)[-1, cols]
        assert np.isfinite(raw).all() and raw[0] == 1
