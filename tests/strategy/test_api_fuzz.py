"""Schema-driven fuzzing of the /strategies endpoints with the management key (``tests/api/test_fuzz``
fuzzes every route without it, so there the changing calls only meet the key check): generated bodies,
queries and the id of a strategy that exists, through the app in this process. Every answer must carry
a status the document lists and match its schema; no 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from coinpredict.api.openapi import openapi_document
from tests.api.test_fuzz import CHECKS
from tests.conftest import SYNTHETIC_SYMBOLS

from .helpers import strategy

KEY = {"X-API-Key": "fuzz-key"}
schema = schemathesis.openapi.from_dict(openapi_document()).include(path_regex="^/strategies")


@pytest.fixture(scope="module")
def fuzzed(synthetic_dir, tmp_path_factory):
    """(the app, the id of a strategy it holds: deleted by none of the cases)."""
    from coinpredict import create_app

    root = tmp_path_factory.mktemp("strategy-fuzz")
    app = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": root / "models", "offline": True,
                      "api_key": KEY["X-API-Key"], "database_url": f"sqlite:///{root / 'db.sqlite'}",
                      "queue_path": root / "q.sqlite"})
    return app, made(app)


def made(app) -> str:
    answer = app.test_client().post("/strategies", json=strategy(universe=SYNTHETIC_SYMBOLS[:2]), headers=KEY)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


@schema.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_answer_is_documented_and_conforms_with_the_key(case, fuzzed):
    app, strategy_id = fuzzed
    if case.path_parameters and "strategy_id" in case.path_parameters:  # one that exists; a deletion its own
        case.path_parameters["strategy_id"] = made(app) if case.method.upper() == "DELETE" else strategy_id
    case.call_and_validate(app=app, headers=KEY, checks=CHECKS)
