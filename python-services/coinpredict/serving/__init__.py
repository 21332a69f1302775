"""Prediction without Flask, in small parts: ``resolve`` (what a request needs), ``gather`` (candles),
``features`` (cached feature rows), ``scoring`` (one forward pass per model over every row),
``answers`` (the response body), ``ranking`` (top-N), ``stats``; ``Predictor`` wires them, and
``ModelReloader`` keeps its models in step with MODELS_DIR."""

from .model_store import LoadedModel, ModelStore
from .predictor import Predictor
from .reloader import ModelReloader, ReloadReport, announce_reload, fingerprint
from .requests import Plan, PredictRequest

__all__ = ["LoadedModel", "ModelReloader", "ModelStore", "Plan", "PredictRequest", "Predictor", "ReloadReport",
           "announce_reload", "fingerprint"]
