"""Request ids, JSON logs and Prometheus counters for every request."""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, g, has_request_context, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from pythonjsonlogger.json import JsonFormatter


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
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("http_requests_total", "HTTP requests", ["endpoint", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("http_request_seconds", "HTTP request latency", ["endpoint"],
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
                                 registry=self.registry)


def init_observability(app: Flask) -> None:
    metrics = Metrics()
    app.extensions["coinpredict.metrics"] = metrics
    access = logging.getLogger("coinpredict.access")

    @app.before_request
    def _start():
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex[:16]
        g.started = time.perf_counter()

    @app.after_request
    def _finish(resp):
        elapsed = time.perf_counter() - getattr(g, "started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.requests.labels(endpoint, request.method, str(resp.status_code)).inc()
        metrics.latency.labels(endpoint).observe(elapsed)
        resp.headers["X-Request-ID"] = getattr(g, "request_id", "")
        access.info("request", extra={"method": request.method, "path": request.path, "status": resp.status_code,
                                      "ms": round(elapsed * 1000, 2)})
        return resp
