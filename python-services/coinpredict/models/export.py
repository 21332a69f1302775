"""Exporting a trained network to ONNX when its version is saved, checked against torch on the
validation rows: a graph whose probabilities differ by ``TOLERANCE`` or more is refused, and with it the
version (so what serves through ONNX Runtime is what was validated through torch)."""

from __future__ import annotations

import io
import json
import logging
import warnings
from pathlib import Path

import numpy as np
import torch

from .base import refused
from .exported import ATTENTION, ATTENTION_GRAPH, GRAPH, INPUT, OUTPUT, ExportedNetwork, open_session

log = logging.getLogger(__name__)
TOLERANCE = 1e-5  # max |probability difference| allowed between the graph and the torch model
# A window whose ProbSparse selection is this close to a tie (relative score margin, ``selection_margins``)
# sits on a step of the model itself: float rounding in either runtime may take either side. Such windows
# are left out of the comparison, and may be at most ``MAX_AT_A_STEP`` of the rows.
STEP_MARGIN = 1e-5
MAX_AT_A_STEP = 0.02
OPSET = 17  # ONNX Runtime 1.17 and later run it (LayerNormalization is native from 17)


def graph_bytes(module: torch.nn.Module, window: int, n_features: int, metadata: dict[str, str],
                output: str = OUTPUT) -> bytes:
    """The module's inference graph (TorchScript exporter, dynamic batch, fixed window) with ``metadata``."""
    import onnx

    module = module.to("cpu").eval()
    example = torch.randn(2, window, n_features, generator=torch.Generator().manual_seed(0))
    buffer = io.BytesIO()
    # Traced with autograd on: under no_grad, torch's transformer layers take a fused kernel ONNX lacks.
    with warnings.catch_warnings(), torch.enable_grad():
        warnings.simplefilter("ignore")  # tracer notes on shapes read as Python numbers: the window is fixed
        torch.onnx.export(module, (example,), buffer, dynamo=False, opset_version=OPSET, input_names=[INPUT],
                          output_names=[output], dynamic_axes={INPUT: {0: "batch"}, output: {0: "batch"}})
    graph = onnx.load_from_string(buffer.getvalue())
    for key, value in metadata.items():
        graph.metadata_props.add(key=key, value=value)
    return graph.SerializeToString()


def export_checked(model, directory: Path, inputs: np.ndarray, expected: np.ndarray | None = None) -> list[str]:
    """Write ``model``'s (a fitted ``NeuralModel``) graph into ``directory`` and check it on ``inputs``
    against ``expected`` (torch's calibrated probabilities for them; computed when not given). Raises
    ArtifactError naming the graph when it differs by ``TOLERANCE`` or more."""
    path = directory / GRAPH
    inputs = np.asarray(inputs, dtype=np.float32)
    if expected is None:
        expected = model.predict_proba(inputs)
    try:
        blob = graph_bytes(model.module_, inputs.shape[1], model.n_features_in_,
                           {"params": json.dumps(model.get_params()), "model_id": model.model_id})
    except Exception as exc:  # noqa: BLE001 - the exporter raises many kinds; the version must name why
        raise refused(path, "the network could not be exported to ONNX", str(exc).splitlines()[0][:300]) from exc
    served = ExportedNetwork(model.model_id, **model.get_params(), family=model.family)
    served.n_outputs_, served.calibration_ = model.n_outputs_, model.calibration_
    served.session_ = open_session(blob, threads=torch.get_num_threads())
    got = served.predict_proba(inputs)
    at_step = _at_a_step(model.module_, inputs)
    if len(at_step) and at_step.mean() > MAX_AT_A_STEP:
        raise refused(path, f"{at_step.sum()} of {len(inputs)} validation rows sit on a step of the network's "
                            "selection; the version is not written")
    delta = (float(np.max(np.abs(got - expected)[~at_step], initial=0.0)) if got.shape == expected.shape
             else np.inf)
    if not delta < TOLERANCE:
        raise refused(path, f"the ONNX graph's probabilities differ from torch's by up to {delta:.2e} on "
                            f"{len(inputs)} validation rows (limit {TOLERANCE:.0e}); the version is not written")
    if at_step.any():
        log.info("%s: %d of %d validation rows on a step of its ProbSparse selection, left out of the ONNX check",
                 model.model_id, at_step.sum(), len(inputs))
    path.write_bytes(blob)
    return [GRAPH]


def _at_a_step(module: torch.nn.Module, inputs: np.ndarray) -> np.ndarray:
    """Rows whose output sits on a step of the network (``STEP_MARGIN``); none for continuous networks."""
    from .attention import selection_margins

    margins = selection_margins(module, inputs)
    return np.zeros(len(inputs), dtype=bool) if margins is None else margins < STEP_MARGIN


def export_attention(model, directory: Path, inputs: np.ndarray) -> list[str]:
    """Write the attention graph of an attention network (``models.attention_maps``) beside its forward
    graph, checked against torch on ``inputs`` like it; a network without attention writes none, and one
    whose graph cannot be exported or disagrees keeps its version without it (explanations then carry no
    attention; the log says why)."""
    from .attention_maps import CandleAttention, candle_attention, has_attention

    if not has_attention(model.module_):
        return []
    module = model.module_.to("cpu").eval()
    x = np.asarray(inputs, dtype=np.float32)
    try:
        blob = graph_bytes(CandleAttention(module), x.shape[1], model.n_features_in_,
                           {"model_id": model.model_id}, output=ATTENTION)
        with torch.no_grad():
            expected = candle_attention(module, torch.from_numpy(x)).numpy()
        got = open_session(blob, threads=torch.get_num_threads()).run([ATTENTION], {INPUT: x})[0]
    except Exception as exc:  # noqa: BLE001 - the exporter raises many kinds; the forward graph still serves
        log.warning("%s: attention graph not exported: %s", model.model_id, str(exc).splitlines()[0][:300])
        return []
    delta = float(np.max(np.abs(got - expected), initial=0.0)) if got.shape == expected.shape else np.inf
    if not delta < TOLERANCE:
        log.warning("%s: attention graph differs from torch by %.2e; not written", model.model_id, delta)
        return []
    (directory / ATTENTION_GRAPH).write_bytes(blob)
    return [ATTENTION_GRAPH]
