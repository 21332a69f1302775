"""A prediction request and the plan resolved for it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..common.times import iso
from ..data.candles import Candles
from ..data.timeframes import TIMEFRAME_MS, period_start
from ..errors import BadRequest
from ..models.registry import ENSEMBLE_ID
from .model_store import LoadedModel


@dataclass
class PredictRequest:
    symbol: str
    timeframe: str = "1h"
    model: str = ENSEMBLE_ID
    horizon: int | None = None
    candles: Candles | None = None  # the client's own candles; None: the market's
    method: str | None = None  # ensemble combination; None: the trained one
    as_of_ms: int | None = None  # open time of the last candle it may use (a past close); None: the newest closed

    def moment(self, now: float) -> float:
        return moment(self.as_of_ms, self.timeframe, now)


def moment(as_of_ms: int | None, timeframe: str, now: float) -> float:
    """When (clock seconds) a request reads the market: its as_of candle's close, else ``now``, the call's
    arrival. An as_of request is so answered exactly as one that arrived at that close."""
    return now if as_of_ms is None else (as_of_ms + TIMEFRAME_MS[timeframe]) / 1000


def check_as_of(as_of_ms: int | None, timeframe: str, now: float, field: str = "as_of") -> None:
    """400 unless ``as_of_ms`` is the open time of a ``timeframe`` candle that has closed by ``now`` (the
    market clock): a past close can be replayed, a future one cannot be known."""
    if as_of_ms is None:
        return
    opens = int(period_start(as_of_ms, timeframe))
    if opens != as_of_ms:
        raise BadRequest(f"as_of must be the open time of a {timeframe} candle: {iso(as_of_ms)} is inside the "
                         f"one opening at {iso(opens)}", field=field, code="invalid_as_of")
    closes = as_of_ms + TIMEFRAME_MS[timeframe]
    if closes > now * 1000:
        raise BadRequest(f"the {timeframe} candle opening at {iso(as_of_ms)} closes at {iso(closes)}, after the "
                         f"market clock's now ({iso(int(now * 1000))}): only a closed candle can be asked about",
                         field=field, code="as_of_not_closed",
                         details={"market_time": iso(int(now * 1000)),
                                  "newest_closed": iso(int(period_start(int(now * 1000), timeframe))
                                                       - TIMEFRAME_MS[timeframe])})


@dataclass
class Plan:
    """What one request needs: the models it asks for (an ensemble's members, some maybe not ready),
    how many candles the most demanding of them needs, and the horizon it is about. Requests of a call
    asking the same thing share one plan, so what is derived from it is worked out once (never changed
    after it is made)."""

    members: list[LoadedModel]
    need: int
    horizon: int = 1

    @cached_property
    def ready(self) -> list[LoadedModel]:
        return [m for m in self.members if m.status == "ready"]

    @cached_property
    def anchors(self) -> tuple[str, ...]:
        """The anchor symbols the ready models' market context reads, each once."""
        return tuple(dict.fromkeys(a for m in self.ready for a in m.feature_set.anchors))

    @cached_property
    def reads_market(self) -> bool:
        """Whether any ready model reads the cross-sectional market (``mkt_*``)."""
        return any(m.feature_set.reads_market for m in self.ready)

    @cached_property
    def reads_optional(self) -> bool:
        """Whether any ready model reads an optional input (order flow): its answers then say what they had."""
        return any(m.feature_set.optional.any() for m in self.ready)
