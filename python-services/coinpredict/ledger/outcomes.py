"""Scoring recorded forecasts once their outcome is known: the candle ``horizon`` steps after ``as_of``
has closed. The outcome is whether its close is above the close at ``as_of`` (the label the models
were trained on, ties are not up) and the return in basis points, both read from the same candles the
service serves from. A forecast whose outcome candle is missing from candles that go past it (a gap)
is closed with no outcome, so it is never looked at again and never counted."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from ..common import clock
from ..data.candles import Candles
from ..data.timeframes import TIMEFRAME_MS
from ..errors import ServiceError, SourceError
from .store import LedgerStore

log = logging.getLogger(__name__)
MAX_CANDLES = 5000

# (symbol, timeframe, last, end_ms) -> the last ``last`` closed candles opened before ``end_ms``
CandleReader = Callable[[str, str, int, int], Candles]


def score_due(ledger: LedgerStore, read_candles: CandleReader, *, now: float | None = None) -> dict:
    """Score every forecast whose outcome candle has closed by ``now`` (seconds); returns counts."""
    now_ms = int((clock.now() if now is None else now) * 1000)
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in ledger.unscored(now_ms=now_ms):
        groups[(row["symbol"], row["timeframe"])].append(row)
    scored = pending = 0
    for (symbol, tf), rows in groups.items():
        step = TIMEFRAME_MS[tf]
        due = [r for r in rows if r["as_of"] + (r["horizon"] + 1) * step <= now_ms]
        pending += len(rows) - len(due)
        if not due:
            continue
        first = min(r["as_of"] for r in due)
        end = max(r["as_of"] + r["horizon"] * step for r in due) + step
        try:
            candles = read_candles(symbol, tf, int(min(MAX_CANDLES, (end - first) // step + 1)), int(end))
        except (ServiceError, SourceError) as exc:
            log.warning("outcomes of %s %s not scored now: %s", symbol, tf, exc)
            pending += len(due)
            continue
        outcomes = outcomes_from(due, candles, step)
        ledger.score(outcomes, scored_at=now_ms / 1000)
        scored += len(outcomes)
        pending += len(due) - len(outcomes)
    return {"scored": scored, "pending": pending}


def outcomes_from(rows: list[dict], candles: Candles, step: int) -> list[dict]:
    """Outcomes of the rows these candles settle (the rest wait for candles that cover them)."""
    if not len(candles):
        return []
    index = {int(t): i for i, t in enumerate(candles.t)}
    newest = int(candles.t[-1])
    out = []
    for row in rows:
        target = row["as_of"] + row["horizon"] * step
        if target > newest:
            continue  # not in these candles yet
        i, j = index.get(row["as_of"]), index.get(target)
        if i is None or j is None:
            if row["as_of"] >= int(candles.t[0]):  # a gap inside the candles: no outcome, ever
                out.append({"id": row["id"], "outcome_up": None, "return_bps": None})
            continue
        before, after = float(candles.close[i]), float(candles.close[j])
        out.append({"id": row["id"], "outcome_up": bool(after > before),
                    "return_bps": float(np.round((after / before - 1.0) * 1e4, 4))})
    return out
