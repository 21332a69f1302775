"""Per-app service state kept in ``app.extensions`` (never on module globals)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from flask import current_app

from ..config import Settings
from ..data.market import MarketData
from ..jobs import JobQueue
from ..ledger import LedgerStore, Recorder
from ..serving import ModelReloader, ModelStore, Predictor
from ..strategy.store import StrategyStore

KEY = "coinpredict"


@dataclass
class ServiceState:
    settings: Settings
    market: MarketData
    predictor: Predictor
    reloader: ModelReloader
    jobs: JobQueue
    ledger: LedgerStore
    recorder: Recorder
    strategies: StrategyStore
    started: float = field(default_factory=time.time)

    @property
    def store(self) -> ModelStore:
        """The models being served: the predictor's, so there is one current store."""
        return self.predictor.store


def state() -> ServiceState:
    return current_app.extensions[KEY]
