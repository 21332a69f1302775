"""A network served from its ONNX graph through ONNX Runtime, without PyTorch: a trained network's
forward pass is fixed, and importing torch costs a web worker about 180 MB and answers slower.

The graph is exported and checked against the torch model when a version is saved
(``models.export``); versions saved before that have no graph and load through torch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .base import DataView, NetworkModel, refused
from .manifest import Manifest
from .threads import ort_threads

GRAPH = "network.onnx"
ATTENTION_GRAPH = "attention.onnx"  # attention networks: their attention over the window (explanations)
INPUT, OUTPUT, ATTENTION = "x", "logits", "attention"


def open_session(source: Path | bytes, threads: int | None = None):
    """An ONNX Runtime CPU session over a graph file or its bytes."""
    import onnxruntime as ort  # here, so importing this module costs nothing until a graph is served

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or ort_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: the load path reports its own refusals
    # No arena per session: with one per model, a large batch would leave each holding its peak for good.
    options.enable_cpu_mem_arena = False
    graph = str(source) if isinstance(source, Path) else source
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


class ExportedNetwork(NetworkModel):
    """Serving only: the same calibrated ``predict_proba`` as ``NeuralModel``, from the exported graph."""

    def fit(self, train: DataView, valid: DataView, **options) -> ExportedNetwork:
        raise TypeError(f"{self.model_id}: an exported graph serves only; train a models.neural.NeuralModel")

    def decision_function(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        out = [self.session_.run([OUTPUT], {INPUT: np.ascontiguousarray(x[lo:lo + batch_size])})[0]
               for lo in range(0, len(x), batch_size)]
        return np.concatenate(out).reshape(len(x), self.n_outputs_) if out else np.zeros((0, self.n_outputs_))

    def attention(self, x: np.ndarray) -> np.ndarray | None:
        """(n, W) attention over the window's candles from the attention graph, opened on first use (only
        explanations read it); None for a network without one."""
        if getattr(self, "attention_path_", None) is None:
            return None
        if getattr(self, "attention_session_", None) is None:
            self.attention_session_ = open_session(self.attention_path_)
        return self.attention_session_.run([ATTENTION], {INPUT: np.ascontiguousarray(x, dtype=np.float32)})[0]

    def n_parameters(self) -> int:
        return getattr(self, "n_parameters_", 0)

    def save_weights(self, directory: Path) -> list[str]:
        raise TypeError(f"{self.model_id}: an exported graph is saved with the torch model it came from")

    def load_weights(self, directory: Path, manifest: Manifest) -> None:
        path = directory / GRAPH
        try:
            self.session_ = open_session(path)
        except Exception as exc:  # noqa: BLE001 - ONNX Runtime raises its own classes for every kind of bad file
            raise refused(path, "cannot load graph", str(exc).splitlines()[0][:200]) from exc
        meta = self.session_.get_modelmeta().custom_metadata_map
        if json.loads(meta.get("params", "null")) != json.loads(json.dumps(self.get_params())):
            raise refused(path, "exported from other parameters than the manifest's")
        shape = self.session_.get_inputs()[0].shape
        expected = [int(manifest.window), self.n_features_in_]
        if list(shape[1:]) != expected or self.session_.get_outputs()[0].shape[1:] != [self.n_outputs_]:
            raise refused(path, f"graph shape {shape[1:]} -> {self.session_.get_outputs()[0].shape[1:]}, "
                                f"the manifest says {expected} -> [{self.n_outputs_}]")
        self.n_parameters_ = int((manifest.describe or {}).get("n_parameters") or 0)
        self.attention_path_ = directory / ATTENTION_GRAPH if ATTENTION_GRAPH in (manifest.files or {}) else None
