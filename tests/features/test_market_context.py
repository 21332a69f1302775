"""The cross-sectional market (``mkt_*``): hand-computed rows, coins missing at a candle left out, too
few coins flagged, the whole folder read for a subset run, a serving window giving the training row,
and the market's forward mean return (the relative label's reference) computed by hand."""

import numpy as np
import pytest

from coinpredict.data.candles import Candles
from coinpredict.data.sources.csvdir import load_folder
from coinpredict.features.market_context import (
    MARKET_FEATURES,
    MIN_COINS,
    build_market,
    folder_market,
    market_forward_mean,
    scaled_returns,
)
from coinpredict.features.pipeline import FeatureSet

H = 3_600_000
MKT = FeatureSet(("ret_z", *MARKET_FEATURES))


def coin(symbol: str, close: np.ndarray, t: np.ndarray | None = None) -> Candles:
    t = np.arange(len(close), dtype=np.int64) * H if t is None else t
    return Candles.from_arrays(symbol, "1h", t, close, close * 1.01, close * 0.99, close, np.ones(len(close)))


def walks(k: int, n: int, seed: int = 0) -> list[Candles]:
    rng = np.random.default_rng(seed)
    return [coin(f"C{i}USDT", 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))) for i in range(k)]


def test_the_market_row_is_the_mean_spread_and_share_up_of_the_coins_there():
    coins = walks(4, 200)
    holed = coins[3]
    coins[3] = coin(holed.symbol, holed.close[:150], holed.t[:150])  # the fourth coin stops at row 150
    m = build_market(coins, "1h")
    scaled = [scaled_returns(c.close) for c in coins]
    for row in (120, 180):
        here = [s for s, c in zip(scaled, coins) if len(c) > row]
        assert m.coins[row] == len(here)
        for k in (1, 3, 24):
            values = np.array([s[k][row] for s in here])
            assert m.mean[k][row] == pytest.approx(values.mean(), rel=1e-12)
            assert m.disp[k][row] == pytest.approx(values.std(), rel=1e-9)
        assert m.up[row] == pytest.approx(np.mean([s[1][row] > 0 for s in here]))
    x = MKT.compute(coins[0], None, m)
    col = MKT.names.index
    np.testing.assert_allclose(x[120, col("mkt_excess_3")], scaled[0][3][120] - m.mean[3][120], rtol=1e-5)
    assert x[120, col("mkt_avail")] == 1 and x[120, col("mkt_coins")] == 4 and x[180, col("mkt_coins")] == 3
    assert np.isnan(x[:40, col("mkt_mean_1")]).all() and (x[:40, col("mkt_avail")] == 0).all()  # warm-up


def test_too_few_coins_or_no_market_is_missing_and_flagged():
    coins = walks(MIN_COINS - 1, 200)
    x = MKT.compute(coins[0], None, build_market(coins, "1h"))
    assert (x[:, MKT.names.index("mkt_avail")] == 0).all()
    assert np.isnan(x[:, [MKT.names.index(n) for n in MARKET_FEATURES if n not in ("mkt_avail", "mkt_coins")]]).all()
    y = MKT.compute(coins[0], None, None)
    assert (y[:, MKT.names.index("mkt_avail")] == 0).all() and (y[:, MKT.names.index("mkt_coins")] == 0).all()
    assert FeatureSet(("ret_z", "mkt_up")).reads_market and not FeatureSet(("ret_z", "btc_ret_1")).reads_market
    assert FeatureSet(("ret_z", "mkt_up")).optional.tolist() == [False, True]


def test_a_subset_run_reads_the_whole_folder(synthetic_dir):
    everything = load_folder(synthetic_dir, "1h")
    one = [c for c in everything if c.symbol == "SOLUSDT"]
    subset, whole = folder_market(synthetic_dir, "1h", one, None, None), build_market(everything, "1h")
    assert subset.symbols == whole.symbols == tuple(sorted(c.symbol for c in everything))
    np.testing.assert_array_equal(subset.mean[24], whole.mean[24])


def test_the_serving_window_gives_the_training_market_row(shared_ohlcv):
    """Each coin's last 500 candles give the full history's market row at the last candle, bit for bit."""
    series = load_folder(shared_ohlcv, "1h")
    end = int(series[0].t[-1]) - 1000 * H
    cut = [c.until(end + H) for c in series]
    full = build_market(cut, "1h")
    window = build_market([c.last(500) for c in cut], "1h")
    i, j = full.row_at(end), window.row_at(end)
    assert window.coins[j] == full.coins[i] >= 15
    for k in (1, 3, 24):
        assert window.mean[k][j] == full.mean[k][i] and window.disp[k][j] == full.disp[k][i]
    assert window.up[j] == full.up[i]


def test_the_markets_forward_mean_return_by_hand():
    a = coin("AUSDT", np.array([100.0, 110, 99, 99]))
    b = coin("BUSDT", np.array([10.0, 10, 12]), np.array([0, 1, 3]) * H)  # no candle at 2h
    t, fwd = market_forward_mean([a, b], "1h", 1)
    assert t.tolist() == [0, H, 2 * H, 3 * H]
    np.testing.assert_allclose(fwd[:3], [(np.log(1.1) + 0) / 2, np.log(0.9), 0.0])  # b's 1h->3h is 2 steps
    assert np.isnan(fwd[3])
