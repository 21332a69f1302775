"""1-D convolutional networks over the window; variants differ in their blocks only."""

from __future__ import annotations

import torch
from torch import nn


class ConvBlock(nn.Module):
    """conv-BN-ReLU-conv-BN, optionally with a residual skip; ``causal`` pads on the left only."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int = 1, residual: bool = False,
                 causal: bool = False, dropout: float = 0.1):
        super().__init__()
        self.causal_pad = (kernel - 1) * dilation if causal else 0
        pad = 0 if causal else (kernel - 1) * dilation // 2
        self.conv1 = nn.Conv1d(c_in, c_out, kernel, padding=pad, dilation=dilation)
        self.conv2 = nn.Conv1d(c_out, c_out, kernel, padding=pad, dilation=dilation)
        self.norm1, self.norm2 = nn.BatchNorm1d(c_out), nn.BatchNorm1d(c_out)
        self.drop = nn.Dropout(dropout)
        self.residual = residual
        self.skip = nn.Conv1d(c_in, c_out, 1) if residual and c_in != c_out else nn.Identity()

    def _conv(self, conv: nn.Conv1d, x: torch.Tensor) -> torch.Tensor:
        return conv(nn.functional.pad(x, (self.causal_pad, 0)) if self.causal_pad else x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.drop(torch.relu(self.norm1(self._conv(self.conv1, x))))
        y = self.norm2(self._conv(self.conv2, y))
        return torch.relu(y + self.skip(x)) if self.residual else torch.relu(y)


class MultiScaleBlock(nn.Module):
    """Parallel convolutions of several widths, concatenated then mixed."""

    def __init__(self, c_in: int, c_out: int, kernels: tuple[int, ...]):
        super().__init__()
        branch = c_out // len(kernels)
        self.branches = nn.ModuleList(
            nn.Sequential(nn.Conv1d(c_in, branch, k, padding=k // 2), nn.BatchNorm1d(branch), nn.ReLU())
            for k in kernels
        )
        self.mix = nn.Sequential(nn.Conv1d(branch * len(kernels), c_out, 1), nn.BatchNorm1d(c_out), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mix(torch.cat([b(x) for b in self.branches], dim=1))


class ConvNet(nn.Module):
    """style: "standard" | "resnet" | "multiscale" | "dilated" | "tcn" (causal, last-step readout)."""

    def __init__(self, n_features: int, *, style: str = "standard", channels: int = 32, blocks: int = 2,
                 kernel: int = 3, kernels: tuple[int, ...] = (3, 5, 9), dropout: float = 0.1, outputs: int = 1):
        super().__init__()
        self.style = style
        layers: list[nn.Module] = []
        c = n_features
        for i in range(blocks):
            if style == "multiscale":
                layers.append(MultiScaleBlock(c, channels, tuple(kernels)))
            else:
                dilation = 2 ** i if style in ("dilated", "tcn") else 1
                layers.append(ConvBlock(c, channels, kernel, dilation, residual=style in ("resnet", "tcn"),
                                        causal=style == "tcn", dropout=dropout))
            c = channels
        self.body = nn.Sequential(*layers)
        readout = channels if style == "tcn" else 2 * channels
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(readout, outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x.transpose(1, 2))  # (B, C, T)
        # The TCN's last step sees the whole window; the others read global pooling beside the last step.
        pooled = h[:, :, -1] if self.style == "tcn" else torch.cat([h.mean(dim=-1), h[:, :, -1]], dim=1)
        return self.head(pooled)
