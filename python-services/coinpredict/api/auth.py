"""Who may change state: every management call (jobs, promote, delete, reload) needs the API_KEY
the service runs with, sent as X-API-Key; without API_KEY management is off."""

from __future__ import annotations

import hmac

from flask import request

from ..errors import Forbidden, Unauthorized
from .state import state


def key_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of bytes: a header decodes as Latin-1, so any byte compares (and fails)
    instead of raising on non-ASCII text."""
    return hmac.compare_digest(given.encode("latin-1", "replace"), expected.encode("utf-8"))


def require_management_key() -> None:
    """Management is off unless API_KEY is set (403); with it set, the right X-API-Key is needed (401)."""
    expected = state().settings.api_key
    if not expected:
        raise Forbidden("management is disabled: start the service with API_KEY set to enable it",
                        code="management_disabled")
    if not key_matches(request.headers.get("X-API-Key", ""), expected):
        raise Unauthorized("a valid X-API-Key header is required")
