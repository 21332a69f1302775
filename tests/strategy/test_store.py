"""Strategies and their paper books in the database, on SQLite and PostgreSQL: versions keep their
history, a close is written once (its unique key), and what the live runner writes reads back."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from coinpredict.strategy.config import parse_strategy
from coinpredict.strategy.engine import Engine
from coinpredict.strategy.store import StaleBook, StrategyStore

from .helpers import HOUR, T0, forecast, strategy


def run_closes(store: StrategyStore, record, closes: list[float], signal: str = "BUY") -> tuple[list, Engine]:
    """Feed one coin's hourly closes through the engine and record each close; the steps and the engine."""
    eng = Engine(record.config)
    steps, previous = [], closes[0]
    for k, close in enumerate(closes):
        step = eng.on_candle(T0 + k * HOUR, {"AAAUSDT": previous}, {"AAAUSDT": close},
                             {"AAAUSDT": forecast("AAAUSDT", signal)})
        assert store.record_close(record.id, record.version, step.point.time, eng.snapshot(), step.fills,
                                  step.point, step.events)
        steps.append(step)
        previous = close
    return steps, eng


def test_a_change_is_a_new_version_and_the_history_stays(new_database):
    store = StrategyStore(new_database)
    made = store.create(parse_strategy(strategy(name="one")))
    assert (made.version, made.status, made.config.name) == (1, "running", "one")
    changed = store.new_version(made.id, parse_strategy(strategy(name="two", capital=5_000.0)))
    assert (changed.version, changed.name, changed.config.capital) == (2, "two", 5_000.0)
    assert [(v.version, v.config.name) for v in store.versions(made.id)] == [(1, "one"), (2, "two")]
    assert [r.id for r in store.list()] == [made.id]
    assert store.set_status(made.id, "paused", when=("running",))
    assert not store.set_status(made.id, "paused", when=("running",))  # already paused
    assert store.require(made.id).status == "paused"
    assert store.get("nope") is None


def test_a_close_is_written_once_and_reads_back(new_database):
    store = StrategyStore(new_database)
    record = store.create(parse_strategy(strategy()))
    steps, eng = run_closes(store, record, [100.0, 101.0, 103.0, 102.0])
    fills = [f for s in steps for f in s.fills]
    assert fills and fills[0].side == "buy"  # then trims back to the cap as the price rises
    last = steps[-1]
    # The same close again (a restarted or second worker): nothing is written twice.
    assert not store.record_close(record.id, 1, last.point.time, Engine(record.config).snapshot(), last.fills,
                                  last.point)
    trades = store.trades(record.id)  # newest first
    assert [(t["time"], t["side"], t["reason"]) for t in trades] == [(f.time, f.side, f.reason) for f in fills[::-1]]
    assert [t["quantity"] for t in trades] == pytest.approx([f.quantity for f in fills[::-1]])
    assert [t["price"] for t in trades] == pytest.approx([f.price for f in fills[::-1]])
    assert len(store.trades(record.id, limit=1)) == 1
    points = store.equity(record.id)
    assert [p["time"] for p in points] == [s.point.time for s in steps]
    assert points[-1]["equity"] == pytest.approx(last.point.equity)
    assert [p["time"] for p in store.equity(record.id, since_ms=steps[2].point.time)] == [
        steps[2].point.time, steps[3].point.time]
    assert store.equity_values(record.id) == pytest.approx([s.point.equity for s in steps])
    latest = store.latest_close(record.id)
    assert latest.close_time == last.point.time
    assert latest.state == eng.snapshot()  # the state the next close resumes from
    assert store.trades(record.id, since_ms=fills[-1].time + 1) == []


def test_a_halt_written_by_a_close_halts_the_strategy_and_resume_lifts_it(new_database):
    store = StrategyStore(new_database)
    record = store.create(parse_strategy(strategy(limits={"max_drawdown": 0.05})))
    steps, _ = run_closes(store, record, [100.0, 100.0, 80.0, 80.0])
    assert any(e.limit == "drawdown" for s in steps for e in s.events)
    halted = store.require(record.id)
    assert halted.status == "halted" and "drawdown" in halted.halt_reason
    halted_close = store.latest_close(record.id)
    runner = Engine(record.config, halted_close.state)  # a worker read the halted book...
    eng = Engine.resume_from(record.config, halted_close.state.model_dump())
    event = eng.resume(T0 + 10 * HOUR)
    store.lift_halt(record.id, eng.snapshot(), event, halted_close.revision)  # ...then the API resumed it
    assert store.require(record.id).status == "running"
    latest = store.latest_close(record.id)
    assert latest.state.limits.halted is None and latest.events[-1].limit == "resumed"
    assert latest.revision == halted_close.revision + 1
    # The worker's close, computed from the halted state, must not undo the resume.
    step = runner.on_candle(T0 + 4 * HOUR, {"AAAUSDT": 80.0}, {"AAAUSDT": 80.0}, {})
    with pytest.raises(StaleBook):
        store.record_close(record.id, 1, step.point.time, runner.snapshot(), step.fills, step.point,
                           revision=halted_close.revision)
    assert store.latest_close(record.id).state.limits.halted is None and store.require(record.id).status == "running"
    with pytest.raises(StaleBook):  # nor may a resume from a stale read
        store.lift_halt(record.id, eng.snapshot(), event, halted_close.revision)
    # Redone from the book as it is now, it is written.
    redo = Engine(record.config, latest.state)
    step = redo.on_candle(T0 + 4 * HOUR, {"AAAUSDT": 80.0}, {"AAAUSDT": 80.0}, {})
    assert store.record_close(record.id, 1, step.point.time, redo.snapshot(), step.fills, step.point,
                              revision=latest.revision)
    assert store.require(record.id).status == "running"


def test_writers_racing_for_one_close_write_it_once_and_changes_at_once_get_their_own_versions(new_database):
    """What a second worker (or a restarted one) meets: the close's key, or the book's revision."""
    store = StrategyStore(new_database)
    record = store.create(parse_strategy(strategy()))
    eng = Engine(record.config)
    step = eng.on_candle(T0, {"AAAUSDT": 100.0}, {"AAAUSDT": 100.0}, {"AAAUSDT": forecast("AAAUSDT")})

    def race(write, n: int = 4) -> list:
        barrier = threading.Barrier(n)

        def one(_):
            barrier.wait()
            try:
                return write()
            except StaleBook:
                return "stale"
        with ThreadPoolExecutor(n) as pool:
            return list(pool.map(one, range(n)))

    def write(revision=None):
        return lambda: store.record_close(record.id, 1, step.point.time, eng.snapshot(), step.fills, step.point,
                                          revision=revision)
    assert Counter(race(write())) == {False: 3, True: 1}
    assert len(store.equity(record.id)) == 1
    step = eng.on_candle(T0 + HOUR, {"AAAUSDT": 100.0}, {"AAAUSDT": 101.0}, {})
    outcomes = race(write(store.latest_close(record.id).revision))
    assert Counter(outcomes) == {"stale": 3, True: 1}
    assert len(store.equity(record.id)) == 2
    race(lambda: store.new_version(record.id, parse_strategy(strategy(name="changed"))))
    assert [v.version for v in store.versions(record.id)] == [1, 2, 3, 4, 5]
