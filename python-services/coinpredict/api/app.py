"""The application factory: defaults, then the environment, then test overrides."""

from __future__ import annotations

import logging
import math
import os

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from .. import dashboard
from ..common import clock
from ..config import Settings
from ..data.market import MarketData
from ..data.universe import Universe
from ..jobs import JobQueue
from ..ledger import LedgerStore, Recorder
from ..serving import ModelReloader, ModelStore, Predictor, fingerprint
from ..strategy.store import StrategyStore
from . import candles, evaluation, health, history, jobs, meta, models, predictions, strategies, symbols, versions
from .cors import init_cors
from .errors import register_error_handlers
from .observability import configure_json_logging, init_observability
from .openapi import ROUTES
from .state import KEY, ServiceState
from .strict import init_strict

log = logging.getLogger(__name__)


def _finite(obj):
    """NaN and infinity are not JSON: they leave as null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


class StrictJSONProvider(DefaultJSONProvider):
    sort_keys = False

    def dumps(self, obj, **kwargs):
        """JSON with NaN and infinity as null. Answers almost never hold one, so the whole answer is only
        walked (``_finite``) when the strict encoder refuses it: a batch of 500 answers is not copied."""
        if kwargs.setdefault("allow_nan", False):
            return super().dumps(_finite(obj), **kwargs)
        try:
            return super().dumps(obj, **kwargs)
        except ValueError:
            return super().dumps(_finite(obj), **kwargs)


def create_app(config: dict | None = None) -> Flask:
    """``config`` may hold a ``settings`` object or Settings field overrides (tests)."""
    config = dict(config or {})
    settings = config.pop("settings", None) or Settings.from_env()
    for key in list(config):
        if hasattr(settings, key):
            setattr(settings, key, config.pop(key))
    app = Flask(__name__)
    app.json = StrictJSONProvider(app)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes, **config)
    if not app.testing:
        configure_json_logging(os.environ.get("LOG_LEVEL", "INFO"))
    market = MarketData(settings)
    seen = fingerprint(settings.models_dir)  # before loading: a change made while loading is picked up
    store = ModelStore(settings.models_dir).load_all()
    universe = Universe(None if settings.offline or settings.ohlcv_dir else settings.universe_url)
    predictor = Predictor(settings, market, store, universe)
    reloader = ModelReloader(predictor, settings.models_dir, settings.models_poll_s, seen)
    ledger = LedgerStore(settings.database_url)
    app.extensions[KEY] = ServiceState(settings, market, predictor, reloader, JobQueue(settings), ledger,
                                       Recorder(ledger), StrategyStore(settings.database_url, clock=clock.now))
    log.info("loaded models: %s from %s; data: %s", store.counts(), settings.models_dir, market.label)
    init_observability(app)
    register_error_handlers(app)
    for bp in (health.bp, models.bp, versions.bp, predictions.bp, symbols.bp, meta.bp, jobs.bp, history.bp, candles.bp,
               evaluation.bp, strategies.bp, dashboard.bp):
        app.register_blueprint(bp)
    init_cors(app, settings)
    init_strict(app, {(route.method, route.path): route.query for route in ROUTES})
    reloader.start()
    return app
