"""Answers the worker writes itself, before or around the app, in the API's error shape.

gunicorn would answer these with an HTML page that echoes the client's input; here every one is
``{"error": {"code", "message"}}`` in the API's words, naming nothing on the server.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from gunicorn.http import errors as http_errors

# Exception type -> (status, code, message); the first match wins, so subclasses come first.
_CLIENT_ERRORS: list[tuple[type[Exception], int, str, str]] = [
    (http_errors.InvalidResponseHeader, 500, "internal_error", "internal error; it has been logged"),
    (http_errors.InvalidResponseHeaderName, 500, "internal_error", "internal error; it has been logged"),
    (http_errors.LimitRequestLine, 414, "uri_too_long", "the request line is too long"),
    (http_errors.LimitRequestHeaders, 431, "headers_too_large", "a request header or the request head is too large"),
    (http_errors.InvalidRequestLine, 400, "bad_request", "malformed request line"),
    (http_errors.InvalidRequestMethod, 400, "bad_request", "malformed request method"),
    (http_errors.InvalidHTTPVersion, 400, "bad_request", "unsupported HTTP version"),
    (http_errors.InvalidHeaderName, 400, "bad_request", "malformed header name"),
    (http_errors.InvalidHeader, 400, "bad_request", "malformed, repeated or conflicting header"),
    (http_errors.ObsoleteFolding, 400, "bad_request", "folded header lines are not accepted"),
    (http_errors.UnsupportedTransferCoding, 400, "bad_request", "the only transfer coding accepted is chunked"),
    (http_errors.InvalidChunkSize, 400, "bad_request", "malformed chunked body: invalid chunk size"),
    (http_errors.ChunkMissingTerminator, 400, "bad_request", "malformed chunked body: missing chunk terminator"),
    (http_errors.InvalidChunkExtension, 400, "bad_request", "malformed chunked body: invalid chunk extension"),
    (http_errors.ExpectationFailed, 417, "expectation_failed", "the only expectation accepted is 100-continue"),
    (http_errors.ForbiddenProxyRequest, 403, "forbidden", "proxy requests from this address are not accepted"),
    (http_errors.InvalidProxyLine, 400, "bad_request", "malformed PROXY protocol line"),
    (http_errors.InvalidProxyHeader, 400, "bad_request", "malformed PROXY protocol header"),
    (http_errors.InvalidSchemeHeaders, 400, "bad_request", "contradictory scheme headers"),
    (http_errors.InvalidH2CPreface, 400, "bad_request", "malformed HTTP/2 preface"),
    (http_errors.ConfigurationProblem, 500, "internal_error", "internal error; it has been logged"),
]


def classify(exc: BaseException) -> tuple[int, str, str] | None:
    """(status, code, message) for an error the client caused; None for one of the server's own."""
    for kind, status, code, message in _CLIENT_ERRORS:
        if isinstance(exc, kind):
            return None if status == 500 else (status, code, message)
    return None


def json_error(status: int, code: str, message: str, *, keep_alive: bool = False) -> bytes:
    """A complete HTTP/1.1 response carrying the API's error shape."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\nCache-Control: no-store\r\n\r\n")
    return head.encode("latin-1") + body


INTERNAL_ERROR = json_error(500, "internal_error", "internal error; it has been logged")
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
