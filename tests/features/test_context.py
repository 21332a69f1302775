"""Order flow and market context: causal in the coin's and the anchor's candles, reproduced by a
500-candle serving window, missing (NaN, flag 0) where the columns or the anchor candle are missing."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coinpredict.data.candles import Candles
from coinpredict.data.sources.csvdir import read_candle_csv
from coinpredict.data.sources.synthetic import SyntheticSource
from coinpredict.features.context import CONTEXT_FEATURES, ORDER_FLOW_FEATURES, anchor_features
from coinpredict.features.datasets import build_pooled
from coinpredict.features.default import default_feature_set
from coinpredict.features.market_context import MARKET_FEATURES, build_market
from coinpredict.features.pipeline import CORE_FEATURES, FeatureSet

NOW = 1_750_000_000
CONTEXT = FeatureSet(("ret_z", "vol_z", *CONTEXT_FEATURES, *MARKET_FEATURES))
OTHERS = ("AUSDT", "BUSDT", "CUSDT")  # the rest of the market


def with_flow(c: Candles, seed: int, symbol: str | None = None) -> Candles:
    """``c`` with plausible extra columns (taker buys, trades, quote volume)."""
    rng = np.random.default_rng(seed)
    share = rng.uniform(0.2, 0.8, len(c))
    return Candles.from_arrays(symbol or c.symbol, c.timeframe, c.t, c.open, c.high, c.low, c.close, c.volume,
                               extra={"quote_volume": c.volume * c.close, "trades": rng.integers(1, 900, len(c)),
                                      "taker_buy_volume": c.volume * share})


def market(seed: int, n: int, symbols: tuple[str, ...] = ("XUSDT", "BTCUSDT", "ETHUSDT")) -> dict[str, Candles]:
    src = SyntheticSource(list(symbols), seed=seed, clock=lambda: NOW)
    return {s: with_flow(src.fetch(s, "1h").last(n), seed + i) for i, s in enumerate(symbols)}


def take(c: Candles, keep: np.ndarray) -> Candles:
    return Candles.from_arrays(c.symbol, c.timeframe, c.t[keep], c.open[keep], c.high[keep], c.low[keep],
                               c.close[keep], c.volume[keep], extra={k: a[keep] for k, a in c.extra.items()})


def scrambled_after(c: Candles, t_ms: int, seed: int) -> Candles:
    """``c`` with every candle opened after ``t_ms`` given other values, and some of them dropped."""
    rng = np.random.default_rng(seed)
    late = c.t > t_ms
    k = np.where(late, np.exp(rng.normal(0, 0.05, len(c))), 1.0)
    wide = np.where(late, 1.05, 1.0)
    extra = {name: np.where(late, a[::-1], a) for name, a in c.extra.items()}
    other = Candles.from_arrays(c.symbol, c.timeframe, c.t, c.open * k, c.high * k * wide, c.low * k / wide,
                                c.close * k, c.volume * k, extra=extra)
    return take(other, ~late | (rng.random(len(c)) > 0.2))


def listed_after(c: Candles, t_ms: int, symbol: str) -> Candles:
    """A coin whose candles all open after ``t_ms`` (listed later)."""
    late = take(c, c.t > t_ms)
    return Candles.from_arrays(symbol, c.timeframe, late.t, late.open, late.high, late.low, late.close, late.volume)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(300, 600), cut=st.integers(1, 150), holes=st.integers(0, 20))
def test_context_rows_never_change_when_later_candles_change(seed, n, cut, holes):
    """Changing (or dropping, or adding) any candle after t, the coin's, an anchor's or any other coin's of
    the market (one listed only after t included), leaves every row <= t as it was; anchor candles and
    market coins missing before t stay missing (NaN + flag, fewer coins) either way."""
    m = market(seed, n, ("XUSDT", "BTCUSDT", "ETHUSDT", *OTHERS))
    rng = np.random.default_rng(seed)
    keep = np.ones(n, dtype=bool)
    keep[rng.choice(n, holes, replace=False)] = False
    m["BTCUSDT"] = take(m["BTCUSDT"], keep)
    m["AUSDT"] = take(m["AUSDT"], keep[::-1])
    coin = m.pop("XUSDT")
    t_cut = int(coin.t[n - cut - 1])
    anchors = {s: m[s] for s in ("BTCUSDT", "ETHUSDT")}
    full = CONTEXT.compute(coin, anchors, build_market([coin, *m.values()], "1h"))
    late = {s: scrambled_after(a, t_cut, seed + i) for i, (s, a) in enumerate(m.items(), 1)}
    newcomer = listed_after(m["BUSDT"], t_cut, "DUSDT")
    scrambled = scrambled_after(coin, t_cut, seed)
    changed = CONTEXT.compute(scrambled, {s: late[s] for s in anchors},
                              build_market([scrambled, *late.values(), newcomer], "1h"))
    cut_m = {s: a.until(t_cut + 1) for s, a in m.items()}
    prefix = CONTEXT.compute(coin.until(t_cut + 1), {s: cut_m[s] for s in anchors},
                             build_market([coin.until(t_cut + 1), *cut_m.values()], "1h"))
    rows = n - cut
    np.testing.assert_allclose(changed[:rows], full[:rows], rtol=1e-9, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(prefix, full[:rows], rtol=1e-9, atol=1e-12, equal_nan=True)
    assert np.isfinite(full[rows - 1, [CONTEXT.names.index(f) for f in MARKET_FEATURES]]).all()


def test_anchors_are_learned_from_the_names():
    assert FeatureSet(("ret_z", "btc_ret_1", "eth_share", "btc_excess_24")).anchors == ("BTCUSDT", "ETHUSDT")
    assert default_feature_set("1h").anchors == tuple(dict.fromkeys(default_feature_set("1h").anchors))
    assert FeatureSet(CORE_FEATURES).anchors == ()
    assert FeatureSet(("ret_z", "btc_ret_1")).optional.tolist() == [False, True]


def test_missing_columns_and_anchor_candles_are_missing_and_flagged_never_invented():
    m = market(3, 400)
    coin = m.pop("XUSDT")
    plain = Candles.from_arrays("XUSDT", "1h", coin.t, coin.open, coin.high, coin.low, coin.close, coin.volume)
    names = CONTEXT.names
    x = CONTEXT.compute(plain, None)
    flow = [names.index(n) for n in ORDER_FLOW_FEATURES if n != "of_avail"]
    assert np.isnan(x[:, flow]).all() and (x[:, names.index("of_avail")] == 0).all()
    for prefix in ("btc", "eth"):
        cols = [names.index(n) for n in anchor_features(prefix) if not n.endswith("avail")]
        assert np.isnan(x[:, cols]).all() and (x[:, names.index(f"{prefix}_avail")] == 0).all()
    holed = m["BTCUSDT"].slice(0, 300)  # the anchor stops 100 candles early
    y = CONTEXT.compute(coin, {"BTCUSDT": holed})
    avail = y[:, names.index("btc_avail")]
    assert (avail[:300] == 1).all() and (avail[300:] == 0).all()
    assert np.isnan(y[300:, names.index("btc_ret_1")]).all() and np.isfinite(y[250:300, names.index("btc_ret_1")]).all()
    share = y[:, names.index("of_share")]
    np.testing.assert_allclose(share, coin.extra["taker_buy_volume"] / coin.volume - 0.5, rtol=1e-5)


def test_a_coin_is_its_own_anchor_with_no_excess_return():
    m = market(5, 400)
    x = CONTEXT.compute(m["BTCUSDT"], m)
    col = CONTEXT.names.index("btc_excess_24")
    np.testing.assert_allclose(x[100:, col], 0, atol=1e-6)
    np.testing.assert_allclose(x[100:, CONTEXT.names.index("btc_ret_1")], x[100:, CONTEXT.names.index("ret_z")],
                               rtol=1e-5)


@pytest.mark.parametrize("symbol", ["BNBUSDT", "LTCUSDT"])  # with and without the extra columns
def test_the_serving_window_gives_the_training_context(shared_ohlcv, symbol):
    """The last row from the last 500 candles of the coin and of each anchor equals the full history's."""
    fs = FeatureSet(default_feature_set("1h").names + tuple(n for n in CONTEXT_FEATURES
                                                            if n not in default_feature_set("1h").names))
    coin, _ = read_candle_csv(shared_ohlcv / "1h" / f"{symbol}.csv", "1h")
    anchors = {s: read_candle_csv(shared_ohlcv / "1h" / f"{s}.csv", "1h")[0] for s in ("BTCUSDT", "ETHUSDT")}
    for end in (len(coin), len(coin) - 1000, 30_000):
        c = coin.slice(0, end)
        close_ms = int(c.t[-1]) + 3_600_000
        cut = {s: a.until(close_ms) for s, a in anchors.items()}
        full = fs.compute(c, cut)[-1]
        window = fs.compute(c.last(500), {s: a.last(500) for s, a in cut.items()})[-1]
        np.testing.assert_allclose(window, full, rtol=1e-5, atol=1e-6)
        assert np.isfinite(full[[fs.names.index(n) for n in anchor_features("btc")]]).all()


def test_pooled_rows_with_and_without_order_flow_all_can_train():
    """A series without extra columns is not held back by its never-starting order-flow columns."""
    m = market(7, 800)
    coin = m.pop("XUSDT")
    plain = Candles.from_arrays("YUSDT", "1h", coin.t, coin.open, coin.high, coin.low, coin.close, coin.volume)
    fs = FeatureSet(default_feature_set("1h").names + ORDER_FLOW_FEATURES + anchor_features("btc"))
    data = build_pooled([coin, plain], fs, window=16, horizons=(1,), anchors=m)
    ends = data.select()
    counts = np.bincount(data.symbol_index[ends], minlength=2)
    assert counts[0] == counts[1] > 500
