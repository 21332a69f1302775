"""WSGI entry point for gunicorn (see Procfile)."""

from coinpredict import create_app

app = create_app()
