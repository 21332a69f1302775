"""The worker's live duty (``strategy.live.LiveRunner``) over planted candles and forecasts, on SQLite and
PostgreSQL: each close is applied once (a rerun, a worker killed between deciding and recording and
restarted, two workers racing), exactly as the engine run over the same candles in one go; a close whose
candles are late beyond the tolerance, or whose prices are invented, is skipped and says why."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from coinpredict.strategy.config import parse_strategy
from coinpredict.strategy.engine import Engine
from coinpredict.strategy.live import Bar, Bars, LiveForecast, LiveRunner
from coinpredict.strategy.store import StaleBook, StrategyStore
from tests.strategy.helpers import HOUR, T0, forecast, strategy

SYMBOLS = ["AAAUSDT", "BBBUSDT", "CCCUSDT"]
CANDLES = 8


def market(seed: int = 3):
    """{open time: {symbol: Bar}} and {open time: {symbol: Forecast}}: a random walk whose signals flip."""
    rng = np.random.default_rng(seed)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, size=(CANDLES + 1, len(SYMBOLS))), axis=0))
    bars, fcs = {}, {}
    for k in range(CANDLES):
        t = T0 + k * HOUR
        bars[t] = {s: Bar(float(prices[k, j]), float(prices[k + 1, j])) for j, s in enumerate(SYMBOLS)}
        p = rng.uniform(0.3, 0.7, len(SYMBOLS))
        fcs[t] = {s: forecast(s, "BUY" if p[j] > 0.55 else "SELL" if p[j] < 0.45 else "HOLD", float(p[j]))
                  for j, s in enumerate(SYMBOLS)}
    return bars, fcs


class Candles:
    def __init__(self, bars, *, invented: bool = False):
        self.data, self.invented, self.hidden = bars, invented, set()

    def bars(self, symbols, timeframe, t):
        return Bars({s: b for s, b in self.data.get(t, {}).items() if s in symbols and (t, s) not in self.hidden},
                    invented=self.invented)


class Forecasts:
    def __init__(self, fcs, gate=None):
        self.data, self.gate, self.calls = fcs, gate, 0

    def forecasts(self, config, symbols, t):
        self.calls += 1
        if self.gate is not None and self.calls <= 3:
            self.gate()
        return {s: LiveForecast(f, "v1", "ledger") for s, f in self.data.get(t, {}).items() if s in symbols}


def config(kind: str = "signal"):
    extra = {"k": 2, "n_drop": 1} if kind == "topk" else {"short": True}
    return parse_strategy(strategy(kind=kind, universe=SYMBOLS, sizing={"fraction": 0.3},
                                   limits={"max_position": 0.35, "max_gross": 1.0}, **extra))


def reference(cfg, bars, fcs, closes: int):
    """The engine over the same candles in one go: what the runner must have written."""
    eng, fills, points = Engine(cfg), [], []
    for k in range(closes):
        t = T0 + k * HOUR
        step = eng.on_candle(t, {s: b.open for s, b in bars[t].items()}, {s: b.close for s, b in bars[t].items()},
                             fcs[t])
        fills += step.fills
        points.append(step.point)
    return fills, points


def book(store: StrategyStore, strategy_id: str):
    trades = sorted(store.trades(strategy_id, limit=1000), key=lambda r: r["id"])
    return ([(r["time"], r["symbol"], r["side"], round(r["quantity"], 9), r["price"]) for r in trades],
            [(p["time"], p["equity"]) for p in store.equity(strategy_id)])


def expected(fills, points):
    return ([(f.time, f.symbol, f.side, round(f.quantity, 9), f.price) for f in fills],
            [(p.time, p.equity) for p in points])


def at(closes: int, minutes: int = 10) -> float:
    """Clock seconds ``minutes`` after the ``closes``-th close from T0."""
    return (T0 + closes * HOUR + minutes * 60_000) / 1000


@pytest.mark.parametrize("kind", ["signal", "topk"])
def test_the_duty_runs_every_close_once_and_a_rerun_writes_nothing(new_database, kind):
    bars, fcs = market()
    store = StrategyStore(new_database, clock=lambda: T0 / 1000 + 60)
    record = store.create(config(kind))
    runner = LiveRunner(store, Candles(bars), Forecasts(fcs), now=lambda: at(5))
    done = runner.run_once()
    assert [o.status for o in done] == ["traded"] * 5
    assert [o.close_time for o in done] == [T0 + (k + 1) * HOUR for k in range(5)]
    want = expected(*reference(config(kind), bars, fcs, 5))
    assert book(store, record.id) == want and want[0]
    assert runner.run_once() == []
    assert book(store, record.id) == want
    closes = store.closes(record.id)
    assert len(closes) == 5 and closes[-1]["forecasts"][0]["model_version"] == "v1"


class Killed(BaseException):
    """A kill -9 between deciding and recording: nothing after the decision runs, nothing is written."""


def test_a_worker_killed_mid_close_and_restarted_neither_skips_nor_doubles_it(new_database):
    bars, fcs = market()
    first = StrategyStore(new_database, clock=lambda: T0 / 1000 + 60)
    record = first.create(config())
    real, calls = first.record_close, []

    def dies_at_the_third(*args, **kwargs):
        calls.append(args[2])
        if len(calls) == 3:
            raise Killed
        return real(*args, **kwargs)
    first.record_close = dies_at_the_third
    with pytest.raises(Killed):
        LiveRunner(first, Candles(bars), Forecasts(fcs), now=lambda: at(5)).run_once()
    assert len(first.closes(record.id)) == 2
    restarted = StrategyStore(new_database)
    assert [o.status for o in LiveRunner(restarted, Candles(bars), Forecasts(fcs), now=lambda: at(5)).run_once()] \
        == ["traded"] * 3
    assert book(restarted, record.id) == expected(*reference(config(), bars, fcs, 5))


def test_two_workers_racing_for_the_same_closes_apply_each_once(new_database):
    bars, fcs = market()
    setup = StrategyStore(new_database, clock=lambda: T0 / 1000 + 60)
    record = setup.create(config())
    barrier = threading.Barrier(2)

    def together():  # both have read the same book and decide the same close before either records it
        try:
            barrier.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass  # the other worker finished: it decides alone
    refused = []

    def counting(store):
        real = store.record_close

        def record_close(*args, **kwargs):
            try:
                written = real(*args, **kwargs)
            except StaleBook:
                written = "stale"
            if written is not True:
                refused.append(written)
                if written == "stale":
                    raise StaleBook("counted")
            return written
        store.record_close = record_close
        return store
    runners = [LiveRunner(counting(StrategyStore(new_database)), Candles(bars), Forecasts(fcs, together),
                          now=lambda: at(6)) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        outcomes = [o for done in pool.map(lambda r: r.run_once(), runners) for o in done]
    assert refused  # they did race: a worker found a close the other had written (its key or the revision)
    traded = sorted(o.close_time for o in outcomes if o.status == "traded")
    assert traded == [T0 + (k + 1) * HOUR for k in range(6)]  # each close once, none skipped
    assert book(setup, record.id) == expected(*reference(config(), bars, fcs, 6))
    assert len(setup.closes(record.id)) == 6


def test_late_candles_wait_then_the_close_is_skipped_with_its_reason_and_the_book_carries_on(new_database):
    bars, fcs = market()
    store = StrategyStore(new_database, clock=lambda: T0 / 1000 + 60)
    record = store.create(config())
    candles = Candles(bars)
    candles.hidden.add((T0 + 2 * HOUR, "BBBUSDT"))
    now = [at(3)]
    runner = LiveRunner(store, candles, Forecasts(fcs), now=lambda: now[0], late=0.5)
    assert [o.status for o in runner.run_once()] == ["traded", "traded"]  # the third close waits for BBB
    assert runner.run_once() == []
    now[0] = at(3, minutes=31)  # half a candle after that close: skipped
    skipped = runner.run_once()
    assert [o.status for o in skipped] == ["skipped"] and "BBBUSDT" in skipped[0].reason
    event = store.latest_close(record.id).events[0]
    assert event.limit == "stale_data" and event.symbols == ["BBBUSDT"] and "nothing traded" in event.detail
    assert store.events(record.id)[0].limit == "stale_data"
    assert len(store.equity(record.id)) == 2  # no equity point at the skipped close
    trades = len(store.trades(record.id, limit=1000))
    now[0] = at(4)
    assert [o.status for o in runner.run_once()] == ["traded"]  # the next close trades on
    assert len(store.equity(record.id)) == 3 and len(store.trades(record.id, limit=1000)) >= trades


def test_invented_prices_are_never_traded(new_database):
    bars, fcs = market()
    store = StrategyStore(new_database, clock=lambda: T0 / 1000 + 60)
    record = store.create(config())
    feed = Forecasts(fcs)
    done = LiveRunner(store, Candles(bars, invented=True), feed, now=lambda: at(2)).run_once()
    assert [o.status for o in done] == ["skipped", "skipped"] and "invented" in done[0].reason
    assert store.trades(record.id) == [] and store.equity(record.id) == [] and feed.calls == 0


def test_a_halted_strategy_closes_what_it_holds_and_a_paused_one_trades_nothing_until_resumed(new_database):
    """Live as in the backtest: the drawdown halt sells at the next open and then nothing opens; closes
    while paused pass untraded, and the resume trades from the next close on."""
    prices = [100.0, 100.0, 70.0, 70.0, 70.0, 70.0, 70.0, 70.0, 70.0]
    bars = {T0 + k * HOUR: {s: Bar(prices[k], prices[k + 1]) for s in SYMBOLS} for k in range(CANDLES)}
    fcs = {t: {s: forecast(s, "BUY") for s in SYMBOLS} for t in bars}
    store = StrategyStore(new_database, clock=lambda: T0 / 1000 + 60)
    record = store.create(parse_strategy(strategy(universe=SYMBOLS, sizing={"fraction": 0.3},
                                                  limits={"max_position": 0.35, "max_drawdown": 0.05})))
    now = [at(3)]
    runner = LiveRunner(store, Candles(bars), Forecasts(fcs), now=lambda: now[0])
    assert [o.status for o in runner.run_once()] == ["traded"] * 3
    assert store.require(record.id).status == "halted"  # the fall at the second candle's close
    assert store.latest_close(record.id).state.book.positions == {}  # halted, it ran on: sold at the next open
    sells = [t for t in store.trades(record.id, limit=100) if t["side"] == "sell"]
    assert {t["symbol"] for t in sells} == set(SYMBOLS) and {t["time"] for t in sells} == {T0 + 2 * HOUR}
    now[0] = at(4)
    assert [o.status for o in runner.run_once()] == ["traded"]  # and opens nothing while halted
    assert len(store.trades(record.id, limit=100)) == 6
    store.set_status(record.id, "paused")
    now[0] = at(6)
    assert [o.status for o in runner.run_once()] == ["paused", "paused"]
    assert len(store.trades(record.id, limit=100)) == 6 and len(store.equity(record.id)) == 4
    store.set_status(record.id, "running")
    now[0] = at(7)
    assert [o.close_time for o in runner.run_once()] == [T0 + 7 * HOUR]  # the next close, not the paused ones
