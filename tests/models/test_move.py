"""The move model on synthetic returns of known volatility: its conformal intervals cover what they
say; the quantile recipe centres on probability_up; the inputs read no candle after t."""

from __future__ import annotations

import numpy as np
import pytest

from coinpredict.models.move import LEVELS, NORMAL_Z, MoveModel, centred_quantiles, future_targets, har_inputs


def _market(rng, n):
    """Log volatility an AR(1) the model sees with noise; fat-tailed returns (Student t, 4 dof) scaled by it;
    a log range that is the volatility times a positive noise."""
    log_vol = np.empty(n)
    log_vol[0] = -5.0
    shocks = rng.normal(0, 0.15, n)
    for i in range(1, n):
        log_vol[i] = -5.0 + 0.97 * (log_vol[i - 1] + 5.0) + shocks[i]
    vol = np.exp(log_vol)
    x = np.column_stack([log_vol + rng.normal(0, 0.05, n), rng.normal(size=n)])
    ret = vol * rng.standard_t(4, n) / np.sqrt(2.0)
    log_range = log_vol + np.log(np.abs(rng.normal(size=n)) + 0.5)
    return x, log_range[:, None], ret[:, None], vol


def test_intervals_cover_their_nominal_share_on_known_volatility():
    rng = np.random.default_rng(3)
    x, y, r, vol = _market(rng, 30_000)
    train, valid, test = slice(0, 8_000), slice(8_000, 18_000), slice(18_000, None)
    model = MoveModel(min_data_in_leaf=100, learning_rate=0.2)
    model.fit(x[train], y[train], x[valid], y[valid], r[valid], rounds=40, threads=1)
    q = model.forecast(model.predict_log(x[test], 0), np.full(12_000, 0.5), 0).quantiles_bps / 10_000
    ret, v = r[test, 0], vol[test]
    inside90 = (ret >= q[:, 0]) & (ret <= q[:, 4])
    inside50 = (ret >= q[:, 1]) & (ret <= q[:, 3])
    assert abs(inside90.mean() - 0.90) <= 0.02 and abs(inside50.mean() - 0.50) <= 0.02
    tercile = np.digitize(v, np.quantile(v, [1 / 3, 2 / 3]))
    for k in range(3):  # the scale follows the volatility, so every tercile is covered alike
        assert abs(inside90[tercile == k].mean() - 0.90) <= 0.03
    assert np.all(np.diff(q, axis=1) >= 0)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.73])
def test_the_centre_puts_probability_p_above_zero(p):
    q = centred_quantiles(np.array([100.0]), NORMAL_Z, np.array([p]))[0]
    shifted = NORMAL_Z - np.interp(1 - p, LEVELS, NORMAL_Z)
    assert np.interp(0.0, shifted, LEVELS) == pytest.approx(1 - p, abs=0.003)
    assert (q[2] > 0) == (p > 0.5) and np.all(np.diff(q) > 0)


def test_inputs_read_no_later_candle_and_targets_no_earlier_one():
    rng = np.random.default_rng(0)
    n = 400
    close = np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    high, low = close * 1.01, close * 0.99
    t = np.arange(n) * 3_600_000
    ends = np.arange(250, 300)
    before = har_inputs(high, low, close, ends)
    high2, low2, close2 = high.copy(), low.copy(), close.copy()
    high2[301:] *= 3
    close2[301:] *= 2
    assert np.array_equal(before, har_inputs(high2, low2, close2, ends))
    rng_h, ret_h = future_targets(high, low, close, t, 3_600_000, (1, 4))
    assert rng_h[10, 1] == pytest.approx(np.log(np.log(high[11:15].max() / low[11:15].min())))
    assert ret_h[10, 0] == pytest.approx(np.log(close[11] / close[10]))
    gap = np.delete(np.arange(n), 20)  # candle 20 missing: no target spans it
    r2, _ = future_targets(high[gap], low[gap], close[gap], t[gap], 3_600_000, (1, 4))
    assert np.isnan(r2[19, 0]) and np.isnan(r2[16, 1]) and np.isfinite(r2[15, 1])
