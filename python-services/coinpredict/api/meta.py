"""The OpenAPI document (built from the validating schemas), a self-contained docs page, and
Prometheus metrics."""

from __future__ import annotations

import html

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .observability import scrape_registry
from .openapi import openapi_document
from .state import state

bp = Blueprint("meta", __name__)


@bp.get("/openapi.json")
def openapi():
    return openapi_document()


@bp.get("/docs")
def docs():
    doc = openapi_document()
    rows = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            rows.append(f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                        f"<td>{html.escape(op['summary'])}</td></tr>")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>API docs</title>"
            f"<style>body{{font-family:sans-serif;margin:2em}}td{{padding:4px 12px}}</style></head><body>"
            f"<h1>{html.escape(doc['info']['title'])} {html.escape(doc['info']['version'])}</h1>"
            f"<p><a href='/' id='dashboard'>&larr; Dashboard</a> · "
            f"Machine-readable: <a href='/openapi.json'>/openapi.json</a></p>"
            f"<table>{''.join(rows)}</table></body></html>")
    return Response(page, mimetype="text/html")


@bp.get("/metrics")
def metrics():
    registry = scrape_registry(current_app, state())
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)  # its charset once
