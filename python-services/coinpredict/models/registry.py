"""The 19 model ids of API.md as data: id -> family, architecture and parameters.
A new variant is one entry here; a new architecture is one module under ``models/``."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ..errors import NotFound
from .base import PredictionModel


@dataclass(frozen=True)
class ModelSpec:
    family: str
    kind: str  # "neural" | "boosting"
    params: dict = field(default_factory=dict)


def _rnn(cell: str, **kw) -> ModelSpec:
    return ModelSpec(cell, "neural", {"arch": "recurrent", "cell": cell, "hidden": 48, "layers": 2, **kw})


def _cnn(style: str, **kw) -> ModelSpec:
    return ModelSpec("cnn", "neural", {"arch": "conv", "style": style, "channels": 32, **kw})


MODEL_SPECS: dict[str, ModelSpec] = {
    "lstm_standard": _rnn("lstm"),
    "lstm_bidirectional": _rnn("lstm", bidirectional=True, hidden=32),
    "lstm_stacked": _rnn("lstm", layers=3, hidden=40, dropout=0.2),
    "gru_standard": _rnn("gru"),
    "gru_bidirectional": _rnn("gru", bidirectional=True, hidden=32),
    "gru_stacked": _rnn("gru", layers=3, hidden=40, dropout=0.2),
    "gru_attention": _rnn("gru", layers=1, pooling="attention"),
    "gru_residual": _rnn("gru", layers=3, hidden=24, residual=True),
    "transformer_standard": ModelSpec("transformer", "neural", {"arch": "transformer", "d_model": 32, "layers": 2}),
    "transformer_timeseries": ModelSpec("transformer", "neural",
                                        {"arch": "transformer", "d_model": 32, "layers": 2, "causal": True}),
    "transformer_informer": ModelSpec("transformer", "neural",
                                      {"arch": "informer", "d_model": 32, "layers": 3, "factor": 3}),
    "cnn_standard": _cnn("standard", blocks=2, kernel=5),
    "cnn_resnet": _cnn("resnet", blocks=3),
    "cnn_multiscale": _cnn("multiscale", blocks=2, kernels=[3, 5, 9]),
    "cnn_dilated": _cnn("dilated", blocks=4),
    "cnn_tcn": _cnn("tcn", blocks=5),
    "xgboost": ModelSpec("boosting", "boosting", {"library": "xgboost", "max_depth": 4, "eta": 0.03,
                                                  "subsample": 0.7, "colsample_bytree": 0.6,
                                                  "min_child_weight": 200}),
    "lightgbm": ModelSpec("boosting", "boosting", {"library": "lightgbm", "num_leaves": 15, "learning_rate": 0.03,
                                                   "bagging_fraction": 0.7, "bagging_freq": 1,
                                                   "feature_fraction": 0.6, "min_data_in_leaf": 400}),
    "catboost": ModelSpec("boosting", "boosting", {"library": "catboost", "depth": 5, "learning_rate": 0.05,
                                                   "l2_leaf_reg": 10}),
}
MODEL_IDS: tuple[str, ...] = tuple(MODEL_SPECS)
ENSEMBLE_ID = "ensemble"
MOVE_ID = "move"  # the move-size model (``models.move``): not a direction model, never an ensemble member


def unknown_model(raw: str) -> NotFound:
    """404 ``unknown_model`` that lists the valid ids (and the closest one), so a typo is fixed in one go."""
    known = [*MODEL_IDS, ENSEMBLE_ID]
    shown = raw[:64]
    close = difflib.get_close_matches(shown.lower(), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return NotFound(f"unknown model {shown!r} (known: {', '.join(known)}){hint}", field="model",
                    code="unknown_model", details={"details": {"known": known}})


def create_model(model_id: str, **overrides) -> PredictionModel:
    """A fresh, unfitted model for a registry id (each family's library imported only when it is asked for:
    a web worker serving networks from their graphs never imports torch)."""
    spec = MODEL_SPECS[model_id]
    params = {**spec.params, **overrides}
    if spec.kind == "boosting":
        from .boosting import BoostingModel

        return BoostingModel(model_id, **params)
    from .neural import NeuralModel

    return NeuralModel(model_id, family=spec.family, **params)


def resolve_ids(text: str) -> list[str]:
    """``all`` or a comma-separated list of ids (``ensemble`` and ``move`` allowed) -> validated ids in
    order; ``all`` is the zoo, the ensemble and the move model."""
    if text.strip() == "all":
        return [*MODEL_IDS, ENSEMBLE_ID, MOVE_ID]
    ids = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [i for i in ids if i not in MODEL_SPECS and i not in (ENSEMBLE_ID, MOVE_ID)]
    if unknown:
        raise ValueError(f"unknown model ids: {', '.join(unknown)}")
    return ids
