"""The attention of a network over its input window's candles, one weight per candle summing to 1
(torch; exported beside the forward graph as ``attention.onnx`` so web workers read it without torch).

- gru_attention: its pooling weights over time (what the head reads beside the last state).
- transformers: attention rollout (Abnar & Zuidema 2020) through every layer, each layer's heads
  averaged and mixed half and half with the identity for the residual path; then the rows the head
  reads (the last position when causal, else the mean of all positions and the last, as pooled).
- informer: its first layer (the only one over the candles themselves: distilling halves the sequence
  after it), ProbSparse as it runs: the active queries' softmax rows, the lazy ones' uniform rows,
  averaged over heads and queries.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .attention import InformerNet, TransformerNet
from .recurrent import RecurrentNet


def has_attention(module: nn.Module) -> bool:
    return isinstance(module, (TransformerNet, InformerNet)) or getattr(module, "attention", None) is not None


def _recurrent(net: RecurrentNet, x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(net.attention.score(net.encode(x)).squeeze(-1), dim=1)


def _transformer(net: TransformerNet, x: torch.Tensor) -> torch.Tensor:
    t = x.shape[1]
    h = net.input(x) + net.positions[:t]
    mask = nn.Transformer.generate_square_subsequent_mask(t, device=x.device) if net.causal else None
    eye = torch.eye(t, device=x.device)
    rollout = eye.expand(x.shape[0], t, t)
    for layer in net.encoder.layers:  # norm_first layers, as TransformerEncoderLayer runs them
        y = layer.norm1(h)
        out, weights = layer.self_attn(y, y, y, attn_mask=mask, need_weights=True, average_attn_weights=True)
        h = h + layer.dropout1(out)
        h = h + layer._ff_block(layer.norm2(h))
        rollout = torch.bmm(0.5 * weights + 0.5 * eye, rollout)
    rows = rollout[:, -1] if net.causal else 0.5 * rollout.mean(dim=1) + 0.5 * rollout[:, -1]
    return rows / rows.sum(dim=1, keepdim=True)


def _informer(net: InformerNet, x: torch.Tensor) -> torch.Tensor:
    h = net.input(x) + net.positions[: x.shape[1]]
    attn = net.layers[0].attn
    b, length, _ = h.shape
    q, k, _ = attn.qkv(h).view(b, length, 3, attn.heads, attn.d_head).permute(2, 0, 3, 1, 4)
    u = min(length, attn.factor * math.ceil(math.log(length + 1)))
    sample = torch.linspace(0, length - 1, u, device=x.device).long()
    sampled = torch.einsum("bhqd,bhkd->bhqk", q, k[:, :, sample])
    top = (sampled.max(-1).values - sampled.mean(-1)).topk(u, dim=-1).indices  # (b, h, u)
    q_top = torch.gather(q, 2, top.unsqueeze(-1).expand(-1, -1, -1, attn.d_head))
    active = torch.softmax(torch.einsum("bhud,bhkd->bhuk", q_top, k) / math.sqrt(attn.d_head), dim=-1)
    full = torch.full((b, attn.heads, length, length), 1.0 / length, device=x.device)
    full = full.scatter(2, top.unsqueeze(-1).expand(-1, -1, -1, length), active)
    return full.mean(dim=(1, 2))


def candle_attention(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(n, W) attention over the window's candles, each row summing to 1."""
    if isinstance(module, TransformerNet):
        return _transformer(module, x)
    if isinstance(module, InformerNet):
        return _informer(module, x)
    if getattr(module, "attention", None) is not None:
        return _recurrent(module, x)
    raise TypeError(f"{type(module).__name__} has no attention over its window")


class CandleAttention(nn.Module):
    """``candle_attention`` as a module, so it exports to ONNX like the forward pass."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return candle_attention(self.net, x)
