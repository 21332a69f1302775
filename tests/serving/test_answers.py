"""Building an answer from a plan, candles and scores; ranking the top-N."""

from __future__ import annotations

import numpy as np
import pytest

from coinpredict.common.signals import cost_bps, expected_move_bps, fee_aware_positions, signal_for
from coinpredict.errors import ServiceError, Unavailable
from coinpredict.models.registry import ENSEMBLE_ID
from coinpredict.serving import PredictRequest
from coinpredict.serving.answers import build_answer
from coinpredict.serving.ranking import rank
from coinpredict.serving.resolve import plan_for
from coinpredict.serving.scoring import MODEL_FAILED, Scores


@pytest.fixture()
def btc(market):
    return market.candles("BTCUSDT", "1h", 500)


def test_the_signal_trades_only_an_edge_beyond_the_round_trip():
    assert cost_bps(10) == 20.0
    # expected move 100 bps: edge = (2p - 1) x 100; cost 20 bps
    cases = [(0.65, "BUY", 30.0), (0.6, "HOLD", 20.0), (0.55, "HOLD", 10.0), (0.5, "HOLD", 0.0),
             (0.45, "HOLD", -10.0), (0.39, "SELL", -22.0), (0.1, "SELL", -80.0)]
    for p, signal, edge in cases:
        got_signal, got_edge = signal_for(p, 100.0, 20.0)
        assert got_signal == signal and got_edge == pytest.approx(edge)
    assert signal_for(0.99, 10.0, 20.0)[0] == "HOLD"  # a sure direction on a quiet market does not pay
    assert signal_for(0.51, 100.0, 0.0)[0] == "BUY" and signal_for(0.5, 100.0, 0.0)[0] == "HOLD"
    position, edge = fee_aware_positions(np.array([p for p, _, _ in cases]), np.full(len(cases), 100.0), 20.0)
    assert position.tolist() == [{"BUY": 1, "SELL": -1, "HOLD": 0}[s] for _, s, _ in cases]


def test_one_signal_is_exactly_what_the_backtest_rule_gives():
    """signal_for (one value, the ledger's and the answers' path) and fee_aware_positions (the backtest's
    arrays) must never drift apart: same signal and bit-identical edge, boundaries and NaN included."""
    rng = np.random.default_rng(3)
    p = np.r_[rng.uniform(0, 1, 500), 0.5, 0.6, 0.4, 0.6, np.nan]
    move = np.r_[rng.uniform(0, 300, 500), 100.0, 100.0, 100.0, 50.0, 100.0]
    cost = 20.0  # p 0.6 / 0.4 on 100 bps and p 0.6 on 50 bps: an edge of exactly +-20 and +10
    position, edge = fee_aware_positions(p, move, cost)
    for k in range(len(p)):
        signal, one_edge = signal_for(float(p[k]), float(move[k]), cost)
        assert signal == {1: "BUY", -1: "SELL", 0: "HOLD"}[int(position[k])]
        assert one_edge == edge[k] or (np.isnan(one_edge) and np.isnan(edge[k]))


def test_the_expected_move_reads_only_the_last_window_of_its_own_series():
    close = 100 * np.exp(np.cumsum(np.r_[0.0, np.full(60, 0.01), np.full(48, -0.002)]))
    # the last 48 returns are all -0.2%: 20 bps per candle, x sqrt(4) over 4 candles
    assert expected_move_bps(close, len(close) - 1, horizon=1)[0] == pytest.approx(20.0)
    assert expected_move_bps(close, len(close) - 1, horizon=4)[0] == pytest.approx(40.0)
    # at row 10 only 10 returns exist (all 1%); with the series starting at row 5, only 5 of them count
    assert expected_move_bps(close, [10], horizon=1)[0] == pytest.approx(100.0)
    assert expected_move_bps(close, [10], horizon=1, first=[5])[0] == pytest.approx(100.0)
    assert expected_move_bps(close, [0, 5], horizon=1, first=[0, 5]).tolist() == [0.0, 0.0]
    # causal: what comes after a row changes nothing at that row
    changed = close.copy()
    changed[80:] *= 3
    assert expected_move_bps(changed, [79], horizon=1) == pytest.approx(expected_move_bps(close, [79], horizon=1))
    # pooled: one row per series reads its own series only
    pooled = np.r_[close, close[:30] * 7]
    got = expected_move_bps(pooled, [len(close) - 1, len(pooled) - 1], horizon=1, first=[0, len(close)])
    assert got == pytest.approx([20.0, 100.0])


