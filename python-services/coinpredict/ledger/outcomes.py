"""Scoring recorded forecasts once their outcome is known: the candle ``horizon`` steps after ``as_of``
has closed. The outcome is whether its close is above the close at ``as_of`` (the label the models
were trained on, ties are not up) and the return in basis points, both read from the same candles the
service serves from. A forecast whose outcome candle is missing from candles that go past it (a gap)
is closed with no outcome, so it is never looked at again and never counted.

The relative target's outcome (``outcome_outperform``) is scored with it: whether the coin's log return over
the horizon beats the market's mean log return over the same candles, the market being every held coin
with a candle at ``as_of`` and one exactly ``horizon`` later (``features.market_context.forward_means``,
the rule the training labels follow: at least three coins, else no outcome)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from ..common import clock
from ..data.candles import Candles
from ..data.timeframes import TIMEFRAME_MS
from ..errors import ServiceError, SourceError
from ..features.market_context import forward_means
from .store import LedgerStore

log = logging.getLogger(__name__)
MAX_CANDLES = 5000

# (symbol, timeframe, last, end_ms) -> the last ``last`` closed candles opened before ``end_ms``
CandleReader = Callable[[str, str, int, int], Candles]
# (timeframe, last, end_ms) -> every held coin's last ``last`` closed candles opened before ``end_ms``
MarketReader = Callable[[str, int, int], list[Candles]]
Forward = dict[int, tuple[np.ndarray, np.ndarray]]


def score_due(ledger: LedgerStore, read_candles: CandleReader, *, now: float | None = None,
              read_market: MarketReader | None = None) -> dict:
    """Score every forecast whose outcome candle has closed by ``now`` (seconds); returns counts. With
    ``read_market``, forecasts with a ``probability_outperform`` get their relative outcome too (the
    market read once per timeframe)."""
    now_ms = int((clock.now() if now is None else now) * 1000)
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in ledger.unscored(now_ms=now_ms):
        groups[(row["symbol"], row["timeframe"])].append(row)
    markets = market_forward(groups, read_market, now_ms) if read_market is not None else {}
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
        outcomes = outcomes_from(due, candles, step, markets.get(tf))
        ledger.score(outcomes, scored_at=now_ms / 1000)
        scored += len(outcomes)
        pending += len(due) - len(outcomes)
    return {"scored": scored, "pending": pending}


def market_forward(groups: dict[tuple[str, str], list[dict]], read_market: MarketReader,
                   now_ms: int) -> dict[str, Forward]:
    """Per timeframe, the market's mean forward log return at each horizon the due relative forecasts
    need, from every held coin's candles over their span."""
    spans: dict[str, list[dict]] = defaultdict(list)
    for (_, tf), rows in groups.items():
        step = TIMEFRAME_MS[tf]
        spans[tf] += [r for r in rows if r.get("probability_outperform") is not None
                      and r["as_of"] + (r["horizon"] + 1) * step <= now_ms]
    out = {}
    for tf, rows in spans.items():
        if not rows:
            continue
        step = TIMEFRAME_MS[tf]
        first = min(r["as_of"] for r in rows)
        end = max(r["as_of"] + r["horizon"] * step for r in rows) + step
        try:
            series = read_market(tf, int(min(MAX_CANDLES, (end - first) // step + 1)), int(end))
        except (ServiceError, SourceError) as exc:
            log.warning("relative outcomes of %s not scored now: %s", tf, exc)
            continue
        out[tf] = forward_means(series, tf, tuple(sorted({int(r["horizon"]) for r in rows})))
    return out


def relative_outcome(row: dict, before: float, after: float, forward: Forward | None) -> bool | None:
    """Whether the coin's log return beat the market's mean over the same candles; None when the
    forecast had no relative probability or the market's mean is unknown."""
    if row.get("probability_outperform") is None or not forward or row["horizon"] not in forward:
        return None
    t, mean = forward[row["horizon"]]
    i = int(np.searchsorted(t, row["as_of"]))
    if i >= len(t) or int(t[i]) != row["as_of"] or not np.isfinite(mean[i]):
        return None
    return bool(np.log(after / before) > mean[i])


def outcomes_from(rows: list[dict], candles: Candles, step: int, forward: Forward | None = None) -> list[dict]:
    """Outcomes of the rows these candles settle (the rest wait for candles that cover them); the relative
    outcome from ``forward`` (``market_forward``) where given."""
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
                    "return_bps": float(np.round((after / before - 1.0) * 1e4, 4)),
                    "outcome_outperform": relative_outcome(row, before, after, forward)})
    return out
