"""The prediction ledger: answers recorded off the request path (one row per forecast, ensemble members
included, client candles left out), outcomes scored once their candle has closed in a folder another
process appends to, the history endpoint, and live skill with its drift flag."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coinpredict.api.state import KEY
from coinpredict.common.times import iso
from coinpredict.ledger import LedgerStore, live_detail, live_metrics, score_due
from coinpredict.ledger.live import forecasts_needed
from tests.conftest import SYNTHETIC_END_MS, SYNTHETIC_SYMBOLS

HOUR = 3_600_000
HIDDEN = 30  # candles the folder does not have yet when the predictions are made


@pytest.fixture
def growing(synthetic_dir, tmp_path):
    """A copy of the synthetic folder missing its last ``HIDDEN`` candles, and how to append them."""
    full = {s: pd.read_csv(synthetic_dir / "1h" / f"{s}.csv") for s in SYNTHETIC_SYMBOLS}
    folder = tmp_path / "ohlcv"
    (folder / "1h").mkdir(parents=True)
    for symbol, frame in full.items():
        frame.iloc[:-HIDDEN].to_csv(folder / "1h" / f"{symbol}.csv", index=False)

    def append() -> None:
        for symbol, frame in full.items():
            frame.to_csv(folder / "1h" / f"{symbol}.csv", index=False)
    return folder, full, append


@pytest.fixture
def app(growing, trained_dir, tmp_path):
    from coinpredict import create_app

    return create_app({"TESTING": True, "ohlcv_dir": growing[0], "models_dir": trained_dir, "offline": True,
                       "database_url": f"sqlite:///{tmp_path / 'ledger.sqlite'}", "queue_path": tmp_path / "q.sqlite"})


def test_answers_are_recorded_once_and_scored_when_their_candle_closes(app, growing):
    folder, full, append = growing
    client, st = app.test_client(), app.extensions[KEY]
    single = client.post("/predict/single", json={"symbol": "BTC", "model": "lightgbm", "horizon": 4}).get_json()
    again = client.post("/predict/single", json={"symbol": "BTC", "model": "lightgbm", "horizon": 4}).get_json()
    ensemble = client.post("/predict/single", json={"symbol": "ETH"}).get_json()
    batch = client.post("/predict/batch", json={"items": [{"symbol": "SOL", "model": "xgboost"}]}).get_json()
    candles = [{"t": int(t), "o": 1.0, "h": 1.1, "l": 0.9, "c": 1.0 + 0.001 * (i % 7), "v": 5.0}
               for i, t in enumerate(range(0, 400 * HOUR, HOUR))]
    client.post("/predict/single", json={"symbol": "BTC", "model": "lightgbm", "candles": candles})
    st.recorder.drain()
    rows = client.get("/predictions/history?limit=1000").get_json()["results"]
    assert single["probability_up"] == again["probability_up"]
    [recorded] = [r for r in rows if r["model"] == "lightgbm" and r["symbol"] == "BTCUSDT"]
    assert recorded["probability_outperform"] == single["probability_outperform"] is not None
    assert recorded["outcome_outperform"] is None
    assert sum(r["model"] == "lightgbm" and r["symbol"] == "BTCUSDT" for r in rows) == 1  # once, not twice
    assert {r["model"] for r in rows if r["symbol"] == "ETHUSDT"} == {"ensemble", *ensemble["members"]}
    assert any(r["model"] == "xgboost" and r["symbol"] == "SOLUSDT" for r in rows) and batch["count"] == 1
    assert all(r["outcome_up"] is None for r in rows) and all(r["as_of"] != iso(0) for r in rows)

    as_of = SYNTHETIC_END_MS - (HIDDEN + 1) * HOUR  # the last candle the folder had
    assert single["as_of"] == iso(as_of)
    ledger = st.ledger
    def read(symbol, tf, last, end):
        return st.market.candles(symbol, tf, last, end)

    # Their candles have closed by then, but the folder does not have them yet.
    assert score_due(ledger, read, now=(as_of + 10 * HOUR) / 1000) == {"scored": 0, "pending": len(rows)}
    append()
    counts = score_due(ledger, read, now=(as_of + 10 * HOUR) / 1000,
                       read_market=lambda tf, last, end: st.market.held_series(tf, last, end))
    assert counts == {"scored": len(rows), "pending": 0}
    frame = full["BTCUSDT"].set_index(pd.to_datetime(full["BTCUSDT"]["timestamp"]))["close"]
    before, after = frame[pd.Timestamp(as_of, unit="ms")], frame[pd.Timestamp(as_of + 4 * HOUR, unit="ms")]
    [btc] = client.get("/predictions/history?symbol=btc&model=lightgbm&horizon=4").get_json()["results"]
    assert btc["outcome_up"] == bool(after > before)
    assert btc["return_bps"] == pytest.approx((after / before - 1) * 1e4, abs=1e-3)
    # The relative outcome: BTC's log return over the 4 candles against the mean of the three coins'.
    logs = {}
    for symbol, f in full.items():
        closes = f.set_index(pd.to_datetime(f["timestamp"]))["close"]
        at = closes[pd.Timestamp(as_of, unit="ms")]
        logs[symbol] = np.log(closes[pd.Timestamp(as_of + 4 * HOUR, unit="ms")] / at)
    assert btc["outcome_outperform"] == bool(logs["BTCUSDT"] > np.mean(list(logs.values())))
    then = (as_of + 10 * HOUR) / 1000
    # lightgbm at horizon 1: only as a member of the ETH ensemble answer (its own BTC one was at horizon 4)
    assert live_metrics(ledger, "lightgbm", "1h", 1, None, now=then)["n_scored"] == 1
    ens = live_metrics(ledger, "ensemble", "1h", 1, None, now=then)
    assert ens["n_scored"] == 1 and ens["accuracy"] in (0.0, 1.0) and ens["drift"] == "insufficient_data"
    assert ens["drift_reason"].startswith("1 scored forecasts: drift needs an evaluation")
    # The status endpoint measures its window back from the wall clock: these 2025 candles are outside it.
    status = client.get("/models/ensemble/status").get_json()["live"]
    assert status["window_days"] == 30 and status["n_scored"] == 0 and status["drift"] == "insufficient_data"
    assert status["drift_reason"] == "no served forecast in the window is scored yet"


def test_each_answer_is_recorded_with_its_move_quantiles(app):
    """The quantiles answered are kept with the forecast and listed by the history; an ensemble's members
    (whose quantiles were not answered) and rows recorded before keep none."""
    client, st = app.test_client(), app.extensions[KEY]
    single = client.post("/predict/single", json={"symbol": "BTC", "model": "lightgbm", "horizon": 4}).get_json()
    ensemble = client.post("/predict/single", json={"symbol": "ETH"}).get_json()
    st.ledger.append([{"model": "xgboost", "model_version": "old", "symbol": "SOLUSDT", "timeframe": "1h",
                       "horizon": 1, "as_of": 0, "probability_up": 0.5, "signal": "HOLD", "recorded_at": 1.0}])
    st.recorder.drain()
    rows = client.get("/predictions/history?limit=1000").get_json()["results"]
    [btc] = [r for r in rows if r["symbol"] == "BTCUSDT"]
    assert btc["move"] == {"source": single["move"]["source"], "quantiles_bps": single["move"]["quantiles_bps"]}
    eth = {r["model"]: r for r in rows if r["symbol"] == "ETHUSDT"}
    assert eth["ensemble"]["move"]["quantiles_bps"] == ensemble["move"]["quantiles_bps"]
    assert all(eth[m]["move"] is None for m in ensemble["members"])
    assert next(r for r in rows if r["model_version"] == "old")["move"] is None


def test_history_refuses_bad_queries(app):
    client = app.test_client()
    for query in ("limit=0", "limit=5000", "horizon=0", "timeframe=7h", "since=yesterday", "symbol=%F0%9F%92%A9"):
        r = client.get(f"/predictions/history?{query}")
        assert r.status_code == 400 and r.get_json()["error"]["code"] in ("invalid_value", "invalid_symbol"), query


def forecasts(ledger: LedgerStore, p: np.ndarray, y: np.ndarray, now_ms: int, model: str = "m") -> None:
    rows = [{"model": model, "model_version": "v1", "symbol": f"S{i % 50}", "timeframe": "1h", "horizon": 1,
             "as_of": now_ms - (i + 2) * HOUR, "probability_up": float(q), "signal": "HOLD", "recorded_at": 0.0}
            for i, q in enumerate(p)]
    ledger.append(rows)
    recorded = ledger.history(model=model, limit=len(rows) + 10)
    by_as_of = {r["as_of"]: r["id"] for r in recorded}
    ledger.score([{"id": by_as_of[r["as_of"]], "outcome_up": bool(t), "return_bps": 1.0} for r, t in zip(rows, y)],
                 scored_at=now_ms / 1000)


def test_live_skill_and_drift(tmp_path):
    ledger = LedgerStore(f"sqlite:///{tmp_path / 'l.sqlite'}")
    now_ms = SYNTHETIC_END_MS
    rng = np.random.default_rng(0)
    n = 3000
    y = rng.random(n) < 0.5
    skilled = np.clip(0.5 + 0.08 * (y - 0.5) + rng.normal(0, 0.03, n), 0.01, 0.99)
    forecasts(ledger, skilled, y, now_ms, "skilled")
    forecasts(ledger, np.clip(0.5 + rng.normal(0, 0.03, n), 0.01, 0.99), y, now_ms, "chance")
    forecasts(ledger, np.where(y, 0.2, 0.8)[:200], y[:200], now_ms, "wrong")
    test = {"auc": 0.54, "log_loss": 0.6905}
    good = live_metrics(ledger, "skilled", "1h", 1, test, now=now_ms / 1000, window_days=365)
    assert good["n_scored"] == n and good["auc"] > 0.7 and good["drift"] == "ok" and good["p_value"] < 1e-6
    assert forecasts_needed(0.54) <= n
    chance = live_metrics(ledger, "chance", "1h", 1, test, now=now_ms / 1000, window_days=365)
    assert chance["drift"] == "alarm" and "no skill" in chance["drift_reason"]
    wrong = live_metrics(ledger, "wrong", "1h", 1, test, now=now_ms / 1000, window_days=365)
    assert wrong["drift"] == "warning" and wrong["log_loss"] > 1.0 and wrong["n_scored"] < forecasts_needed(0.54)
    assert live_metrics(ledger, "skilled", "1h", 1, test, now=now_ms / 1000, window_days=1)["n_scored"] == 23


def test_drift_says_when_too_few_forecasts_are_scored_to_test(tmp_path):
    """Nothing scored, or fewer than either test needs, is insufficient_data, never a green ok."""
    ledger = LedgerStore(f"sqlite:///{tmp_path / 'l.sqlite'}")
    now_ms = SYNTHETIC_END_MS
    rng = np.random.default_rng(1)
    y = rng.random(300) < 0.5
    forecasts(ledger, np.clip(0.5 + 0.08 * (y - 0.5), 0.01, 0.99), y, now_ms, "m")
    test = {"auc": 0.54, "log_loss": 0.6905}
    figures = {days: live_metrics(ledger, "m", "1h", 1, test, now=now_ms / 1000, window_days=days)
               for days in (0.01, 1, 365)}
    assert figures[0.01]["n_scored"] == 0 and figures[0.01]["drift"] == "insufficient_data"
    assert figures[1]["n_scored"] == 23 and figures[1]["drift"] == "insufficient_data"
    assert figures[1]["drift_reason"] == ("23 scored forecasts: drift needs 30 to compare log loss with the test's, "
                                          f"{forecasts_needed(0.54)} to test skill")
    assert figures[365]["n_scored"] == 300 and figures[365]["drift"] == "ok"  # the log-loss test ran
    untested = live_metrics(ledger, "m", "1h", 1, None, now=now_ms / 1000, window_days=365)
    assert untested["drift"] == "insufficient_data" and "needs an evaluation" in untested["drift_reason"]


def test_live_detail_reads_calibration_and_skill_over_time(tmp_path):
    ledger = LedgerStore(f"sqlite:///{tmp_path / 'l.sqlite'}")
    now_ms = SYNTHETIC_END_MS
    rng = np.random.default_rng(3)
    n = 2400  # 100 days of hourly forecasts
    y = rng.random(n) < 0.5
    p = np.clip(0.5 + 0.1 * (y - 0.5) + rng.normal(0, 0.05, n), 0.01, 0.99)
    forecasts(ledger, p, y, now_ms, "skilled")
    detail = live_detail(ledger, "skilled", "1h", 1, None, now=now_ms / 1000, window_days=30)
    summary = detail["summary"]
    assert summary["n_scored"] == 30 * 24 - 1 and summary["auc_ci95"][0] < summary["auc"] < summary["auc_ci95"][1]
    bins = detail["calibration"]
    assert len(bins) == 10 and sum(b["n"] for b in bins) == summary["n_scored"]
    assert [b["p_mean"] for b in bins] == sorted(b["p_mean"] for b in bins)
    assert bins[0]["observed"] < 0.3 < 0.7 < bins[-1]["observed"]  # skill shows as a rising curve
    assert detail["bucket"] == "day" and len(detail["over_time"]) in (30, 31)
    assert sum(pt["n"] for pt in detail["over_time"]) == summary["n_scored"]
    assert [pt["start"] for pt in detail["over_time"]] == sorted(pt["start"] for pt in detail["over_time"])
    assert all(pt["auc"] > 0.6 for pt in detail["over_time"] if pt["n"] >= 20)
    weekly = live_detail(ledger, "skilled", "1d", 1, None, now=now_ms / 1000, window_days=30)
    assert weekly["bucket"] == "week" and weekly["summary"]["n_scored"] == 0 and weekly["over_time"] == []


def test_the_live_endpoint_and_status_on_a_chosen_timeframe(app, synthetic_now):
    client, st = app.test_client(), app.extensions[KEY]
    rng = np.random.default_rng(4)
    y = rng.random(600) < 0.5
    forecasts(st.ledger, np.clip(0.5 + 0.1 * (y - 0.5) + rng.normal(0, 0.05, 600), 0.01, 0.99), y,
              SYNTHETIC_END_MS, "lightgbm")
    r = client.get("/models/LightGBM/live?days=60&timeframe=1h")
    assert r.status_code == 200, r.get_json()
    live = r.get_json()
    assert live["id"] == "lightgbm" and live["horizon"] == 1 and live["summary"]["n_scored"] == 600
    assert live["model_version"] == client.get("/models/lightgbm/status").get_json()["model_version"]
    assert live["validation"]["auc"] == client.get("/models/lightgbm/status").get_json()["metrics"]["validation"]["auc"]
    assert len(live["calibration"]) == 10 and len(live["over_time"]) >= 25
    assert client.get("/models/ensemble/live").get_json()["summary"]["n_scored"] == 0
    for query, status, code in (("days=0", 400, "invalid_value"), ("bucket=month", 400, "invalid_value"),
                                ("horizon=0", 400, "invalid_value"), ("timeframe=7h", 400, "invalid_value"),
                                ("horizon=99", 404, "not_trained"), ("timeframe=1w", 404, "not_trained")):
        r = client.get(f"/models/lightgbm/live?{query}")
        assert r.status_code == status and r.get_json()["error"]["code"] == code, query
    assert client.get("/models/nope/live").status_code == 404
    on_1w = client.get("/models/lightgbm/status?timeframe=1w").get_json()
    assert on_1w["timeframe"] == "1w" and on_1w["status"] == "not_trained" and on_1w["model_version"] is None
    assert client.get("/models/ensemble/status?timeframe=1h").get_json()["timeframe"] == "1h"
    assert client.get("/models/lightgbm/status?timeframe=7h").status_code == 400


def test_live_figures_follow_every_change_of_the_scored_forecasts(tmp_path):
    """They are cached per ledger, and recomputed when a forecast is scored or leaves the window."""
    ledger = LedgerStore(f"sqlite:///{tmp_path / 'l.sqlite'}")
    now = SYNTHETIC_END_MS / 1000
    rng = np.random.default_rng(6)
    forecasts(ledger, rng.random(100), rng.random(100) < 0.5, SYNTHETIC_END_MS, "m")
    first = live_metrics(ledger, "m", "1h", 1, None, now=now, window_days=10)
    assert live_metrics(ledger, "m", "1h", 1, None, now=now, window_days=10) == first
    later = live_metrics(ledger, "m", "1h", 1, None, now=now + 3600, window_days=10)
    assert later["n_scored"] == first["n_scored"] and later["since"] != first["since"]
    row = {"model": "m", "model_version": "v2", "symbol": "S0", "timeframe": "1h", "horizon": 1,
           "as_of": SYNTHETIC_END_MS - HOUR, "probability_up": 0.9, "signal": "BUY", "recorded_at": 0.0}
    ledger.append([row])
    [new] = ledger.history(model="m", limit=1)
    ledger.score([{"id": new["id"], "outcome_up": True, "return_bps": 5.0}], scored_at=now + 1)
    assert live_metrics(ledger, "m", "1h", 1, None, now=now, window_days=10)["n_scored"] == 101
    assert live_detail(ledger, "m", "1h", 1, None, now=now, window_days=10)["summary"]["n_scored"] == 101
    gone = live_metrics(ledger, "m", "1h", 1, None, now=now + 200 * 3600, window_days=10)  # 200 hours later
    assert gone["n_scored"] == 40  # the window keeps forecasts up to 240 hours old: 39 of the first, the new one
