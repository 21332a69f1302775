"""The ledger's queries on the embedded SQLite file and on a real PostgreSQL server: which forecasts are
due for scoring (long horizons on long timeframes included) and which symbols were asked for lately."""

from __future__ import annotations

import pytest

from coinpredict.ledger.store import LedgerStore, predictions

DAY = 86_400_000
T0 = 1_750_000_000_000 // DAY * DAY


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'l.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("postgres")
    store = LedgerStore(url)
    with store.engine.begin() as conn:
        conn.execute(predictions.delete())
    return store


def row(symbol, timeframe, horizon, as_of, recorded_at):
    return {"model": "lightgbm", "model_version": "v1", "symbol": symbol, "timeframe": timeframe,
            "horizon": horizon, "as_of": as_of, "probability_up": 0.5, "signal": "HOLD", "recorded_at": recorded_at}


def test_due_forecasts_wait_for_their_own_horizon_even_when_it_is_long(ledger):
    # (h + 1) x one day passes 2^31 ms at h = 24: the bound must be computed in 64 bits.
    ledger.append([row("BTCUSDT", "1d", 7, T0, T0 / 1000), row("BTCUSDT", "1d", 30, T0, T0 / 1000),
                   row("ETHUSDT", "1h", 1, T0, T0 / 1000)])
    assert ledger.unscored(now_ms=T0 + 2 * 3_600_000 - 1) == []
    assert [r["symbol"] for r in ledger.unscored(now_ms=T0 + 2 * 3_600_000)] == ["ETHUSDT"]
    assert {r["horizon"] for r in ledger.unscored(now_ms=T0 + 8 * DAY)} == {1, 7}
    assert {r["horizon"] for r in ledger.unscored(now_ms=T0 + 31 * DAY)} == {1, 7, 30}


def test_recent_symbols_are_those_answered_lately_whatever_their_candle(ledger):
    now_s = (T0 + 10 * DAY) / 1000
    # A daily forecast's candle opened up to two days before it was answered: it still counts as asked today.
    ledger.append([row("BTCUSDT", "1d", 1, T0 + 8 * DAY, now_s - 600), row("OLDUSDT", "1h", 1, T0, now_s - 2 * 86_400)])
    assert ledger.recent_symbols(now_s - 86_400) == {"1d": {"BTCUSDT"}}


def test_a_close_reads_the_newest_forecast_per_coin_that_kept_its_expected_move(ledger):
    """What the live strategies trade (strategy.live): one forecast per coin at one close, the newest
    recorded, among those with the answer's expected move (rows from before migration 0006 have none)."""
    from coinpredict.ledger import rows_of

    def answer(symbol, version, p, move, **extra):
        return {"symbol": symbol, "timeframe": "1h", "horizon": 1, "as_of": "2025-06-15T16:00:00Z",
                "model": "ensemble", "model_version": version, "probability_up": p, "signal": "BUY",
                "expected_move_bps": move, "cost_bps": 20.0, "move": {"model_version": "m1"}, **extra}
    t = 1_750_003_200_000
    ledger.append([{**row("ETHUSDT", "1h", 1, t, 1.0), "model": "ensemble"}])  # no expected move: not read
    ledger.append(rows_of(answer("BTCUSDT", "e1", 0.6, 40.0, members={"lightgbm": 0.7}),
                          {"lightgbm": "l1"}, now=2.0))
    ledger.append(rows_of(answer("BTCUSDT", "e2", 0.55, 41.5), now=3.0))
    got = ledger.forecasts_at("ensemble", "1h", 1, t, ["BTCUSDT", "ETHUSDT"])
    assert [(r["symbol"], r["model_version"], r["probability_up"], r["expected_move_bps"], r["move_version"])
            for r in got] == [("BTCUSDT", "e2", 0.55, 41.5, "m1")]
    [member] = ledger.forecasts_at("lightgbm", "1h", 1, t, ["BTCUSDT"])  # a member keeps the answer's move
    assert (member["model_version"], member["expected_move_bps"], member["move_version"]) == ("l1", 40.0, "m1")
    assert ledger.forecasts_at("ensemble", "1h", 1, t + 3_600_000, ["BTCUSDT"]) == []
