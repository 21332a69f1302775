"""Every error leaves as ``{"error": {"code", "message", "field"?}}``, never HTML or a trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from ..errors import BadRequest, ServiceError
from .answers import redact_error

log = logging.getLogger(__name__)
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
              415: "unsupported_media_type", 429: "too_many_requests"}


def error_response(exc: ServiceError):
    resp = jsonify(redact_error(exc))
    resp.status_code = exc.status
    if exc.retry_after:
        resp.headers["Retry-After"] = str(exc.retry_after)
    return resp


def validation_error(exc: ValidationError, prefix: str = "") -> BadRequest:
    """The first problem as a 400; an unknown field comes first (its misspelling often explains the rest)."""
    errors = exc.errors()
    first = next((e for e in errors if e.get("type") == "extra_forbidden"), errors[0])
    field = ".".join(str(p) for p in first.get("loc", ()) if p != "__root__") or None
    if first.get("type") == "extra_forbidden":
        return BadRequest(f"{prefix}unknown field {field!r}", field=field, code="unknown_field")
    message = first.get("msg", "invalid value").removeprefix("Value error, ")
    return BadRequest(f"{prefix}{field + ': ' if field else ''}{message}", field=field, code="invalid_value")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service(exc: ServiceError):
        return error_response(exc)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        return error_response(validation_error(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = HTTP_CODES.get(exc.code or 500, "http_error")
        message = exc.description or exc.name
        if exc.code == 404:
            message = "no such route"
        resp = jsonify({"error": {"code": code, "message": message}})
        resp.status_code = exc.code or 500
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        resp = jsonify({"error": {"code": "internal_error", "message": "internal error; it has been logged"}})
        resp.status_code = 500
        return resp
