"""A prediction request and the plan resolved for it."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.candles import Candles
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


@dataclass
class Plan:
    """What one request needs: the models it asks for (an ensemble's members, some maybe not ready),
    how many candles the most demanding of them needs, and the horizon it is about."""

    members: list[LoadedModel]
    need: int
    horizon: int = 1

    @property
    def ready(self) -> list[LoadedModel]:
        return [m for m in self.members if m.status == "ready"]

    @property
    def anchors(self) -> tuple[str, ...]:
        """The anchor symbols the ready models' market context reads, each once."""
        return tuple(dict.fromkeys(a for m in self.ready for a in m.feature_set.anchors))
