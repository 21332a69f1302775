"""The worker's live duty: every ``running`` strategy traded on paper at each candle close of its timeframe
(a ``halted`` one runs on to close what it holds; a ``paused`` one's closes pass untraded).

At each close the runner takes the strategy's book (``StrategyStore.latest_close``: the state and the book's
revision), the closed candle of every coin of its universe (``CandleFeed``) and the forecasts made at that
close (``ForecastFeed``: the ones the service served and recorded in the ledger, the missing ones computed
through the serving path; the worker wires both, this module imports neither), runs ``Engine.on_candle``
once and writes the close with ``record_close``. A close is applied exactly once whoever runs it: the
store's key (strategy, version, close) refuses a second writer of the same close (``False``) and the
revision refuses a close computed from a book that changed since (``StaleBook``); either way the runner
reads the book again and carries on from what is there. Nothing is written before ``record_close``, so a
worker killed at any point leaves the close undone, never half done, for the next one to do.

A close whose candles (or forecasts) are still missing waits ``late`` (a fraction of a candle) for them;
after that the strategy skips the close and says why (a ``stale_data`` event on a close recorded without
trades or an equity point; the book carries on at the next close). Invented prices (the synthetic
market) are never traded: such a close is skipped at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..common import clock
from ..common.times import iso
from ..data.timeframes import TIMEFRAME_MS, period_start
from .config import StrategyConfig, TopUniverse
from .engine import Engine
from .limits import LimitEvent
from .selection import Forecast
from .store import StaleBook, StrategyRecord, StrategyStore

log = logging.getLogger(__name__)
STALE_DATA = "stale_data"  # the event's ``limit``: the close was skipped, the detail says why
TRIES = 5  # rereads of the book per close when another writer got there first
# A halted strategy runs on: the engine closes what it holds at the next open and opens nothing (as in the
# backtest). A paused one's closes pass without trading, so a resume trades from the next close on, never
# through the pause.
RUN = ("running", "halted", "paused")


@dataclass(frozen=True)
class Bar:
    """One coin's closed candle: what the engine fills at (open) and values at (close)."""

    open: float
    close: float


@dataclass(frozen=True)
class LiveForecast:
    forecast: Forecast
    model_version: str
    source: str  # "ledger": served and recorded; "computed": by the runner through the serving path
    move_version: str | None = None  # the move model's version behind the expected move; None: the rule

    def record(self) -> dict:
        return {**self.forecast.model_dump(), "model_version": self.model_version, "source": self.source,
                "move_version": self.move_version}


@dataclass(frozen=True)
class Bars:
    bars: dict[str, Bar]  # symbol -> the candle opening at the close's open time; a coin without it is absent
    invented: bool = False  # synthetic prices: never traded


class CandleFeed(Protocol):
    def bars(self, symbols: list[str], timeframe: str, t: int) -> Bars: ...


class ForecastFeed(Protocol):
    def forecasts(self, config: StrategyConfig, symbols: list[str], t: int) -> dict[str, LiveForecast]: ...


@dataclass
class CloseOutcome:
    strategy_id: str
    close_time: int  # ms
    status: str  # "traded", "skipped" (stale data, with ``reason``), "paused" or "taken" (another writer did it)
    fills: int = 0
    reason: str | None = None
    events: list[str] = field(default_factory=list)


