"""The fitted baseline: causal scaled returns, and a logistic fit that finds a planted reversal."""

from __future__ import annotations

import numpy as np

from coinpredict.common.metrics import fast_auc
from coinpredict.data.candles import Candles
from coinpredict.evaluation.baselines import fitted_baseline, scaled_returns

HOUR = 3_600_000


def candles(symbol: str, close: np.ndarray, t0: int = 0) -> Candles:
    t = t0 + HOUR * np.arange(len(close), dtype=np.int64)
    return Candles(symbol=symbol, timeframe="1h", t=t, open=close, high=close * 1.001, low=close * 0.999,
                   close=close, volume=np.ones(len(close)))


def reverting(n: int, seed: int, strength: float = 0.3) -> np.ndarray:
    """Log returns that undo ``strength`` of the previous one: a reversal a 1-lag regression finds."""
    rng = np.random.default_rng(seed)
    shocks = 0.01 * rng.standard_normal(n)
    r = np.zeros(n)
    for i in range(1, n):
        r[i] = shocks[i] - strength * r[i - 1]
    return 100 * np.exp(np.cumsum(r))


def test_scaled_returns_use_no_later_candle():
    close = reverting(400, 0)
    before = scaled_returns(candles("A", close))
    changed = close.copy()
    changed[300:] *= 1.5  # everything from candle 300 on
    after = scaled_returns(candles("A", changed))
    np.testing.assert_array_equal(before[:300], after[:300])
    assert np.abs(before[60:]).sum() > 0


def test_a_gap_leaves_the_returns_across_it_at_zero():
    c = candles("A", reverting(200, 1))
    c.t[100:] += HOUR  # one missing candle before row 100
    rows = scaled_returns(c)
    assert (rows[100] == 0).all() and (rows[101, 1:] == 0).all() and rows[103, 0] != 0


def test_the_fit_finds_a_planted_reversal_out_of_sample():
    series = {s: candles(s, reverting(3000, i)) for i, s in enumerate(["AUSDT", "BUSDT", "BTCUSDT"])}
    symbols = list(series)
    symbol_index = np.repeat(np.arange(3), 3000)
    t = np.concatenate([c.t for c in series.values()])
    close = np.concatenate([c.close for c in series.values()])
    labels = np.full(len(t), np.nan)
    for s in range(3):
        rows = np.flatnonzero(symbol_index == s)
        labels[rows[:-1]] = (close[rows[1:]] > close[rows[:-1]]).astype(float)
    train = np.flatnonzero((t > 100 * HOUR) & (t < 2000 * HOUR))
    test = np.flatnonzero((t >= 2000 * HOUR) & np.isfinite(labels))
    p = fitted_baseline(series, series["BTCUSDT"], symbols, symbol_index, t, labels, train, test)
    assert fast_auc(labels[test], p) > 0.58
    shuffled = np.random.default_rng(9).permutation(labels[train])
    flat = labels.copy()
    flat[train] = shuffled  # nothing to learn: near chance
    q = fitted_baseline(series, series["BTCUSDT"], symbols, symbol_index, t, flat, train, test)
    assert abs(fast_auc(labels[test], q) - 0.5) < 0.05
