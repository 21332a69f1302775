"""LSTM and GRU networks; every variant of the registry is an argument of ``RecurrentNet``."""

from __future__ import annotations

import torch
from torch import nn


class AttentionPooling(nn.Module):
    """Additive attention over time; keeps the last weights for inspection (``last_weights``)."""

    def __init__(self, width: int):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1, bias=False))
        self.last_weights: torch.Tensor | None = None

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(self.score(h).squeeze(-1), dim=1)  # (B, T)
        self.last_weights = weights.detach()
        return torch.einsum("bt,btd->bd", weights, h)


class RecurrentNet(nn.Module):
    """cell: "lstm" | "gru"; pooling: "last" | "attention"; residual: LayerNorm + skip per layer."""

    def __init__(self, n_features: int, *, cell: str = "gru", hidden: int = 48, layers: int = 2,
                 bidirectional: bool = False, dropout: float = 0.1, pooling: str = "last",
                 residual: bool = False, outputs: int = 1):
        super().__init__()
        rnn_cls = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.residual = residual
        self.pooling = pooling
        directions = 2 if bidirectional else 1
        width = hidden * directions
        if residual:
            self.input = nn.Linear(n_features, width)
            self.layers = nn.ModuleList(rnn_cls(width, hidden, batch_first=True, bidirectional=bidirectional)
                                        for _ in range(layers))
            self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(layers))
            self.drop = nn.Dropout(dropout)
        else:
            self.rnn = rnn_cls(n_features, hidden, num_layers=layers, batch_first=True,
                               bidirectional=bidirectional, dropout=dropout if layers > 1 else 0.0)
        self.attention = AttentionPooling(width) if pooling == "attention" else None
        # The attention context is read beside the last state: recency matters most in markets.
        readout = 2 * width if pooling == "attention" else width
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(readout, outputs))  # one logit per horizon

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if self.residual:
            h = self.input(x)
            for rnn, norm in zip(self.layers, self.norms):
                out, _ = rnn(h)
                h = norm(h + self.drop(out))
            return h
        out, _ = self.rnn(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encode(x)
        pooled = torch.cat([self.attention(h), h[:, -1]], dim=-1) if self.attention is not None else h[:, -1]
        return self.head(pooled)
