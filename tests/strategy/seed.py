"""A paper book written as the live runner writes it (``StrategyStore.record_close``, one close at a time),
from the synthetic folder's real candles and forecasts planted by hand: the API's and the dashboard's
strategy tests read it back without training or trading."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from coinpredict.data.sources.csvdir import load_folder
from coinpredict.strategy.engine import Engine, Step
from coinpredict.strategy.store import StrategyStore

from .helpers import forecast

HOUR = 3_600_000


def seed_book(store: StrategyStore, strategy_id: str, data_dir: Path, closes: int, end_ms: int,
              signal: Callable[[int, str], str] = lambda k, s: "BUY") -> list[Step]:
    """The strategy's book over its universe's last ``closes`` hourly candles opened before ``end_ms``;
    ``signal(k, symbol)`` is the served signal at candle k. Returns each close's step."""
    record = store.require(strategy_id)
    series = {c.symbol: c for c in load_folder(data_dir, "1h", list(record.config.universe))}
    times = sorted({int(t) for c in series.values() for t in c.t if t < end_ms})[-closes:]
    rows = {s: {int(t): i for i, t in enumerate(c.t)} for s, c in series.items()}
    engine, steps = Engine(record.config), []
    for k, t in enumerate(times):
        at = {s: rows[s][t] for s in series if t in rows[s]}
        step = engine.on_candle(t, {s: float(series[s].open[i]) for s, i in at.items()},
                                {s: float(series[s].close[i]) for s, i in at.items()},
                                {s: forecast(s, signal(k, s)) for s in at})
        assert store.record_close(record.id, record.version, step.point.time, engine.snapshot(), step.fills,
                                  step.point, step.events)
        steps.append(step)
    return steps
