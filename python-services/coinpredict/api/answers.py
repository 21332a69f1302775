"""What leaves the service: answers checked against their schema, and text with no server path.

Messages built deep inside (a loader's exception, a source's error) may name files; the answer
says which configured folder instead (``MODELS_DIR/1h/...``), and the log keeps the full text.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from flask import current_app
from pydantic import BaseModel, ValidationError

from ..config import REPO_ROOT, Settings
from ..errors import ServiceError

log = logging.getLogger(__name__)
_PATHS_KEY = "coinpredict.server_paths"


class AnswerDrift(ServiceError):
    """An answer that its own schema refuses: a bug, reported as one (500)."""


def _forms(path: Path | None) -> list[str]:
    if path is None:
        return []
    forms = {str(path), str(Path(path).expanduser().resolve())}
    return [f.rstrip("/") for f in forms if len(f.rstrip("/")) > 1]


def server_paths(settings: Settings) -> list[tuple[str, str]]:
    """(path, what to say instead), longest first so a folder inside another is named by its role."""
    named = [(settings.models_dir, "MODELS_DIR"), (settings.ohlcv_dir, "OHLCV_DIR"),
             (settings.store_path, "STORE_PATH"), (Path(settings.store_path).parent, "the store's folder"),
             (REPO_ROOT, "the service's folder"), (Path(tempfile.gettempdir()), "a temporary folder"),
             (Path.home(), "the home folder")]
    pairs = [(form, name) for path, name in named for form in _forms(path)]
    return sorted(set(pairs), key=lambda p: len(p[0]), reverse=True)


def redact(text: str | None) -> str | None:
    """``text`` without any configured server folder in it."""
    if not text or "/" not in text:
        return text
    app = current_app
    pairs = app.extensions.get(_PATHS_KEY)
    if pairs is None:
        pairs = app.extensions[_PATHS_KEY] = server_paths(app.extensions["coinpredict"].settings)
    for path, name in pairs:
        if path in text:
            text = text.replace(path, name)
    return text


def redact_error(exc: ServiceError) -> dict:
    body = exc.to_dict()
    error = body["error"]
    error["message"] = redact(error["message"])
    if isinstance(error.get("failed_members"), dict):
        error["failed_members"] = {k: redact(v) for k, v in error["failed_members"].items()}
    return body


def redact_prediction(answer: dict) -> dict:
    for key in ("stale_reason", "warning"):
        if answer.get(key):
            answer[key] = redact(answer[key])
    if answer.get("failed_members"):
        answer["failed_members"] = {k: redact(v) for k, v in answer["failed_members"].items()}
    return answer


def checked(schema: type[BaseModel], answer: dict) -> dict:
    """``answer`` as it is, once its schema accepts it; a refusal is a bug (500, logged)."""
    try:
        schema.model_validate(answer)
    except ValidationError as exc:
        log.error("answer does not match %s: %s", schema.__name__, exc)
        raise AnswerDrift(f"the answer did not match its published schema ({schema.__name__}); it has been "
                          f"logged") from None
    return answer
