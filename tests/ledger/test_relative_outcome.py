"""The relative target in the ledger: recorded with the answer, and scored once the market's candles of
the horizon have closed, against candles computed by hand (the coin's log return over the horizon above
the mean of every held coin's with both candles); shown by /predictions/history's store and live skill."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coinpredict.data.candles import Candles
from coinpredict.ledger import LedgerStore, live_metrics, score_due
from coinpredict.ledger.store import predictions

HOUR = 3_600_000
T0 = 1_750_000_000_000 // HOUR * HOUR
CLOSES = {  # hourly closes from T0; DUSDT has no candle at T0 + 2h
    "AUSDT": [100.0, 103.0, 101.0, 104.0],
    "BUSDT": [10.0, 10.1, 10.3, 10.2],
    "CUSDT": [50.0, 49.0, 50.5, 49.5],
    "DUSDT": [20.0, 20.5, None, 21.0],
}


def candles(symbol: str) -> Candles:
    kept = [(T0 + i * HOUR, c) for i, c in enumerate(CLOSES[symbol]) if c is not None]
    t = np.array([k for k, _ in kept], dtype=np.int64)
    c = np.array([v for _, v in kept])
    return Candles.from_arrays(symbol, "1h", t, c, c, c, c, np.ones(len(c)))


def read(symbol, tf, last, end_ms):
    return candles(symbol).until(end_ms).last(last)


def read_market(tf, last, end_ms):
    return [candles(s).until(end_ms).last(last) for s in CLOSES]


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'l.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("postgres")
    store = LedgerStore(url)
    with store.engine.begin() as conn:
        conn.execute(predictions.delete())
    return store


def row(symbol, horizon, as_of, outperform=0.6):
    return {"model": "lightgbm", "model_version": "v1", "symbol": symbol, "timeframe": "1h", "horizon": horizon,
            "as_of": as_of, "probability_up": 0.5, "signal": "HOLD", "recorded_at": T0 / 1000,
            "probability_outperform": outperform}


def test_the_relative_outcome_is_scored_against_hand_computed_candles(ledger):
    ledger.append([row("AUSDT", 1, T0), row("BUSDT", 1, T0), row("CUSDT", 1, T0, 0.3), row("AUSDT", 2, T0 + HOUR),
                   row("BUSDT", 2, T0 + HOUR), row("DUSDT", 1, T0), row("AUSDT", 1, T0 + 2 * HOUR, None)])
    assert score_due(ledger, read, read_market=read_market, now=(T0 + 4 * HOUR) / 1000)["scored"] == 7
    got = {(r["symbol"], r["horizon"], r["as_of"]): r["outcome_outperform"] for r in ledger.history(limit=20)}
    # T0 -> T0+1h, four coins: log returns A 0.0296, B 0.00995, C -0.0202, D 0.0247; mean 0.0110
    mean = np.mean([math.log(103 / 100), math.log(10.1 / 10), math.log(49 / 50), math.log(20.5 / 20)])
    assert 0.0109 < mean < 0.0111
    assert got[("AUSDT", 1, T0)] is True and got[("BUSDT", 1, T0)] is False and got[("CUSDT", 1, T0)] is False
    assert got[("DUSDT", 1, T0)] is True
    # T0+1h -> T0+3h, D has no 2h candle but has both ends (1h, 3h): A log(104/103), B log(10.2/10.1),
    # C log(49.5/49), D log(21/20.5): 0.00966, 0.00985, 0.01015, 0.0241, mean 0.0134: neither A nor B beats it
    two = np.mean([math.log(104 / 103), math.log(10.2 / 10.1), math.log(49.5 / 49), math.log(21 / 20.5)])
    assert math.log(10.2 / 10.1) < two < math.log(21 / 20.5)
    assert got[("AUSDT", 2, T0 + HOUR)] is False and got[("BUSDT", 2, T0 + HOUR)] is False
    assert got[("AUSDT", 1, T0 + 2 * HOUR)] is None  # answered without probability_outperform
    summary = live_metrics(ledger, "lightgbm", "1h", 1, None, now=(T0 + 4 * HOUR) / 1000)
    assert summary["outperform"]["n_scored"] == 4 and summary["n_scored"] == 5


def test_without_enough_coins_or_a_market_reader_the_relative_outcome_stays_null(ledger):
    ledger.append([row("AUSDT", 1, T0), row("BUSDT", 1, T0 + HOUR)])

    def two_coins(tf, last, end_ms):
        return [candles(s).until(end_ms).last(last) for s in ("AUSDT", "BUSDT")]

    score_due(ledger, read, read_market=two_coins, now=(T0 + 3 * HOUR) / 1000)
    rows = ledger.history(limit=5)
    assert [r["outcome_up"] for r in rows] == [True, True] and [r["outcome_outperform"] for r in rows] == [None, None]
    assert live_metrics(ledger, "lightgbm", "1h", 1, None, now=(T0 + 3 * HOUR) / 1000)["outperform"] is None


def test_the_workers_live_round_scores_the_relative_outcome_from_the_held_market(synthetic_dir, tmp_path,
                                                                                 synthetic_now):
    from coinpredict.cli.worker import LiveLoop
    from coinpredict.config import Settings
    from coinpredict.jobs import JobQueue
    from tests.conftest import SYNTHETIC_END_MS

    settings = Settings(offline=True, ohlcv_dir=synthetic_dir, models_dir=tmp_path / "models",
                        database_url=f"sqlite:///{tmp_path / 'w.sqlite'}", queue_path=tmp_path / "q.sqlite",
                        retrain_every={})
    loop = LiveLoop(settings, JobQueue(settings))
    as_of = SYNTHETIC_END_MS - 6 * HOUR
    loop.ledger.append([{**row(s, 2, as_of), "recorded_at": as_of / 1000} for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT")])
    assert loop.run_once()["scores"]["scored"] == 3
    outcomes = [r["outcome_outperform"] for r in loop.ledger.history(limit=5)]
    assert None not in outcomes and True in outcomes and False in outcomes  # someone beats the mean of three
