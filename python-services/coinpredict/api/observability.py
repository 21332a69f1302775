"""Request ids, JSON logs, and every Prometheus metric of the service, declared here once.

Under gunicorn (``PROMETHEUS_MULTIPROC_DIR``) counters and histograms live in files every worker
writes, so whichever worker answers a scrape reports all of them. Figures that describe state (models
ready, versions served, how old the newest candle is) are computed by the answering worker at scrape
time. Labels stay low-cardinality: model id, timeframe, endpoint, status; never a symbol.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import time
import uuid
from datetime import datetime

from flask import Flask, current_app, g, has_request_context, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from pythonjsonlogger.json import JsonFormatter

from ..common.clock import now as clock_now
from ..data.timeframes import TIMEFRAME_MS, TIMEFRAMES
from ..errors import ServiceError
from ..models.registry import ENSEMBLE_ID, MODEL_IDS

KEY = "coinpredict.metrics"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
NEWEST_CLOSE = "coinpredict_newest_candle_close_timestamp_seconds"
_KNOWN_MODELS = frozenset((*MODEL_IDS, ENSEMBLE_ID))
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")  # the codes of errors.py and API.md: a small, fixed set


_WORKER_IDS: dict[int, str] = {}


def worker_id() -> str:
    """An opaque name of the process answering (random, never its pid), sent as ``X-Worker-Id``: which
    gunicorn worker answered, when answers differ."""
    return _WORKER_IDS.setdefault(os.getpid(), uuid.uuid4().hex[:8])


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(g, "request_id", None) if has_request_context() else None
        return True


def configure_json_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(getattr(h, "_coinpredict", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"))
    handler.addFilter(RequestIdFilter())
    handler._coinpredict = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


class Metrics:
    """The metric families a worker writes as it answers."""

    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("http_requests_total", "HTTP requests", ["endpoint", "method", "status"], registry=r)
        self.latency = Histogram("http_request_seconds", "HTTP request latency", ["endpoint"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.predictions = Counter("coinpredict_prediction_requests_total", "Predictions asked of a model",
                                   ["model", "timeframe"], registry=r)
        self.prediction_errors = Counter("coinpredict_prediction_errors_total",
                                         "Predictions the service failed to give: a model that failed, a "
                                         "model or data source not available (5xx). Requests refused for what "
                                         "they asked are counted in coinpredict_prediction_refusals_total",
                                         ["model", "timeframe"], registry=r)
        self.prediction_refusals = Counter("coinpredict_prediction_refusals_total",
                                           "Predictions refused for what the request asked (an unknown symbol, "
                                           "an untrained timeframe or horizon: 4xx) or asked before they could "
                                           "be given (no model trained yet, too little history), by error code; "
                                           "not service errors",
                                           ["model", "timeframe", "code"], registry=r)
        self.prediction_latency = Histogram("coinpredict_prediction_seconds",
                                            "Time the serving core took per answered prediction "
                                            "(a batch's items share the batch's time)",
                                            ["model", "timeframe"], buckets=LATENCY_BUCKETS, registry=r)
        self.newest_close = Gauge(NEWEST_CLOSE, "Close time of the newest candle any answer used",
                                  ["timeframe"], multiprocess_mode="max", registry=r)
        self._newest: dict[str, float] = {}

    def saw_candle(self, timeframe: str, close_s: float) -> None:
        if close_s > self._newest.get(timeframe, 0.0):
            self._newest[timeframe] = close_s
            self.newest_close.labels(timeframe).set(close_s)


def _close_time_s(answer: dict) -> float | None:
    try:
        opened = datetime.fromisoformat(answer["as_of"].replace("Z", "+00:00")).timestamp()
    except (KeyError, ValueError, AttributeError):
        return None
    return opened + TIMEFRAME_MS[answer["timeframe"]] / 1000


def observe_predictions(reqs: list | None, results: list) -> None:
    """Count each prediction the serving core was asked for, by model and timeframe."""
    metrics: Metrics = current_app.extensions[KEY]
    for i, result in enumerate(results):
        req = reqs[i] if reqs is not None else None
        model = req.model if req is not None else result.get("model")
        timeframe = req.timeframe if req is not None else result.get("timeframe")
        model = model if model in _KNOWN_MODELS else "unknown"
        timeframe = timeframe if timeframe in TIMEFRAMES else "unknown"
        metrics.predictions.labels(model, timeframe).inc()
        if isinstance(result, ServiceError):
            if result.fault:
                metrics.prediction_errors.labels(model, timeframe).inc()
            else:
                code = result.code if _ERROR_CODE.match(result.code) else "other"
                metrics.prediction_refusals.labels(model, timeframe, code).inc()
            continue
        metrics.prediction_latency.labels(model, timeframe).observe(result.get("latency_ms", 0.0) / 1000)
        if result.get("data_source") != "request":
            close = _close_time_s(result)
            if close is not None:
                metrics.saw_candle(timeframe, close)


class _Collected:
    """Families already read (from every worker's files), handed to a scrape registry."""

    def __init__(self, families: list):
        self.families = families

    def collect(self):
        return self.families


class StateCollector:
    """Models ready and failed, versions served and the newest candle's age, computed at scrape time."""

    def __init__(self, service, newest_close: dict[str, float], clock=clock_now):
        self.service = service
        self.newest_close = newest_close
        self.clock = clock

    def collect(self):
        store = self.service.store
        models = GaugeMetricFamily("coinpredict_models", "Single models by load status, per timeframe",
                                   labels=["timeframe", "status"])
        versions = InfoMetricFamily("coinpredict_model_version", "Version served by each ready model",
                                    labels=["model", "timeframe"])
        for tf in store.timeframes:
            entries = [store.get(tf, m) for m in MODEL_IDS]
            for status in ("ready", "failed", "not_trained"):
                models.add_metric([tf, status], sum(e.status == status for e in entries))
            for e in entries:
                if e.status == "ready" and e.version:
                    versions.add_metric([e.model_id, tf], {"version": e.version})
            if tf in store.ensembles:
                versions.add_metric([ENSEMBLE_ID, tf], {"version": str(store.ensembles[tf][1].version)})
        age = GaugeMetricFamily("coinpredict_newest_candle_age_seconds",
                                "Seconds since the newest candle any answer used closed", labels=["timeframe"])
        now = self.clock()
        for tf, close in sorted(self.newest_close.items()):
            age.add_metric([tf], max(0.0, now - close))
        return [models, versions, age]


def collected_families(app: Flask) -> list:
    """Every worker's counters and histograms (multiprocess mode), or this process's."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        return list(multiprocess.MultiProcessCollector.merge(written_metric_files(folder), accumulate=True))
    return list(app.extensions[KEY].registry.collect())


def written_metric_files(folder: str) -> list[str]:
    """The workers' metric files, less any a worker is creating at this instant. prometheus_client opens
    a new file empty and sizes it a moment later; reading it in between raises ``struct.error``, which
    made a /metrics scrape or a /models/<id>/status answer a 500 whenever another worker took its first
    request (or first prediction) at that moment. An empty file holds no figure yet: leaving it out loses
    nothing, and once sized it is read (a header still zero reads as no figures)."""
    files = []
    for path in sorted(glob.glob(os.path.join(folder, "*.db"))):
        try:
            if os.path.getsize(path) > 0:
                files.append(path)
        except OSError:  # gone since the listing (a dead worker's live gauge): nothing to read
            continue
    return files


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """The q-quantile of a histogram from its cumulative buckets [(upper bound, count)], as Prometheus'
    histogram_quantile estimates it: linear within the bucket the rank falls in (from 0 for the first),
    the largest finite bound when it falls in the +Inf bucket; None when it counted nothing."""
    buckets = sorted(buckets)
    total = buckets[-1][1] if buckets else 0
    if total <= 0:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for upper, cumulative in buckets:
        if cumulative >= rank:
            if upper == float("inf"):
                return lower
            share = (rank - below) / (cumulative - below) if cumulative > below else 1.0
            return lower + (upper - lower) * share
        lower, below = upper, cumulative
    return lower


def serving_figures(app: Flask, model_id: str) -> dict:
    """Requests, errors (the service's own failures), refusals (client mistakes) and latency percentiles
    of one model over every timeframe, summed over every worker (the same whichever worker answers);
    percentiles are estimated from the latency histogram's buckets (``bucket_quantile``)."""
    requests_n = errors_n = refused_n = 0.0
    buckets: dict[float, float] = {}
    for family in collected_families(app):
        for sample in family.samples:
            if sample.labels.get("model") != model_id:
                continue
            if sample.name == "coinpredict_prediction_requests_total":
                requests_n += sample.value
            elif sample.name == "coinpredict_prediction_errors_total":
                errors_n += sample.value
            elif sample.name == "coinpredict_prediction_refusals_total":
                refused_n += sample.value
            elif sample.name == "coinpredict_prediction_seconds_bucket":
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    p50, p95 = (bucket_quantile(q, list(buckets.items())) for q in (0.5, 0.95))
    return {"requests": int(requests_n), "errors": int(errors_n), "refused": int(refused_n),
            "p50_ms": round(p50 * 1000, 2) if p50 is not None else None,
            "p95_ms": round(p95 * 1000, 2) if p95 is not None else None}


def scrape_registry(app: Flask, service) -> CollectorRegistry:
    """Every worker's figures (multiprocess mode) or this process's, plus the state-derived ones."""
    families = collected_families(app)
    newest = {s.labels["timeframe"]: s.value for f in families if f.name == NEWEST_CLOSE for s in f.samples}
    registry = CollectorRegistry()
    registry.register(_Collected(families))
    registry.register(StateCollector(service, newest))
    return registry


def init_observability(app: Flask) -> None:
    metrics = Metrics()
    app.extensions[KEY] = metrics
    access = logging.getLogger("coinpredict.access")

    @app.before_request
    def _start():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex[:16]
        g.started = time.perf_counter()

    @app.after_request
    def _finish(resp):
        elapsed = time.perf_counter() - getattr(g, "started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        method = request.method if request.method in _METHODS else "other"
        metrics.requests.labels(endpoint, method, str(resp.status_code)).inc()
        metrics.latency.labels(endpoint).observe(elapsed)
        resp.headers["X-Request-ID"] = getattr(g, "request_id", "")
        resp.headers["X-Worker-Id"] = worker_id()
        access.info("request", extra={"method": request.method, "path": request.path, "status": resp.status_code,
                                      "ms": round(elapsed * 1000, 2)})
        return resp
