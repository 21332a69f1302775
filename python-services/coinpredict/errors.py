"""One error hierarchy: each class carries its HTTP status and a stable code (API.md, Errors)."""

from __future__ import annotations


class ServiceError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 retry_after: int | None = None, details: dict | None = None, fault: bool | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.retry_after = retry_after
        self.details = details or {}
        self._fault = fault

    @property
    def fault(self) -> bool:
        """Whether the service itself failed (a model that broke, a source that is down, a bug): what an
        error rate counts. A request refused for what it asked (4xx), or asked before anything could answer
        it (no model trained yet, a coin with too little history), is not."""
        return self.status >= 500 if self._fault is None else self._fault

    def to_dict(self) -> dict:
        body: dict = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.details)
        return {"error": body}


class BadRequest(ServiceError):
    status, code = 400, "bad_request"


class NotFound(ServiceError):
    status, code = 404, "not_found"


class Conflict(ServiceError):
    """The request is valid but the resource's state refuses it (deleting the version being served)."""

    status, code = 409, "conflict"


class Unavailable(ServiceError):
    status, code = 503, "unavailable"


class DataError(ValueError):
    """Market data that cannot be used (wrong columns, unreadable file, bad rows)."""


class SourceError(RuntimeError):
    """A candle source could not answer (network down, bad response). ``public`` is what an answer may
    say about it; the message, with URLs and library detail, is for the log."""

    def __init__(self, message: str, *, public: str | None = None):
        super().__init__(message)
        self.public = public


class ArtifactError(RuntimeError):
    """A saved model that cannot be loaded: missing, corrupt or mismatched. The message names the
    full path (for logs); ``public`` says the same without server paths or library texts (for clients)."""

    def __init__(self, message: str, *, file: str | None = None, problem: str | None = None):
        super().__init__(message)
        self.file = file
        self.problem = problem

    @property
    def public(self) -> str:
        problem = self.problem or "unreadable artifact"
        return f"{self.file}: {problem}" if self.file else problem


class UnknownSeries(LookupError):
    """A source that is up says it has no such symbol or timeframe."""


class Unauthorized(ServiceError):
    status, code = 401, "unauthorized"


class Forbidden(ServiceError):
    status, code = 403, "forbidden"


class TooManyRequests(ServiceError):
    status, code = 429, "too_many_requests"
