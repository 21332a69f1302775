"""The fee-aware signal through the API: FEE_BPS sets the cost every answer must beat."""

from __future__ import annotations

import pytest

from coinpredict import create_app
from coinpredict.models.registry import MODEL_IDS

BODIES = [{"symbol": "BTC"}, {"symbol": "ETH", "model": "lightgbm"}, {"symbol": "SOL", "model": MODEL_IDS[0]}]


def _answers(c) -> list[dict]:
    """Single, batch and top-100 answers, ensemble and single models."""
    out = [c.post("/predict/single", json=b).get_json() for b in BODIES]
    out += c.post("/predict/batch", json={"items": BODIES}).get_json()["results"]
    out += c.get("/predict/top100?limit=3").get_json()["results"]
    out += c.get("/predict/top100?limit=3&model=xgboost").get_json()["results"]
    return out


@pytest.mark.parametrize("fee_bps, expect", [("0.000001", {"BUY", "SELL"}), ("1000000", {"HOLD"})])
def test_fee_bps_decides_between_trading_and_holding(synthetic_dir, trained_dir, monkeypatch, fee_bps, expect,
                                                     synthetic_now):
    monkeypatch.setenv("FEE_BPS", fee_bps)
    c = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": trained_dir,
                    "offline": True}).test_client()
    answers = _answers(c)
    assert len(answers) == 12 and all("error" not in a for a in answers), answers
    for a in answers:
        assert a["cost_bps"] == pytest.approx(2 * float(fee_bps))
        assert a["expected_move_bps"] > 0
        assert a["edge_bps"] == pytest.approx((2 * a["probability_up"] - 1) * a["expected_move_bps"], abs=0.02)
        if abs(a["edge_bps"]) > a["cost_bps"] + 0.01:
            assert a["signal"] == ("BUY" if a["edge_bps"] > 0 else "SELL")
        elif abs(a["edge_bps"]) < a["cost_bps"] - 0.01:
            assert a["signal"] == "HOLD"
    assert {a["signal"] for a in answers} == expect


def test_same_candles_same_expected_move_whatever_the_model(client):
    """The expected move comes from the candles, not the model: every model on BTC agrees on it."""
    moves = {client.post("/predict/single", json={"symbol": "BTC", "model": m}).get_json()["expected_move_bps"]
             for m in ("lightgbm", "xgboost", "ensemble")}
    assert len(moves) == 1
