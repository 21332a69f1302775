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
    """What one request needs: the models it asks for (an ensemble's members, some maybe not ready)
    and how many candles the most demanding of them needs."""

    members: list[LoadedModel]
    need: int

    @property
    def ready(self) -> list[LoadedModel]:
        return [m for m in self.members if m.status == "ready"]

    @property
    def horizon(self) -> int:
        return self.members[0].manifest.get("horizon", 1) if self.members else 1
