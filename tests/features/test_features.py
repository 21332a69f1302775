import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coinpredict.data.candles import Candles
from coinpredict.data.sources.csvdir import read_candle_csv
from coinpredict.data.sources.synthetic import SyntheticSource
from coinpredict.features.catalogue import catalogue, compute_output
from coinpredict.features.datasets import WARMUP_ROWS, build_pooled, direction_labels
from coinpredict.features.default import default_feature_set
from coinpredict.features.pipeline import FeatureSet, warmup_rows

NOW = 1_750_000_000
FULL = FeatureSet(tuple(default_feature_set("1h").names) + tuple(n for n in catalogue()
                                                                   if n not in default_feature_set("1h").names))


def synthetic(seed: int, n: int, timeframe: str = "1h") -> Candles:
    return SyntheticSource(["XUSDT"], seed=seed, clock=lambda: NOW).fetch("XUSDT", timeframe).last(n)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(260, 700), cut=st.integers(1, 200))
def test_no_feature_changes_when_later_candles_arrive(seed, n, cut):
    """Every feature (the whole catalogue) at t is identical from candles up to t or up to t+k."""
    candles = synthetic(seed, n)
    full = FULL.compute(candles)
    prefix = FULL.compute(candles.slice(0, n - cut))
    np.testing.assert_allclose(prefix, full[: n - cut], rtol=1e-9, atol=1e-12, equal_nan=True)


def test_catalogue_covers_the_applicable_talib_functions():
    specs = catalogue()
    assert len(specs) >= 150
    functions = {s.function for s in specs.values()}
    for name in ("RSI", "MACD", "BBANDS", "OBV", "ATR", "HT_DCPERIOD", "AVGPRICE", "CDLENGULFING", "CORREL"):
        assert name in functions


def test_every_catalogue_output_is_scale_free():
    """Multiplying prices or volume by 1000 leaves every transformed feature unchanged."""
    base = synthetic(1, 1500)
    series = {"open": base.open, "high": base.high, "low": base.low, "close": base.close, "volume": base.volume}
    scaled_p = {k: v * (1000 if k != "volume" else 1) for k, v in series.items()}
    scaled_v = {k: v * (1000 if k == "volume" else 1) for k, v in series.items()}
    for name, spec in catalogue().items():
        ref = compute_output(spec, series)[500:]
        for other in (scaled_p, scaled_v):
            got = compute_output(spec, other)[500:]
            ok = np.isfinite(ref) & np.isfinite(got)
            np.testing.assert_allclose(got[ok], ref[ok], rtol=1e-3, atol=1e-6, err_msg=name)


