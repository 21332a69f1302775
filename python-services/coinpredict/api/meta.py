"""The OpenAPI document (built from the validating schemas), a self-contained docs page, and
Prometheus metrics."""

from __future__ import annotations

import html
import os

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from .. import __version__
from . import schemas

bp = Blueprint("meta", __name__)

ROUTES = [
    ("get", "/health", "Liveness, model counts and data-source warnings", None, schemas.Health),
    ("get", "/models/list", "The 19 models with status, timeframes and skill", None, schemas.ModelList),
    ("get", "/models/{id}/status", "One model: training, validation and test metrics, serving figures",
     None, schemas.ModelStatus),
    ("post", "/models/reload", "Reload current model versions (X-API-Key when API_KEY is set)", None, None),
    ("post", "/predict/single", "One prediction", schemas.SingleRequest, schemas.Prediction),
    ("post", "/predict/batch", "Up to 500 predictions; one bad item does not fail the others",
     schemas.BatchRequest, schemas.BatchResponse),
    ("get", "/predict/top100", "The top coins ranked by probability_up", None, schemas.TopResponse),
]


def openapi_document() -> dict:
    components: dict = {}

    def ref(model) -> dict:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            components[name] = sub
        components[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    error = {"description": "error", "content": {"application/json": {"schema": ref(schemas.ErrorBody)}}}
    paths: dict = {}
    for method, path, summary, body, answer in ROUTES:
        op: dict = {"summary": summary, "responses": {
            "200": {"description": "success", **({"content": {"application/json": {"schema": ref(answer)}}}
                                                 if answer else {})},
            "400": error, "404": error, "503": error}}
        if body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
        if path == "/models/{id}/status":
            op["parameters"] = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
        if path == "/predict/top100":
            query = schemas.TopQuery.model_json_schema()["properties"]
            op["parameters"] = [{"name": k, "in": "query", "required": False, "schema": v} for k, v in query.items()]
        paths.setdefault(path, {})[method] = op
    return {"openapi": "3.1.0", "info": {"title": "Crypto direction prediction service", "version": __version__},
            "paths": paths, "components": {"schemas": components}}


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
            f"<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a></p>"
            f"<table>{''.join(rows)}</table></body></html>")
    return Response(page, mimetype="text/html")


@bp.get("/metrics")
def metrics():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # under gunicorn: every worker's figures
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = current_app.extensions["coinpredict.metrics"].registry
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
