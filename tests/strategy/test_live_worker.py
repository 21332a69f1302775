"""The worker's strategies duty wired to the service (cli/worker_strategies.py) over the smoke models and
the synthetic folder: a close trades on the forecast the service recorded in the ledger for it, computes
the missing ones through the serving path (as a served answer for that close) and records them."""

from __future__ import annotations

from coinpredict.cli.worker_strategies import MarketBars, ServedForecasts
from coinpredict.config import Settings
from coinpredict.data.market import MarketData
from coinpredict.ledger import LedgerStore, rows_of
from coinpredict.serving import ModelStore, Predictor
from coinpredict.serving.requests import PredictRequest
from coinpredict.strategy.config import parse_strategy
from coinpredict.strategy.live import LiveRunner
from coinpredict.strategy.store import StrategyStore
from tests.conftest import SYNTHETIC_END_MS, SYNTHETIC_SYMBOLS
from tests.strategy.helpers import HOUR, strategy


def test_a_close_trades_the_recorded_forecast_and_computes_and_records_the_missing_ones(
        synthetic_dir, trained_dir, synthetic_now, tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = Settings(offline=True, ohlcv_dir=synthetic_dir, database_url=url)
    market = MarketData(settings)
    ledger = LedgerStore(url)
    t = SYNTHETIC_END_MS - 2 * HOUR  # the candle the strategy was created in; it closed an hour before the end
    served = Predictor(settings, market, ModelStore(trained_dir).load_all()).predict_many(
        [PredictRequest(s, "1h", "lightgbm", 1, as_of_ms=t) for s in SYNTHETIC_SYMBOLS])
    planted = dict(served[0], probability_up=0.93, expected_move_bps=55.0, signal="BUY")  # what was "served"
    ledger.append(rows_of(planted))
    store = StrategyStore(url, clock=lambda: (t + 60_000) / 1000)
    record = store.create(parse_strategy(strategy(universe=SYNTHETIC_SYMBOLS, short=True)))
    runner = LiveRunner(store, MarketBars(market), ServedForecasts(ledger, market, trained_dir),
                        now=lambda: synthetic_now)
    done = runner.run_once()
    assert [o.status for o in done] == ["traded", "traded"]  # the two closes up to the clock's now
    first = {f["symbol"]: f for f in store.closes(record.id)[0]["forecasts"]}
    btc = first[SYNTHETIC_SYMBOLS[0]]
    assert btc["source"] == "ledger" and btc["probability_up"] == 0.93 and btc["edge_bps"] == (2 * 0.93 - 1) * 55
    for answer in served[1:]:
        mine = first[answer["symbol"]]
        assert mine["source"] == "computed" and mine["probability_up"] == answer["probability_up"]
        assert mine["signal"] == answer["signal"] and mine["expected_move_bps"] == answer["expected_move_bps"]
        assert mine["model_version"] == answer["model_version"]
    recorded = ledger.forecasts_at("lightgbm", "1h", 1, t, SYNTHETIC_SYMBOLS)
    assert {r["symbol"] for r in recorded} == set(SYNTHETIC_SYMBOLS)  # the computed ones joined the ledger
    assert all(r["expected_move_bps"] is not None for r in recorded)
    assert store.trades(record.id)  # the BUY planted for BTC filled at the next open