def test_the_serving_window_gives_the_training_features(shared_ohlcv):
    """Features of the last row from the last 500 candles equal those from the whole history."""
    fs = default_feature_set("1h")
    candles, _ = read_candle_csv(shared_ohlcv / "1h" / "BNBUSDT.csv", "1h")
    for end in (len(candles), len(candles) - 1000, 20_000):
        c = candles.slice(0, end)
        full = fs.compute(c)[-1]
        window = fs.compute(c.last(500))[-1]
        np.testing.assert_allclose(window, full, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("timeframe", ["1h", "4h", "1d"])
def test_warmup_fits_inside_the_declared_history(timeframe):
    fs = default_feature_set(timeframe)
    c = synthetic(5, 1000, timeframe)
    candles = Candles.from_arrays(c.symbol, timeframe, c.t, c.open, c.high, c.low, c.close, c.volume,
                                  extra={"taker_buy_volume": c.volume * 0.5, "trades": np.full(len(c), 50.0)})
    x = fs.compute(candles, {a: candles for a in fs.anchors})  # the coin as its own anchor: context starts too
    assert warmup_rows(x) <= WARMUP_ROWS
    assert np.isfinite(x[WARMUP_ROWS:]).mean() > 0.99


def test_labels_need_the_exact_future_candle_and_ties_are_not_up():
    t = np.array([0, 1, 2, 4, 5], dtype=np.int64) * 3_600_000
    c = np.array([1.0, 2.0, 2.0, 3.0, 1.0])
    candles = Candles.from_arrays("X", "1h", t, c, c, c, c, c)
    y = direction_labels(candles, (1, 2))
    assert list(y[:2, 0]) == [1.0, 0.0] and np.isnan(y[2, 0]) and y[3, 0] == 0.0 and np.isnan(y[4, 0])
    # two ahead: 0 -> 2 up, 1 -> 3 is a gap (t=4 is not 2 steps after t=1), 2 -> 4 is a gap too
    assert y[0, 1] == 1.0 and np.isnan(y[1:, 1]).all()


def test_pooled_windows_are_gathered_not_copied_and_scaler_sees_training_rows_only():
    series = [synthetic(s, 800) for s in (1, 2)]
    for i, c in enumerate(series):
        c.symbol = f"S{i}USDT"
    fs = default_feature_set("1h")
    data = build_pooled(series, fs, window=16, horizons=(1,))
    assert data.features.shape == (1600, len(fs))  # one row per candle, not per window
    ends = data.select()
    assert data.symbol_index[ends].min() == 0 and data.symbol_index[ends].max() == 1
    assert not np.any(np.isin(ends, [800, 801]))  # a window never spans two symbols
    w = data.windows(ends[:5])
    np.testing.assert_array_equal(w[0], data.features[ends[0] - 15: ends[0] + 1])
    train = ends[data.t[ends] < np.median(data.t[ends])]
    scaler = data.fit_scaler(train)
    with warnings.catch_warnings():  # a context column without data (no anchor given here) scales to 0
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nan_to_num(np.nanmean(data.features[train], axis=0))
    np.testing.assert_allclose(scaler.mean, expected, rtol=1e-5, atol=1e-6)


def test_outcome_features_read_the_price_grid_and_recent_outcomes():
    """A coin priced on a 0.01 grid near 2.00: the tick is found, and flat and up shares are counted."""
    n = 400
    rng = np.random.default_rng(3)
    steps = rng.choice([-2, -1, 0, 1, 2], size=n, p=[0.2, 0.2, 0.2, 0.2, 0.2])
    close = 2.0 + np.cumsum(steps) * 0.01
    candles = Candles.from_arrays("XUSDT", "1h", np.arange(n) * 3_600_000, close, close + 0.02, close - 0.02,
                                  close, np.full(n, 100.0))
    fs = FeatureSet(("tick_rel", "move_ticks", "flat_48", "up_48"))
    x = fs.compute(candles)
    last = n - 1
    np.testing.assert_allclose(x[last, 0], np.log(0.01 / close[last]), rtol=1e-4)
    assert x[last, 1] > 0  # an hour's move spans more than one tick
    recent = np.diff(close)[-48:]
    np.testing.assert_allclose(x[last, 2], np.mean(recent == 0), atol=1e-6)
    np.testing.assert_allclose(x[last, 3], np.mean(recent > 0), atol=1e-6)
    assert np.isnan(x[100, 0])  # the tick needs a week of closes


def test_extra_columns_change_no_feature_and_pool_with_plain_series():
    """Candles carrying the exchange's extra columns give the same features as the same OHLCV without
    them, and a series with them pools with one without."""
    plain = synthetic(3, 800)
    rng = np.random.default_rng(3)
    share = rng.uniform(0.2, 0.8, len(plain))
    wide = Candles.from_arrays("YUSDT", "1h", plain.t, plain.open, plain.high, plain.low, plain.close,
                               plain.volume, extra={"quote_volume": plain.volume * plain.close,
                                                    "trades": rng.integers(0, 500, len(plain)),
                                                    "taker_buy_volume": plain.volume * share})
    np.testing.assert_array_equal(FULL.compute(wide), FULL.compute(plain))
    data = build_pooled([wide, plain], default_feature_set("1h"), window=16, horizons=(1,))
    assert data.features.shape[0] == 2 * len(plain)
