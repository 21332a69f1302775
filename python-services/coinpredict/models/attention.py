"""Transformer encoders: standard (pooled), time-series (causal mask, last step), and Informer
(ProbSparse self-attention with self-attention distilling between layers, Zhou et al. 2021)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


def sinusoidal_positions(length: int, width: int) -> torch.Tensor:
    position = torch.arange(length).unsqueeze(1)
    div = torch.exp(torch.arange(0, width, 2) * (-math.log(10_000.0) / width))
    pe = torch.zeros(length, width)
    pe[:, 0::2] = torch.sin(position * div)
    pe[:, 1::2] = torch.cos(position * div)[:, : width // 2]
    return pe


class TransformerNet(nn.Module):
    """causal=False: full attention, mean pooling; causal=True: masked, reads the last position."""

    def __init__(self, n_features: int, *, d_model: int = 32, heads: int = 4, layers: int = 2,
                 ff: int = 64, dropout: float = 0.1, causal: bool = False, max_len: int = 512, outputs: int = 1):
        super().__init__()
        self.causal = causal
        self.input = nn.Linear(n_features, d_model)
        self.register_buffer("positions", sinusoidal_positions(max_len, d_model), persistent=False)
        layer = nn.TransformerEncoderLayer(d_model, heads, ff, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model if causal else 2 * d_model, outputs)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[1]
        h = self.input(x) + self.positions[:t]
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=x.device) if self.causal else None
        return self.norm(self.encoder(h, mask=mask, is_causal=self.causal))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encode(x)
        # Causal: the last position has seen the whole window. Otherwise mean pooling beside the last position.
        pooled = h[:, -1] if self.causal else torch.cat([h.mean(dim=1), h[:, -1]], dim=-1)
        return self.head(pooled)


class ProbSparseAttention(nn.Module):
    """Only the top-u "active" queries (largest max-minus-mean score over sampled keys) attend;
    the lazy rest take the mean of the values. u = factor * ceil(ln L)."""

    def __init__(self, d_model: int, heads: int, factor: int = 5, dropout: float = 0.1):
        super().__init__()
        self.heads, self.d_head, self.factor = heads, d_model // heads, factor
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.drop = nn.Dropout(dropout)
        self.margins: list[torch.Tensor] | None = None  # set by ``selection_margins`` to record them

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, length, _ = x.shape
        q, k, v = self.qkv(x).view(b, length, 3, self.heads, self.d_head).permute(2, 0, 3, 1, 4)
        u = min(length, self.factor * math.ceil(math.log(length + 1)))
        # Sparsity measure from a sample of keys (deterministic stride keeps inference reproducible).
        sample = torch.linspace(0, length - 1, u, device=x.device).long()
        sampled = torch.einsum("bhqd,bhkd->bhqk", q, k[:, :, sample])
        sparsity = sampled.max(-1).values - sampled.mean(-1)
        top = sparsity.topk(u, dim=-1).indices  # (b, h, u)
        if self.margins is not None and u < length:
            self.margins.append(_selection_margin(sparsity, u))
        out = v.mean(dim=2, keepdim=True).expand(b, self.heads, length, self.d_head).clone()
        q_top = torch.gather(q, 2, top.unsqueeze(-1).expand(-1, -1, -1, self.d_head))
        scores = torch.einsum("bhud,bhkd->bhuk", q_top, k) / math.sqrt(self.d_head)
        attended = torch.einsum("bhuk,bhkd->bhud", self.drop(torch.softmax(scores, dim=-1)), v)
        out.scatter_(2, top.unsqueeze(-1).expand(-1, -1, -1, self.d_head), attended)
        return self.out(out.transpose(1, 2).reshape(b, length, -1))


def _selection_margin(sparsity: torch.Tensor, u: int) -> torch.Tensor:
    """Per window: how far the u-th selected query's score is above the first left out, relative to the
    largest score (the smallest over heads). Near 0, float rounding can swap which query is selected."""
    ordered = sparsity.topk(u + 1, dim=-1).values
    scale = sparsity.abs().amax(dim=-1).clamp_min(1e-12)
    return ((ordered[..., u - 1] - ordered[..., u]) / scale).amin(dim=1)


def selection_margins(module: nn.Module, x: np.ndarray, batch_size: int = 1024) -> np.ndarray | None:
    """Each window's smallest ``_selection_margin`` over the network's ProbSparse layers; None for a
    network without one. ProbSparse's top-u selection is a step: on a window whose margin is within
    float rounding, two runtimes computing the same weights may select differently, and their outputs
    differ there (and only there) by more than rounding (``models.export``)."""
    layers = [m for m in module.modules() if isinstance(m, ProbSparseAttention)]
    if not layers:
        return None
    module.eval()
    out = []
    try:
        with torch.no_grad():
            for lo in range(0, len(x), batch_size):
                for layer in layers:
                    layer.margins = []
                module(torch.from_numpy(np.ascontiguousarray(x[lo:lo + batch_size], dtype=np.float32)))
                found = [m for layer in layers for m in layer.margins]
                rows = torch.stack(found).amin(dim=0) if found else torch.full((len(x[lo:lo + batch_size]),), np.inf)
                out.append(rows.numpy())
    finally:
        for layer in layers:
            layer.margins = None
    return np.concatenate(out) if out else np.zeros(0)


class InformerLayer(nn.Module):
    def __init__(self, d_model: int, heads: int, ff: int, dropout: float, factor: int):
        super().__init__()
        self.attn = ProbSparseAttention(d_model, heads, factor, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.drop(self.attn(x)))
        return self.norm2(x + self.drop(self.ff(x)))


class DistillingLayer(nn.Module):
    """Conv1d + BatchNorm + ELU + stride-2 max-pool: halves the sequence between attention layers."""

    def __init__(self, d_model: int):
        super().__init__()
        self.conv = nn.Conv1d(d_model, d_model, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm1d(d_model)
        self.pool = nn.MaxPool1d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pool(nn.functional.elu(self.norm(self.conv(x.transpose(1, 2)))))
        return y.transpose(1, 2)


class InformerNet(nn.Module):
    def __init__(self, n_features: int, *, d_model: int = 32, heads: int = 4, layers: int = 2, ff: int = 64,
                 dropout: float = 0.1, factor: int = 3, max_len: int = 512, outputs: int = 1):
        super().__init__()
        self.input = nn.Linear(n_features, d_model)
        self.register_buffer("positions", sinusoidal_positions(max_len, d_model), persistent=False)
        self.layers = nn.ModuleList(InformerLayer(d_model, heads, ff, dropout, factor) for _ in range(layers))
        self.distil = nn.ModuleList(DistillingLayer(d_model) for _ in range(layers - 1))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(2 * d_model, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.input(x) + self.positions[: x.shape[1]]
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.distil):
                h = self.distil[i](h)
        h = self.norm(h)
        return self.head(torch.cat([h.mean(dim=1), h[:, -1]], dim=-1))
