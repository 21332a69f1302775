"""A strategy's validation: every bad input is a 400 naming the field to fix."""

from __future__ import annotations

import pytest

from coinpredict.errors import BadRequest
from coinpredict.strategy.config import parse_strategy

from .helpers import strategy

MODELS = ["lightgbm", "xgboost", "ensemble"]
SYMBOLS = ["AAAUSDT", "BBBUSDT", "CCCUSDT"]


@pytest.mark.parametrize(("overrides", "field", "code"), [
    ({"capital": -5}, "capital", "invalid_value"),
    ({"timeframe": "3h"}, "timeframe", "invalid_value"),
    ({"model": "lstm_gigantic"}, "model", "invalid_value"),
    ({"universe": ["AAAUSDT", "ZZZUSDT"]}, "universe", "invalid_value"),
    ({"universe": {"top": 0}}, "universe.top", "invalid_value"),
    ({"limits": {"max_position": 0.8, "max_gross": 0.5}}, "limits.max_position", "invalid_value"),
    ({"limits": {"max_net": 2.0}}, "limits.max_net", "invalid_value"),
    ({"kind": "topk"}, "k", "invalid_value"),
    ({"kind": "topk", "k": 2, "n_drop": 3, "universe": SYMBOLS}, "n_drop", "invalid_value"),
    ({"kind": "topk", "k": 2, "short": True, "universe": SYMBOLS}, "k", "invalid_value"),
    ({"k": 2}, "k", "invalid_value"),
    ({"rank_by": "outperform"}, "rank_by", "invalid_value"),
    ({"sizing": {"method": "vol_target", "fraction": None}}, "sizing.target_bps", "invalid_value"),
    ({"sizing": {"fraction": 0.9}}, "sizing.fraction", "invalid_value"),
    ({"costs": {"fee_bps": -1}}, "costs.fee_bps", "invalid_value"),
    ({"limits": {"stop_loss": 0.1}}, "limits.stop_loss", "unknown_field"),
    ({"leverage": 3}, "leverage", "unknown_field"),
])
def test_bad_strategies_are_refused_naming_the_field(overrides, field, code):
    with pytest.raises(BadRequest) as info:
        parse_strategy(strategy(**overrides), models=MODELS, symbols=SYMBOLS)
    body = info.value.to_dict()["error"]
    assert info.value.status == 400 and body["field"] == field and body["code"] == code, body


def test_a_good_strategy_is_kept_as_given():
    raw = strategy(kind="topk", k=1, n_drop=1, universe={"top": 3}, sizing={"method": "vol_target", "fraction": None,
                                                                            "target_bps": 50})
    config = parse_strategy(raw, models=MODELS, symbols=SYMBOLS)
    assert config.universe.top == 3 and config.sizing.target_bps == 50 and config.drop == 1
    assert parse_strategy(config.model_dump(mode="json")) == config  # what is stored reads back the same
    signal = parse_strategy(strategy())
    assert parse_strategy(signal.model_dump(mode="json")) == signal
    assert parse_strategy(strategy(model="anything")).model == "anything"  # no model list: the hook is off
