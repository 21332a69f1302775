"""The /strategies endpoints (API.md, "Strategies (paper trading)"): create, list, read, change (a new
version), pause, resume and delete with the management key; bad strategies are a 400 naming the field;
the book the live runner writes through the store reads back over HTTP."""

from __future__ import annotations

import pytest

from coinpredict.api.state import KEY
from coinpredict.common.times import iso
from coinpredict.strategy.engine import Engine
from tests.conftest import SYNTHETIC_SYMBOLS

from .helpers import HOUR, T0, forecast, strategy

HEADERS = {"X-API-Key": "s3cret"}


@pytest.fixture
def make_app(synthetic_dir, tmp_path):
    def make(**overrides):
        from coinpredict import create_app

        return create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": tmp_path / "models",
                           "offline": True, "api_key": "s3cret",
                           "database_url": f"sqlite:///{tmp_path / 's.sqlite'}",
                           "queue_path": tmp_path / "q.sqlite", **overrides})
    return make


@pytest.fixture
def client(make_app):
    return make_app().test_client()


def body(**overrides) -> dict:
    return strategy(**{"universe": SYNTHETIC_SYMBOLS[:2], **overrides})


def create(client, **overrides) -> dict:
    r = client.post("/strategies", json=body(**overrides), headers=HEADERS)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_model_ids_and_timeframes_are_case_insensitive(client):
    made = create(client, model="LightGBM", timeframe="1H")
    assert (made["config"]["model"], made["timeframe"]) == ("lightgbm", "1h")
    r = client.post("/strategies", json=body(timeframe="1M"), headers=HEADERS)
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "timeframe"


def test_create_list_get_before_anything_ran(client):
    made = create(client, name="alpha")
    assert (made["version"], made["status"], made["name"], made["kind"]) == (1, "running", "alpha", "signal")
    assert (made["equity"], made["cash"], made["return"], made["max_drawdown"]) == (10_000.0, 10_000.0, 0.0, 0.0)
    assert made["positions"] == [] and made["last_close"] is None and made["limits"]["halted"] is None
    assert made["config"]["universe"] == SYNTHETIC_SYMBOLS[:2]
    listed = client.get("/strategies").get_json()
    assert listed["count"] == 1
    [row] = listed["strategies"]
    assert {k: row[k] for k in ("id", "name", "kind", "timeframe", "status", "equity", "return")} == {
        "id": made["id"], "name": "alpha", "kind": "signal", "timeframe": "1h", "status": "running",
        "equity": 10_000.0, "return": 0.0}
    assert client.get(f"/strategies/{made['id']}").get_json() == made
    r = client.get("/strategies/nope")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_strategy"
    assert client.get(f"/strategies/{'x' * 300}").status_code == 404


def test_changes_need_the_key_and_reading_does_not(make_app):
    client = make_app().test_client()
    made = create(client)
    sid = made["id"]
    calls = [("post", "/strategies", body()), ("put", f"/strategies/{sid}", body()),
             ("post", f"/strategies/{sid}/pause", None), ("post", f"/strategies/{sid}/resume", None),
             ("delete", f"/strategies/{sid}", None)]
    for method, path, payload in calls:
        for headers in ({}, {"X-API-Key": "wrong"}):
            r = getattr(client, method)(path, json=payload, headers=headers)
            assert r.status_code == 401, (method, path, r.get_json())
    off = make_app(api_key=None).test_client()
    for method, path, payload in calls:
        r = getattr(off, method)(path, json=payload, headers=HEADERS)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "management_disabled"
    for path in ("/strategies", f"/strategies/{sid}", f"/strategies/{sid}/trades", f"/strategies/{sid}/equity",
                 f"/strategies/{sid}/versions", f"/strategies/{sid}/events"):
        assert off.get(path).status_code == 200, path
    assert client.get(f"/strategies/{sid}").get_json()["status"] == "running"  # nothing changed


