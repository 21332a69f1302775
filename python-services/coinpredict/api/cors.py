"""Cross-origin policy: prediction and read endpoints answer any origin CORS_ORIGINS allows (``*`` by
default); management endpoints (every state-changing route outside ``/predict``) answer a cross-origin
request, preflight included, only from an origin CORS_ORIGINS names explicitly, and refuse the rest
with a 403 before they run."""

from __future__ import annotations

import re

from flask import Flask, request
from flask_cors import CORS

from ..config import Settings
from ..errors import Forbidden

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OPEN_BLUEPRINTS = ("predictions.",)


def management_patterns(app: Flask) -> list[str]:
    """A regex per management route, from the URL map (a new state-changing route is covered the day it
    is added)."""
    patterns = []
    for rule in app.url_map.iter_rules():
        if rule.methods & STATE_CHANGING and not rule.endpoint.startswith(OPEN_BLUEPRINTS):
            parts = re.split(r"<[^>]+>", rule.rule)
            patterns.append("^" + "[^/]+".join(re.escape(p) for p in parts) + "$")
    return sorted(set(patterns))


def init_cors(app: Flask, settings: Settings) -> None:
    """Call after every blueprint is registered."""
    named = [o for o in settings.cors_origins if o != "*"]
    managed = [re.compile(p) for p in management_patterns(app)]
    resources = {p.pattern: {"origins": named, "allow_headers": ["Content-Type", "X-API-Key"]} for p in managed}
    resources[r"/*"] = {"origins": settings.cors_origins}
    CORS(app, resources=resources)

    @app.before_request
    def _refuse_foreign_management():
        origin = request.headers.get("Origin")
        if not origin or origin in named or origin == request.host_url.rstrip("/"):
            return
        if any(p.match(request.path) for p in managed):
            raise Forbidden(f"management endpoints do not answer cross-origin requests from {origin[:100]!r} "
                            f"(CORS_ORIGINS does not name it)", code="cross_origin_refused")
