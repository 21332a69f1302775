"""CORS: prediction and read endpoints answer any allowed origin; management endpoints answer a
cross-origin request, preflight included, only from an origin CORS_ORIGINS names."""

from __future__ import annotations

import pytest

from coinpredict import create_app
from coinpredict.api.cors import management_patterns
from tests.api.test_endpoints import assert_error

TRADER, OPS, EVIL = "https://trader.example", "https://ops.example", "https://evil.example"


def preflight(c, path, origin, method="POST", headers="Content-Type"):
    return c.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                    "Access-Control-Request-Headers": headers})


@pytest.fixture()
def named(synthetic_dir, trained_dir):
    return create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": trained_dir, "offline": True,
                       "cors_origins": [TRADER, OPS], "api_key": "k"}).test_client()


def test_by_default_predictions_are_open_and_management_refuses_every_foreign_origin(client, app):
    assert {"^/models/[^/]+/promote$", "^/models/[^/]+/versions/[^/]+$", "^/models/reload$", "^/jobs$",
            "^/jobs/[^/]+$", "^/strategies$", "^/strategies/[^/]+$", "^/strategies/[^/]+/pause$",
            "^/strategies/[^/]+/resume$"} == set(management_patterns(app))
    single = client.post("/predict/single", json={"symbol": "BTC", "model": "xgboost"}, headers={"Origin": EVIL})
    assert single.status_code == 200 and single.headers["Access-Control-Allow-Origin"] in ("*", EVIL)
    assert preflight(client, "/predict/single", EVIL).headers["Access-Control-Allow-Origin"] in ("*", EVIL)
    assert client.get("/health", headers={"Origin": EVIL}).headers["Access-Control-Allow-Origin"] in ("*", EVIL)
    for origin in (EVIL, TRADER):
        refused = client.post("/models/reload", headers={"Origin": origin})
        assert_error(refused, 403, "cross_origin_refused")
        assert "Access-Control-Allow-Origin" not in refused.headers
        pre = preflight(client, "/models/reload", origin, headers="X-API-Key")
        assert pre.status_code == 403 and "Access-Control-Allow-Origin" not in pre.headers
    # No Origin (curl, ops scripts) or the service's own origin: not cross-origin, so the key rules apply
    # (management is off without API_KEY).
    assert_error(client.post("/models/reload"), 403, "management_disabled")
    assert_error(client.post("/models/reload", headers={"Origin": "http://localhost"}), 403, "management_disabled")


def test_named_origins_reach_management_and_others_do_not(named):
    pre = preflight(named, "/models/reload", OPS, headers="X-API-Key")
    assert pre.status_code == 200 and pre.headers["Access-Control-Allow-Origin"] == OPS
    assert "x-api-key" in pre.headers["Access-Control-Allow-Headers"].lower()
    ok = named.post("/models/reload", headers={"Origin": OPS, "X-API-Key": "k"})
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == OPS
    assert_error(named.post("/models/reload", headers={"Origin": OPS}), 401, "unauthorized")
    assert_error(named.post("/models/reload", headers={"Origin": EVIL, "X-API-Key": "k"}), 403,
                 "cross_origin_refused")
    single = named.post("/predict/single", json={"symbol": "BTC", "model": "xgboost"}, headers={"Origin": TRADER})
    assert single.headers["Access-Control-Allow-Origin"] == TRADER
    foreign = named.post("/predict/single", json={"symbol": "BTC", "model": "xgboost"}, headers={"Origin": EVIL})
    assert "Access-Control-Allow-Origin" not in foreign.headers