def test_a_change_is_a_new_version_and_the_history_stays(client):
    sid = create(client, name="v1")["id"]
    r = client.put(f"/strategies/{sid}", json=body(name="v2", costs={"fee_bps": 5.0}), headers=HEADERS)
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["version"], r.get_json()["name"], r.get_json()["config"]["costs"]["fee_bps"]) == (2, "v2", 5.0)
    r = client.put(f"/strategies/{sid}", json=body(limits={"max_position": 2.0}), headers=HEADERS)
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "limits.max_position"
    history = client.get(f"/strategies/{sid}/versions").get_json()
    assert history["current"] == 2
    assert [(v["version"], v["config"]["name"]) for v in history["versions"]] == [(1, "v1"), (2, "v2")]


def test_pause_resume_delete(client):
    sid = create(client)["id"]
    post = lambda action: client.post(f"/strategies/{sid}/{action}", headers=HEADERS)  # noqa: E731
    assert post("pause").get_json()["status"] == "paused"
    assert client.get("/strategies?status=paused").get_json()["count"] == 1
    assert client.get("/strategies?status=running").get_json()["count"] == 0
    assert post("resume").get_json()["status"] == "running"
    r = client.delete(f"/strategies/{sid}", headers=HEADERS)
    assert r.status_code == 200 and r.get_json()["status"] == "deleted"
    assert client.get(f"/strategies/{sid}").get_json()["status"] == "deleted"  # still readable
    for r in (post("resume"), post("pause"), client.put(f"/strategies/{sid}", json=body(), headers=HEADERS)):
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "strategy_deleted"
    assert client.delete("/strategies/nope", headers=HEADERS).status_code == 404


@pytest.mark.parametrize("overrides, field, code", [
    ({"model": "nosuchmodel"}, "model", "invalid_value"),
    ({"timeframe": "7h"}, "timeframe", "invalid_value"),
    ({"limits": {"max_position": 2.0, "max_gross": 1.0}}, "limits.max_position", "invalid_value"),
    ({"universe": ["FOOUSDT", "BARUSDT"]}, "universe", "invalid_value"),
    ({"capital": -5.0}, "capital", "invalid_value"),
    ({"capitol": 5.0}, "capitol", "unknown_field"),
    ({"limits": {"max_drawdwn": 0.2}}, "limits.max_drawdwn", "unknown_field"),
    ({"universe": {"top": 5, "by": "volume"}}, "universe.by", "unknown_field"),
    ({"kind": "topk"}, "k", "invalid_value"),
    ({"universe": "BTCUSDT"}, "universe", "invalid_value"),
])
def test_bad_strategies_are_a_400_naming_the_field(client, overrides, field, code):
    r = client.post("/strategies", json=body(**overrides), headers=HEADERS)
    assert r.status_code == 400, r.get_json()
    assert (r.get_json()["error"]["field"], r.get_json()["error"]["code"]) == (field, code), r.get_json()
    assert client.get("/strategies").get_json()["count"] == 0


@pytest.mark.parametrize("raw", [b"[]", b"{", b'{"name": 1}', b"null"])
def test_malformed_bodies_are_a_400(client, raw):
    r = client.post("/strategies", data=raw, content_type="application/json", headers=HEADERS)
    assert r.status_code == 400 and "code" in r.get_json()["error"]


