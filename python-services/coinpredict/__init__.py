"""Crypto direction prediction service: data, features, models, training, evaluation and HTTP API."""

from __future__ import annotations

__version__ = "0.1.0"


def create_app(config: dict | None = None):
    """Build the Flask application (imported lazily so offline tools never import Flask)."""
    from .api.app import create_app as _create_app

    return _create_app(config)
