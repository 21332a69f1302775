"""Building an answer from a plan, candles and scores; ranking the top-N."""

from __future__ import annotations

import pytest

from coinpredict.errors import ServiceError, Unavailable
from coinpredict.models.registry import ENSEMBLE_ID
from coinpredict.serving import PredictRequest
from coinpredict.serving.answers import build_answer, signal_for
from coinpredict.serving.ranking import rank
from coinpredict.serving.resolve import plan_for
from coinpredict.serving.scoring import MODEL_FAILED, Scores


@pytest.fixture()
def btc(market):
    return market.candles("BTCUSDT", "1h", 500)


def test_signal_bands():
    assert [signal_for(p, 0.01) for p in (0.52, 0.511, 0.51, 0.5, 0.49, 0.489)] == \
        ["BUY", "BUY", "HOLD", "HOLD", "HOLD", "SELL"]


def test_an_ensemble_answer_combines_the_members_that_answered_and_names_the_others(store, btc):
    req = PredictRequest("BTCUSDT", "1h", ENSEMBLE_ID)
    plan = plan_for(store, req)
    ids = [m.model_id for m in plan.members]
    scores = Scores({(0, m): 0.6 for m in ids[1:]}, {(0, ids[0]): MODEL_FAILED})
    body = build_answer(0, req, plan, btc, scores, ensemble=store.ensembles["1h"], band=0.01, elapsed_ms=3.0)
    assert body["failed_members"] == {ids[0]: MODEL_FAILED} and set(body["members"]) == set(ids[1:])
    assert body["probability_up"] == pytest.approx(0.6) and body["signal"] == "BUY"
    assert body["confidence"] == pytest.approx(0.2) and body["uncertainty"] == 0
    assert body["model_version"] == store.ensembles["1h"][1]["version"]
    assert body["candles_used"] == len(btc) and body["data_source"].startswith("csv")
    assert body["as_of"].endswith("Z") and body["horizon"] == 1 and body["latency_ms"] == 3.0


def test_an_ensemble_with_no_member_answering_is_503_listing_them(store, btc):
    req = PredictRequest("BTCUSDT", "1h", ENSEMBLE_ID)
    plan = plan_for(store, req)
    with pytest.raises(Unavailable) as info:
        build_answer(0, req, plan, btc, Scores(), ensemble=store.ensembles["1h"], band=0.01, elapsed_ms=1.0)
    assert set(info.value.details["failed_members"]) == {m.model_id for m in plan.members}


def test_a_single_model_answer_and_its_failure(store, btc):
    req = PredictRequest("BTCUSDT", "1h", "lightgbm")
    plan = plan_for(store, req)
    body = build_answer(0, req, plan, btc, Scores({(0, "lightgbm"): 0.45}), ensemble=None, band=0.01,
                        elapsed_ms=1.0)
    assert body["signal"] == "SELL" and body["model_version"] == store.get("1h", "lightgbm").version
    assert "members" not in body
    with pytest.raises(Unavailable, match=MODEL_FAILED) as info:
        build_answer(0, req, plan, btc, Scores({}, {(0, "lightgbm"): MODEL_FAILED}), ensemble=None, band=0.01,
                     elapsed_ms=1.0)
    assert info.value.code == "model_failed"


def test_ranking_orders_cuts_numbers_and_keeps_the_refused():
    reqs = [PredictRequest(s) for s in ("AUSDT", "BUSDT", "CUSDT", "DUSDT")]
    results = [{"probability_up": 0.4}, ServiceError("no candles"), {"probability_up": 0.7},
               {"probability_up": 0.55}]
    ranked, skipped = rank(reqs, results, 2)
    assert [(r["probability_up"], r["rank"]) for r in ranked] == [(0.7, 1), (0.55, 2)]
    assert skipped == [{"symbol": "BUSDT", "reason": "no candles"}]