def test_an_ensemble_answer_combines_the_members_that_answered_and_names_the_others(store, btc):
    req = PredictRequest("BTCUSDT", "1h", ENSEMBLE_ID)
    plan = plan_for(store, req)
    ids = [m.model_id for m in plan.members]
    scores = Scores({(0, m): 0.6 for m in ids[1:]}, {(0, ids[0]): MODEL_FAILED})
    body = build_answer(0, req, plan, btc, scores, ensemble=store.ensembles["1h"], cost_bps=0.0, elapsed_ms=3.0)
    assert body["failed_members"] == {ids[0]: MODEL_FAILED} and set(body["members"]) == set(ids[1:])
    assert body["probability_up"] == pytest.approx(0.6) and body["signal"] == "BUY" and body["cost_bps"] == 0
    assert body["expected_move_bps"] > 0
    assert body["edge_bps"] == pytest.approx(0.2 * body["expected_move_bps"], abs=0.01)
    assert body["confidence"] == pytest.approx(0.2) and body["uncertainty"] == 0
    assert body["model_version"] == store.ensembles["1h"][1].version
    assert body["candles_used"] == len(btc) and body["data_source"].startswith("csv")
    assert body["as_of"].endswith("Z") and body["horizon"] == 1 and body["latency_ms"] == 3.0


def test_an_ensemble_with_no_member_answering_is_503_listing_them(store, btc):
    req = PredictRequest("BTCUSDT", "1h", ENSEMBLE_ID)
    plan = plan_for(store, req)
    with pytest.raises(Unavailable) as info:
        build_answer(0, req, plan, btc, Scores(), ensemble=store.ensembles["1h"], cost_bps=20.0, elapsed_ms=1.0)
    assert set(info.value.details["failed_members"]) == {m.model_id for m in plan.members}


def test_a_single_model_answer_and_its_failure(store, btc):
    req = PredictRequest("BTCUSDT", "1h", "lightgbm")
    plan = plan_for(store, req)
    body = build_answer(0, req, plan, btc, Scores({(0, "lightgbm"): 0.45}), ensemble=None, cost_bps=0.0,
                        elapsed_ms=1.0)
    costly = build_answer(0, req, plan, btc, Scores({(0, "lightgbm"): 0.45}), ensemble=None, cost_bps=1e6,
                          elapsed_ms=1.0)
    assert costly["signal"] == "HOLD" and costly["edge_bps"] == body["edge_bps"] < 0
    assert body["signal"] == "SELL" and body["model_version"] == store.get("1h", "lightgbm").version
    assert "members" not in body
    with pytest.raises(Unavailable, match=MODEL_FAILED) as info:
        build_answer(0, req, plan, btc, Scores({}, {(0, "lightgbm"): MODEL_FAILED}), ensemble=None, cost_bps=20.0,
                     elapsed_ms=1.0)
    assert info.value.code == "model_failed"


def test_ranking_orders_cuts_numbers_and_keeps_the_refused():
    reqs = [PredictRequest(s) for s in ("AUSDT", "BUSDT", "CUSDT", "DUSDT")]
    results = [{"probability_up": 0.4}, ServiceError("no candles"), {"probability_up": 0.7},
               {"probability_up": 0.55}]
    ranked, skipped = rank(reqs, results, 2)
    assert [(r["probability_up"], r["rank"]) for r in ranked] == [(0.7, 1), (0.55, 2)]
    assert skipped == [{"symbol": "BUSDT", "reason": "no candles"}]
