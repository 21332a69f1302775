"""Per-app service state kept in ``app.extensions`` (never on module globals)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from flask import current_app

from ..config import Settings
from ..data.market import MarketData
from ..serving import ModelStore, Predictor

KEY = "coinpredict"


@dataclass
class ServiceState:
    settings: Settings
    market: MarketData
    store: ModelStore
    predictor: Predictor
    started: float = field(default_factory=time.time)


def state() -> ServiceState:
    return current_app.extensions[KEY]
