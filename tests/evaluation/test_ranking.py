from __future__ import annotations

import numpy as np
import pytest

from coinpredict.evaluation.ranking import newey_west_se, ranking_quality

HOUR = 3_600_000


def panel(n_times: int, n_symbols: int, seed: int = 0):
    """Long-format rows (symbol, time) with independent random returns."""
    rng = np.random.default_rng(seed)
    sym = np.tile(np.arange(n_symbols), n_times)
    t = np.repeat(np.arange(n_times) * HOUR, n_symbols)
    return sym, t, rng.standard_normal(n_times * n_symbols) * 0.01


def test_perfect_and_reversed_ranking():
    sym, t, r = panel(200, 10)
    perfect = ranking_quality(0.5 + r, r, sym, t, fee_bps=0)
    assert perfect["rank_ic"] == pytest.approx(1.0) and perfect["n_timestamps"] == 200
    assert perfect["top_bottom_bps_gross"] > 0 and perfect["rank_ic_hit_rate"] == 1.0
    reversed_ = ranking_quality(0.5 - r, r, sym, t, fee_bps=0)
    assert reversed_["rank_ic"] == pytest.approx(-1.0)
    assert reversed_["top_bottom_bps_gross"] == pytest.approx(-perfect["top_bottom_bps_gross"])


def test_random_ranking_scores_near_zero():
    sym, t, r = panel(2000, 18, seed=3)
    p = 0.5 + 0.05 * np.random.default_rng(4).standard_normal(len(r))
    m = ranking_quality(p, r, sym, t)
    assert abs(m["rank_ic"]) < 0.02 and abs(m["rank_ic_t"]) < 3
    spread_sd_bps = 100 * np.sqrt(2 / 3)  # top 3 minus bottom 3 of 1% noise
    assert abs(m["top_bottom_bps_gross"]) < 4 * spread_sd_bps / np.sqrt(2000)


def test_top_bottom_book_and_its_fees():
    """Five symbols with constant returns: the book is long the best (k=1) and short the worst."""
    n_times = 10
    sym = np.tile(np.arange(5), n_times)
    t = np.repeat(np.arange(n_times) * HOUR, 5)
    r = np.tile([-0.02, -0.01, 0.0, 0.01, 0.02], n_times)
    static = ranking_quality(r.copy(), r, sym, t, fee_bps=0)
    assert static["top_bottom_bps_gross"] == pytest.approx(400) and static["top_bottom_bps_net"] == pytest.approx(400)
    # a static book pays for building both legs once: turnover 2 over n periods
    charged = ranking_quality(r.copy(), r, sym, t, fee_bps=10)
    assert charged["top_bottom_bps_net"] == pytest.approx(400 - 10 * 2 / n_times)
    assert charged["top_bottom_turnover"] == pytest.approx(2 / n_times)
    # a book whose legs swap completely every period: turnover 2, then 4 each time
    flip = np.where(np.repeat(np.arange(n_times) % 2, 5) == 0, r, -r)
    swapping = ranking_quality(flip, r, sym, t, fee_bps=10)
    assert swapping["top_bottom_bps_gross"] == pytest.approx(0)  # +400 and -400 in turn
    assert swapping["top_bottom_bps_net"] == pytest.approx(-10 * (2 + 4 * (n_times - 1)) / n_times)


def test_tied_probabilities_share_the_legs_whatever_the_symbol_order():
    """Two-valued probabilities (a sign forecast): the book is long the up group, short the down group."""
    sym, t, r = panel(300, 16, seed=5)
    rng = np.random.default_rng(6)
    p = 0.5 + 0.02 * np.concatenate([rng.permutation([1] * 8 + [-1] * 8) for _ in range(300)])
    m = ranking_quality(p, r, sym, t, fee_bps=0)
    spread = [r[(t == x) & (p > 0.5)].mean() - r[(t == x) & (p < 0.5)].mean() for x in np.unique(t)]
    assert m["top_bottom_bps_gross"] == pytest.approx(np.mean(spread) * 1e4)
    shuffled = ranking_quality(p, r, 15 - sym, t, fee_bps=0)
    assert shuffled["top_bottom_bps_gross"] == pytest.approx(m["top_bottom_bps_gross"])


def test_thin_timestamps_and_ties_are_skipped():
    sym, t, r = panel(50, 10)
    keep = ~((t == 0) & (sym >= 4))  # the first timestamp has only 4 symbols
    p = 0.5 + r
    p[t == HOUR] = 0.5  # every probability tied at the second timestamp
    m = ranking_quality(p[keep], r[keep], sym[keep], t[keep])
    assert m["n_timestamps"] == 48
    constant = ranking_quality(np.full(len(r), 0.52), r, sym, t)
    assert constant["n_timestamps"] == 0 and np.isnan(constant["rank_ic"])


def test_longer_horizons_rebalance_without_overlap_and_widen_the_error():
    sym, t, r = panel(240, 10, seed=7)
    p = 0.5 + r
    h1 = ranking_quality(p, r, sym, t, horizon=1)
    h6 = ranking_quality(p, r, sym, t, horizon=6)
    assert h1["top_bottom_periods"] == 240 and h6["top_bottom_periods"] == 40
    assert h6["n_timestamps"] == 240 and h6["nw_lags"] >= 5


def test_newey_west_matches_iid_without_lags_and_grows_with_positive_autocorrelation():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(5000)
    assert newey_west_se(x, 0) == pytest.approx(x.std() / np.sqrt(len(x)))
    smooth = np.convolve(x, np.ones(10) / 10, mode="valid")  # overlapping 10-step averages
    assert newey_west_se(smooth, 9) > 2 * newey_west_se(smooth, 0)
