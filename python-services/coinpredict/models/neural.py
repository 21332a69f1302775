"""All torch models behind the base: the architecture comes from the registry's ``arch`` and
parameters; training goes through ``models.trainer`` (the one torch loop). A saved version also holds the
network's ONNX graph (``models.export``), which serving runs without torch (``models.exported``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .attention import InformerNet, TransformerNet
from .base import DataView, NetworkModel, refused
from .convolutional import ConvNet
from .export import export_attention, export_checked
from .manifest import Manifest
from .options import FitOptions
from .recurrent import RecurrentNet
from .threads import torch_threads
from .trainer import pick_device, predict_batches, train_module

ARCHITECTURES = {"recurrent": RecurrentNet, "transformer": TransformerNet, "informer": InformerNet,
                 "conv": ConvNet}
WEIGHTS = "weights.safetensors"


class NeuralModel(NetworkModel):
    def build(self, n_features: int, outputs: int) -> torch.nn.Module:
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in self.params.items()}
        return ARCHITECTURES[self.arch](n_features, outputs=outputs, **params)

    def fit(self, train: DataView, valid: DataView, **options) -> NeuralModel:
        opts = FitOptions.of(options)
        cfg = replace(opts.config, seed=opts.seed)
        self.n_features_in_ = train.data.features.shape[1]
        y_train, y_valid = train.targets, valid.targets
        self.n_outputs_ = y_train.shape[1]  # one head per horizon and target, trained together (multi-task)
        torch.manual_seed(cfg.seed)
        self.module_ = self.build(self.n_features_in_, self.n_outputs_)
        self.history_ = train_module(
            self.module_, lambda idx: train.inputs("sequence", idx), y_train,
            lambda idx: valid.inputs("sequence", idx), y_valid, cfg, name=self.model_id)
        return self

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        logits = predict_batches(self.module_, np.asarray(x, dtype=np.float32), next(self.module_.parameters()).device)
        return logits.reshape(len(x), self.n_outputs_)

    def gradient_x_input(self, x: np.ndarray, column: int, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
        """Exact (autograd) gradient x input summed over the window, (n, F), and the (n,) logits of
        ``column``: what ``models.explain`` takes from torch when the model runs through it."""
        device = next(self.module_.parameters()).device
        self.module_.eval()
        grads, logits = [], []
        for lo in range(0, len(x), batch_size):
            xt = torch.from_numpy(np.asarray(x[lo:lo + batch_size], dtype=np.float32)).to(device).requires_grad_(True)
            z = self.module_(xt)[:, column]
            (grad,) = torch.autograd.grad(z.sum(), xt)
            grads.append((grad * xt).sum(dim=1).detach().cpu().numpy().astype(np.float64))
            logits.append(z.detach().cpu().numpy().astype(np.float64))
        return np.concatenate(grads), np.concatenate(logits)

    def attention(self, x: np.ndarray) -> np.ndarray | None:
        """(n, W) attention over the window's candles (``models.attention_maps``); None without attention."""
        from .attention_maps import candle_attention, has_attention

        if not has_attention(self.module_):
            return None
        device = next(self.module_.parameters()).device
        with torch.no_grad():
            x = torch.from_numpy(np.asarray(x, dtype=np.float32)).to(device)
            return candle_attention(self.module_, x).cpu().numpy()

    def n_parameters(self) -> int:
        module = getattr(self, "module_", None)
        return sum(p.numel() for p in module.parameters()) if module is not None else 0

    def save_weights(self, directory: Path) -> list[str]:
        state = {k: v.detach().cpu().contiguous() for k, v in self.module_.state_dict().items()}
        save_file(state, str(directory / WEIGHTS))
        return [WEIGHTS]

    def save_serving(self, directory: Path, inputs: np.ndarray | None, expected: np.ndarray | None) -> list[str]:
        """The ONNX graph web workers serve, checked against this model on ``inputs``; without validation
        rows to check it on, none is written and the version serves through torch. An attention network
        also writes its attention over the window (``export_attention``), which explanations read."""
        if inputs is None:
            return []
        return export_checked(self, directory, inputs, expected) + export_attention(self, directory, inputs)

    def load_weights(self, directory: Path, manifest: Manifest) -> None:
        if torch_threads() is not None:  # a web worker serving a version saved without its graph
            torch.set_num_threads(torch_threads())
        path = directory / WEIGHTS
        self.module_ = self.build(self.n_features_in_, self.n_outputs_)
        try:
            state = load_file(str(path))
            self.module_.load_state_dict(state, strict=True)
        except FileNotFoundError as exc:
            raise refused(path, "missing") from exc
        except (SafetensorError, RuntimeError, OSError, ValueError) as exc:
            raise refused(path, "cannot load weights", str(exc).splitlines()[0][:200]) from exc
        self.module_.eval()
        self.module_.to(pick_device())