def test_the_book_written_through_the_store_reads_back(make_app):
    app = make_app()
    client = app.test_client()
    made = create(client, limits={"max_drawdown": 0.1})
    store = app.extensions[KEY].strategies
    record = store.require(made["id"])
    eng, previous, steps = Engine(record.config), 100.0, []
    for k, close in enumerate([100.0, 101.0, 102.0, 70.0, 70.0]):  # in, then a fall through the drawdown limit
        step = eng.on_candle(T0 + k * HOUR, {"BTCUSDT": previous}, {"BTCUSDT": close},
                             {"BTCUSDT": forecast("BTCUSDT", "BUY")})
        assert store.record_close(record.id, record.version, step.point.time, eng.snapshot(), step.fills,
                                  step.point, step.events)
        steps.append(step)
        previous = close
    fills = [f for s in steps for f in s.fills]
    got = client.get(f"/strategies/{made['id']}").get_json()
    assert got["status"] == "halted" and "drawdown" in got["halt_reason"]
    assert got["equity"] == pytest.approx(steps[-1].point.equity)
    assert got["return"] == pytest.approx(steps[-1].point.equity / 10_000 - 1)
    assert got["max_drawdown"] > 0.1 and got["last_close"] == iso(steps[-1].point.time)
    assert got["limits"]["halted"] == got["halt_reason"]
    trades = client.get(f"/strategies/{made['id']}/trades").get_json()
    assert trades["count"] == len(fills)
    assert [(t["time"], t["side"]) for t in trades["trades"]] == [(iso(f.time), f.side) for f in fills[::-1]]
    assert client.get(f"/strategies/{made['id']}/trades?limit=1").get_json()["count"] == 1
    equity = client.get(f"/strategies/{made['id']}/equity").get_json()
    assert [p["time"] for p in equity["points"]] == [iso(s.point.time) for s in steps]
    since = client.get(f"/strategies/{made['id']}/equity?since={iso(steps[3].point.time)}").get_json()
    assert since["count"] == 2
    resumed = client.post(f"/strategies/{made['id']}/resume", headers=HEADERS).get_json()
    assert resumed["status"] == "running" and resumed["limits"]["halted"] is None
    assert resumed["events"][-1]["limit"] == "resumed"
    assert store.latest_close(record.id).state.limits.halted is None  # the next close starts unhalted
    events = client.get(f"/strategies/{made['id']}/events").get_json()
    assert [e["limit"] for e in events["events"]][0] == "resumed"
    halts = [e for e in events["events"] if e["limit"] == "drawdown"]
    assert len(halts) == 1 and halts[0]["time"] == iso(steps[3].point.time)
    later = client.get(f"/strategies/{made['id']}/events?since={iso(steps[3].point.time + HOUR)}").get_json()
    assert [e["limit"] for e in later["events"]] == ["resumed"]


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "since=yesterday", "sincе=2025-01-01", "foo=1"])
def test_bad_queries_are_a_400(client, query):
    sid = create(client)["id"]
    r = client.get(f"/strategies/{sid}/trades?{query}")
    assert r.status_code == 400 and r.get_json()["error"]["code"] in ("invalid_value", "unknown_field", "bad_request")


def test_a_close_skipped_for_stale_data_says_why_over_http(make_app):
    """The live runner's skip (strategy.live) shows in the strategy's events and its newest close."""
    from coinpredict.strategy.config import parse_strategy
    from coinpredict.strategy.live import LiveRunner
    from coinpredict.strategy.store import StrategyStore
    from tests.strategy.test_live import SYMBOLS, Candles, Forecasts, market

    app = make_app()
    url = app.extensions[KEY].strategies.engine.url.render_as_string(hide_password=False)
    store = StrategyStore(url, clock=lambda: T0 / 1000 + 60)  # created at T0, like the planted candles
    record = store.create(parse_strategy(strategy(universe=SYMBOLS)))
    bars, fcs = market()
    candles = Candles(bars)
    candles.hidden.add((T0, "CCCUSDT"))  # the coin's candle at the first close never came
    runner = LiveRunner(store, candles, Forecasts(fcs), now=lambda: (T0 + 3 * HOUR) / 1000, late=1.0)
    assert [o.status for o in runner.run_once()] == ["skipped", "traded", "traded"]
    client = app.test_client()
    events = client.get(f"/strategies/{record.id}/events").get_json()["events"]
    assert [e["limit"] for e in events if e["limit"] == "stale_data"] == ["stale_data"]
    [stale] = [e for e in events if e["limit"] == "stale_data"]
    assert stale["symbols"] == ["CCCUSDT"] and "CCCUSDT" in stale["detail"] and stale["time"] == iso(T0 + HOUR)
    got = client.get(f"/strategies/{record.id}").get_json()
    assert got["last_close"] == iso(T0 + 3 * HOUR) and got["status"] == "running"
