"""Recording answered predictions off the request path: a request only puts its rows on an in-memory
queue; a thread writes them in batches (every ``flush_s`` or ``batch`` rows), so the ledger costs a
request microseconds, not a database write. Rows beyond the queue's capacity are dropped and counted
(a database outage must not grow memory without bound)."""

from __future__ import annotations

import logging
import threading
from collections import deque

from ..common import clock
from ..common.signals import signal_for
from ..common.times import to_ms
from ..models.move import QUANTILE_NAMES
from .store import LedgerStore

log = logging.getLogger(__name__)


def rows_of(answer: dict, member_versions: dict[str, str | None] | None = None, now: float | None = None) -> list[dict]:
    """Ledger rows of one answer: the prediction, and for the ensemble each member's own forecast (its
    signal by the same fee-aware rule). Answers from candles a client sent are not recorded: their
    outcome cannot be checked against the market."""
    if answer.get("data_source") == "request" or answer.get("model_version") is None:
        return []
    now = clock.now() if now is None else now
    base = {"symbol": answer["symbol"], "timeframe": answer["timeframe"], "horizon": int(answer["horizon"]),
            "as_of": to_ms(answer["as_of"]), "recorded_at": now}
    if answer.get("expected_move_bps") is not None:  # what the signal (and each member's) was computed from
        base["expected_move_bps"] = float(answer["expected_move_bps"])
        base["move_version"] = (answer.get("move") or {}).get("model_version")
    rows = [{**base, "model": answer["model"], "model_version": answer["model_version"],
             "probability_up": float(answer["probability_up"]), "signal": answer["signal"],
             "probability_outperform": _float_or_none(answer.get("probability_outperform")), **_move_of(answer)}]
    for member, p in (answer.get("members") or {}).items():
        version = (member_versions or {}).get(member)
        if version:
            signal, _ = signal_for(float(p), float(answer["expected_move_bps"]), float(answer["cost_bps"]))
            rows.append({**base, "model": member, "model_version": version, "probability_up": float(p),
                         "signal": signal})
    return rows


def _float_or_none(value) -> float | None:
    return None if value is None else float(value)


def _move_of(answer: dict) -> dict:
    """The answer's move quantiles (bps) and their source, as ledger columns; none when it has no move."""
    move = answer.get("move") or {}
    quantiles = move.get("quantiles_bps") or {}
    if not quantiles:
        return {}
    return {"move_source": move.get("source"),
            **{f"{name}_bps": float(quantiles[name]) for name in QUANTILE_NAMES if quantiles.get(name) is not None}}


class Recorder:
    def __init__(self, store: LedgerStore, *, flush_s: float = 0.5, batch: int = 2000, capacity: int = 200_000):
        self.store = store
        self.flush_s, self.batch, self.capacity = flush_s, batch, capacity
        # One entry per record() call (a batch of 500 ensemble answers is 10,000 rows): a request takes one
        # lock once, not once per row as a queue.Queue of rows did. ``_rows`` counts what the entries hold.
        self._pending: deque[list[dict]] = deque()
        self._rows = 0
        self._lock = threading.Lock()
        self.dropped = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def record(self, rows: list[dict]) -> None:
        """Queue ``rows``; those beyond ``capacity`` rows waiting are dropped and counted."""
        if not rows:
            return
        if self._thread is None:
            self._start()
        with self._lock:
            room = max(self.capacity - self._rows, 0)
            taken = rows if len(rows) <= room else rows[:room]
            if taken:
                self._pending.append(taken)
                self._rows += len(taken)
            self.dropped += len(rows) - len(taken)

    def flush(self) -> int:
        """Write what is queued now, about ``batch`` rows (whole record() calls); the thread does this on its
        own; tests and shutdown call it."""
        rows: list[dict] = []
        with self._lock:
            while self._pending and len(rows) < self.batch:
                rows += self._pending.popleft()
            self._rows -= len(rows)
        if rows:
            try:
                self.store.append(rows)
            except Exception:  # noqa: BLE001 - a database hiccup loses this batch, never a request
                self.dropped += len(rows)
                log.exception("ledger: %d predictions could not be written", len(rows))
        return len(rows)

    def drain(self) -> None:
        while self.flush():
            pass

    def _start(self) -> None:
        """The writer thread starts with the first rows (an app that never predicts runs none)."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_s):
            self.drain()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.drain()
