"""The OpenAPI document and Flask's url_map describe the same API: a route added to one and not the
other fails here, so the hand-kept route table cannot drift from the views."""

from __future__ import annotations

import re

from coinpredict.api.openapi import ROUTES, openapi_document
from coinpredict.api.strict import route_shape

# Flask's own routes and the dashboard's pages (HTML for people, not part of the JSON API).
NOT_API = re.compile(r"^/(static/|ui(/|$)|$)")


def flask_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every API rule, its parameters written ``{}`` (their names differ by side)."""
    found = set()
    for rule in app.url_map.iter_rules():
        path = route_shape(rule.rule)
        if NOT_API.match(path):
            continue
        found |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_the_openapi_document_and_the_url_map_list_the_same_routes_and_methods(app):
    documented = {(method, route_shape(path)) for path, ops in openapi_document()["paths"].items()
                  for method in ops}
    served = flask_routes(app)
    assert served - documented == set(), "served but not in the OpenAPI document"
    assert documented - served == set(), "in the OpenAPI document but not served"


def test_every_route_is_documented_once():
    keys = [(r.method, r.path) for r in ROUTES]
    assert len(keys) == len(set(keys))
