"""The relative target's labels by hand: the coin's log return over h candles against the mean of the
market's (at least three coins with both candles), unknown where the market's mean or the coin's own
return is; pooled data carries them beside direction and masks nothing of direction's."""

import numpy as np

from coinpredict.data.candles import Candles
from coinpredict.features.datasets import build_pooled, outperform_labels
from coinpredict.features.default import default_feature_set
from coinpredict.features.market_context import forward_means, market_forward_mean

H = 3_600_000


def coin(symbol: str, close, t=None) -> Candles:
    close = np.asarray(close, dtype=np.float64)
    t = np.arange(len(close), dtype=np.int64) * H if t is None else np.asarray(t, dtype=np.int64)
    return Candles.from_arrays(symbol, "1h", t, close, close * 1.01, close * 0.99, close, np.ones(len(close)))


def test_outperform_labels_by_hand():
    a = coin("AUSDT", [100, 110, 99, 99, 120])
    b = coin("BUSDT", [10, 10, 12, 13, 13])
    c = coin("CUSDT", [50, 45, 45, 50, 40])
    d = coin("DUSDT", [20, 21, 22], np.array([0, 1, 3]) * H)  # no candle at 2h: 1h->3h is two steps, not one
    forward = forward_means([a, b, c, d], "1h", (1, 2))
    # 0h->1h: a +log1.1, b 0, c log0.9, d log1.05: a and d beat the mean of four
    mean01 = (np.log(1.1) + 0 + np.log(0.9) + np.log(1.05)) / 4
    assert np.isclose(forward[1][1][0], mean01)
    ya = outperform_labels(a, (1, 2), forward)
    yd = outperform_labels(d, (1, 2), forward)
    assert ya[0, 0] == 1 and yd[0, 0] == 1 and outperform_labels(b, (1,), forward)[0, 0] == 0
    # 1h->2h: a log0.9, b log1.2, c 0 (three coins): only b beats the mean
    assert outperform_labels(b, (1,), forward)[1, 0] == 1 and ya[1, 0] == 0
    # 3h->4h: a log(120/99), b 0, c log0.8, d has no 4h candle: three coins, a beats
    assert ya[3, 0] == 1
    # 2h->4h (h=2): a, b, c have both candles: a log(120/99) > mean
    assert ya[2, 1] == 1 and outperform_labels(c, (2,), forward)[2, 0] == 0
    # d's 1h->3h is not one step, and its last candle has no future: unknown
    assert np.isnan(yd[1, 0]) and np.isnan(yd[2, 0]) and np.isnan(ya[4]).all()


def test_fewer_than_three_coins_leave_the_label_unknown():
    a, b = coin("AUSDT", [100, 110, 120]), coin("BUSDT", [10, 9, 9])
    _, fwd = market_forward_mean([a, b], "1h", 1)
    assert np.isfinite(fwd[:2]).all()  # the plain mean exists (min_coins 1)
    assert np.isnan(outperform_labels(a, (1,), forward_means([a, b], "1h", (1,)))).all()


def test_pooled_data_carries_both_targets_and_direction_rows_are_not_masked_by_the_relative_one():
    rng = np.random.default_rng(3)
    series = [coin(f"{s}USDT", 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 400)))) for s in "ABC"]
    thin = coin("DUSDT", 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 400))), np.arange(400, 800) * H)
    fs = default_feature_set("1h")
    everything = [*series, thin]
    data = build_pooled(everything, fs, window=8, horizons=(1, 4), forward=forward_means(everything, "1h", (1, 4)))
    assert data.targets == ("direction", "outperform") and data.outperform.shape == data.labels.shape
    ends = data.select()
    alone = data.symbol_index[ends] == 3  # D trades alone: no market, yet its direction rows stay
    assert alone.any() and np.isnan(data.outperform[ends[alone]]).all()
    both = data.target_labels(ends[~alone])
    assert both.shape == (int((~alone).sum()), 4) and np.isfinite(both).all()
    assert build_pooled(series, fs, window=8, horizons=(1,)).targets == ("direction",)
