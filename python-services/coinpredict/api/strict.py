"""Unknown body fields and query parameters are a 400 ``unknown_field``, never ignored: a misspelt
``timeframes`` or ``modle`` must not silently answer the default timeframe or model.

What is known comes from the schemas that validate and document each request (the body's pydantic
class, the query class of its ``openapi.Route``), so declaring a field there is all it takes to accept it.
"""

from __future__ import annotations

import difflib
import functools
import re
import types
import typing
from collections.abc import Iterable, Iterator

from flask import Flask, request
from pydantic import BaseModel

from ..errors import BadRequest

_RULE_PARAM = re.compile(r"<[^>]+>")
_DOC_PARAM = re.compile(r"\{[^}]+\}")


def unknown_field(name: str, known: Iterable[str], where: str = "", what: str = "field") -> BadRequest:
    """The 400 for one unknown name: the closest known one as a hint, else the list of known ones."""
    known = list(known)
    path = f"{where}.{name}" if where else name
    close = difflib.get_close_matches(name, known, n=1) or difflib.get_close_matches(name.lower(), known, n=1)
    if close:
        hint = f"; did you mean {close[0]!r}?"
    else:
        hint = f"; known: {', '.join(known)}" if known else f"; this endpoint takes no {what}s"
    return BadRequest(f"unknown {what} {path[:80]!r}{hint}", field=path[:80], code="unknown_field")


def known_names(model: type[BaseModel]) -> list[str]:
    """The names a request may use for ``model``'s fields (an alias where one is declared)."""
    return [f.alias or name for name, f in model.model_fields.items()]


def _nested_models(annotation) -> Iterator[type[BaseModel]]:
    """The request classes a field holds (itself, in a list, or in a union with None)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            yield from _nested_models(arg)


@functools.cache
def _shape(model: type[BaseModel]) -> tuple[list[str], list[tuple[str, str, type[BaseModel]]]]:
    """``model``'s known names and its fields holding one request class ((name, key in the body, class)):
    the same for every request, worked out once per class (a batch checks up to 500 items)."""
    nested = []
    for name, info in model.model_fields.items():
        held = list(_nested_models(info.annotation))
        if len(held) == 1:
            nested.append((name, info.alias or name, held[0]))
    return known_names(model), nested


def check_fields(model: type[BaseModel], data: object, where: str = "") -> None:
    """400 ``unknown_field`` for the first name in ``data`` (at any depth) that ``model`` does not declare."""
    if not isinstance(data, dict):
        return  # the type error is validation's to report
    known, nested = _shape(model)
    for key in data:
        if key not in known:
            raise unknown_field(str(key), known, where)
    for name, key, inner_model in nested:
        value = data.get(key)
        if value is None:
            continue
        inner = f"{where}.{name}" if where else name
        for i, item in enumerate(value) if isinstance(value, list) else [(None, value)]:
            check_fields(inner_model, item, inner if i is None else f"{inner}.{i}")


def route_shape(path: str) -> str:
    """A Flask rule (``/models/<model_id>/status``) or a document path (``/models/{id}/status``) with its
    parameters blanked (``/models/{}/status``), so the two can be matched whatever each names them."""
    return _DOC_PARAM.sub("{}", _RULE_PARAM.sub("{}", path))


def init_strict(app: Flask, queries: dict[tuple[str, str], type[BaseModel] | None]) -> None:
    """Refuse a query parameter the route's query class does not declare. ``queries`` maps (method,
    document path) to that class (None: the route takes no parameters); routes it does not name (the
    dashboard's pages) are left alone."""
    shapes = {(method, route_shape(path)): model for (method, path), model in queries.items()}

    @app.before_request
    def _known_query():
        rule = request.url_rule
        if rule is None or not request.args:
            return
        method = "get" if request.method == "HEAD" else request.method.lower()
        key = (method, route_shape(rule.rule))
        if key not in shapes:
            return
        model = shapes[key]
        known = known_names(model) if model is not None else []
        for name in request.args:
            if name not in known:
                raise unknown_field(name, known, what="query parameter")
