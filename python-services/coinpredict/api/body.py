"""Request bodies: strict JSON (RFC 8259) in UTF-8 under ``application/json``, nested at most 64 deep.

The depth is measured on the raw bytes before parsing, so a deeply nested body is refused with a
400 before any recursive code (the parser, validation, error rendering) can run out of stack.
"""

from __future__ import annotations

import json
import re
from typing import TypeVar

import numpy as np
from flask import request
from pydantic import BaseModel

from ..errors import BadRequest, ServiceError
from .strict import check_fields

M = TypeVar("M", bound=BaseModel)
MAX_DEPTH = 64
MAX_INT_DIGITS = 30
# An unterminated string swallows the rest of the body (linear time; such a body is malformed anyway).
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_OPEN = np.frombuffer(b"[{", np.uint8)
_CLOSE = np.frombuffer(b"]}", np.uint8)


class UnsupportedMediaType(ServiceError):
    status, code = 415, "unsupported_media_type"


def nesting_depth(raw: bytes) -> int:
    """Deepest bracket nesting outside strings; an unterminated string hides the rest of the body."""
    arr = np.frombuffer(_STRING.sub(b'""', raw), np.uint8)
    if not len(arr):
        return 0
    steps = np.isin(arr, _OPEN).astype(np.int32) - np.isin(arr, _CLOSE).astype(np.int32)
    return int(np.cumsum(steps).max(initial=0))


def _constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits is too long (at most {MAX_INT_DIGITS})")
    return int(text)


def _number(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def check_content_type() -> None:
    """415 unless the body is declared as JSON; a charset, when given, must be UTF-8."""
    mimetype = request.mimetype
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if mimetype != "application/json" or charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType("the body must be JSON in UTF-8, sent as Content-Type: application/json",
                                   field="Content-Type")


def parse_json(raw: bytes) -> object:
    """Strict JSON in UTF-8, or a 400 that says in plain words what is wrong."""
    if not raw.strip():
        raise BadRequest("the request body is empty; send a JSON object", code="malformed_json")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not UTF-8 (byte {exc.start})", code="malformed_json") from None
    if text.startswith("\ufeff"):
        raise BadRequest("the body starts with a byte-order mark; send plain UTF-8", code="malformed_json")
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and nesting_depth(raw) > MAX_DEPTH:
        raise BadRequest(f"JSON nested deeper than {MAX_DEPTH} levels", code="malformed_json")
    try:
        return json.loads(text, parse_constant=_constant, parse_int=_integer, parse_float=_number)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg.lower()}",
                         code="malformed_json") from None
    except ValueError as exc:
        raise BadRequest(f"not strict JSON: {exc}", code="malformed_json") from None


def json_object() -> dict:
    """The request's body as a JSON object (reading it enforces MAX_CONTENT_LENGTH: 413)."""
    check_content_type()
    body = parse_json(request.get_data(cache=True))
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object", code="malformed_json")
    return body


def json_body(model: type[M]) -> M:
    """The request's body as ``model``; a field it does not declare is refused by name (unknown_field)."""
    body = json_object()
    check_fields(model, body)
    return model.model_validate(body)