class LiveRunner:
    def __init__(self, store: StrategyStore, candles: CandleFeed, forecasts: ForecastFeed, *,
                 universe: Callable[[StrategyRecord], list[str]] | None = None, now=clock.now,
                 late: float = 1.0, max_closes: int = 48):
        """``universe``: a ``{"top": N}`` strategy's coins (a list universe is its list); ``late``: candles
        a close waits for its data before it is skipped; ``max_closes``: closes caught up per strategy per
        round (a worker back after a pause catches up over a few rounds)."""
        self.store, self.candles, self.feed = store, candles, forecasts
        self.universe, self.now, self.late, self.max_closes = universe, now, late, max_closes

    def run_once(self) -> list[CloseOutcome]:
        """Every due close of every strategy that runs (``RUN``); one failing strategy never stops the others."""
        done: list[CloseOutcome] = []
        for record in [r for r in self.store.list() if r.status in RUN]:
            try:
                for _ in range(self.max_closes):
                    outcome = self.close_next(record.id)
                    if outcome is None:
                        break
                    done.append(outcome)
            except Exception:  # noqa: BLE001 - logged; the next round retries this strategy
                log.exception("strategy %s: live close failed", record.id)
        return done

    def symbols(self, record: StrategyRecord) -> list[str]:
        if isinstance(record.config.universe, TopUniverse):
            if self.universe is None:
                raise ValueError("a top-N universe needs the runner's universe resolver")
            return self.universe(record)
        return list(record.config.universe)

    def close_next(self, strategy_id: str) -> CloseOutcome | None:
        """The strategy's next due close, applied once; None when none is due yet (or it waits for data)."""
        for _ in range(TRIES):
            record = self.store.get(strategy_id)
            if record is None or record.status not in RUN:
                return None
            latest = self.store.latest_close(strategy_id)
            revision = latest.revision if latest else self.store.book_revision(strategy_id)
            tf = record.config.timeframe
            step = TIMEFRAME_MS[tf]
            if latest is None:
                t = int(period_start(int(record.created_at * 1000), tf))  # the candle it was created in
            else:
                t = int(period_start(latest.close_time + step - 1, tf))  # the first candle after that close
            close_ms = t + step
            now_ms = int(self.now() * 1000)
            if close_ms > now_ms:
                return None
            late = now_ms - close_ms > self.late * step
            try:
                outcome = self._close(record, latest, revision, t, close_ms, late)
            except StaleBook:
                continue  # the book changed (a resume, another close): read it again
            if outcome is None or outcome.status != "taken":
                return outcome
        return None

    def _close(self, record: StrategyRecord, latest, revision, t: int, close_ms: int,
               late: bool) -> CloseOutcome | None:
        config = record.config
        if record.status == "paused":  # the book stands still: no trade, no equity point, no event
            state = latest.state if latest else Engine(config).snapshot()
            written = self.store.record_close(record.id, record.version, close_ms, state, [], None, [],
                                              revision=revision)
            return CloseOutcome(record.id, close_ms, "paused" if written else "taken")
        symbols = self.symbols(record)
        held = sorted(set(latest.state.book.positions) - set(symbols)) if latest else []  # valued and sold too
        found = self.candles.bars(symbols + held, config.timeframe, t)
        missing = [s for s in symbols + held if s not in found.bars]
        forecasts: dict[str, LiveForecast] = {}
        if found.invented:
            reason = "the prices are invented (synthetic market): never traded"
        elif missing:
            reason = f"no {config.timeframe} candle closing at {iso(close_ms)} for {', '.join(missing)}"
        else:
            forecasts = self.feed.forecasts(config, symbols, t)
            missing = [s for s in symbols if s not in forecasts]
            reason = f"no forecast made at {iso(close_ms)} for {', '.join(missing)}" if missing else None
        if reason is not None and not late and not found.invented:
            return None  # within the tolerance: the next round looks again
        engine = Engine(config, latest.state if latest else None)
        if reason is not None:
            event = LimitEvent(time=close_ms, limit=STALE_DATA, symbols=missing,
                               detail=f"close skipped, nothing traded: {reason}")
            written = self.store.record_close(record.id, record.version, close_ms, engine.snapshot(), [], None,
                                              [event], revision=revision)
            if written:
                log.warning("strategy %s skipped the close at %s: %s", record.id, iso(close_ms), reason)
            return CloseOutcome(record.id, close_ms, "skipped" if written else "taken", reason=reason)
        step = engine.on_candle(t, {s: b.open for s, b in found.bars.items()},
                                {s: b.close for s, b in found.bars.items()},
                                {s: f.forecast for s, f in forecasts.items()})
        written = self.store.record_close(record.id, record.version, close_ms, engine.snapshot(), step.fills,
                                          step.point, step.events, revision=revision,
                                          forecasts=[forecasts[s].record() for s in sorted(forecasts)])
        return CloseOutcome(record.id, close_ms, "traded" if written else "taken", fills=len(step.fills),
                            events=[e.limit for e in step.events])
