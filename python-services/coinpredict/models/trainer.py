"""The one training loop for every torch model: class-balanced BCE, AdamW, cosine schedule,
gradient clipping, early stopping on validation loss that restores the best weights.

Labels are (n, K), one column per output (horizon, and target: direction then the relative one); the loss
is the mean over the known labels (NaN is unknown: the relative target where the market's mean is), so a
network learns every output in one model (multi-task), each with its own head."""

from __future__ import annotations

import copy
import logging
import math

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..common.metrics import fast_auc
from .options import TrainConfig

log = logging.getLogger(__name__)


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def predict_batches(module: nn.Module, x: np.ndarray, device: torch.device, batch_size: int = 4096) -> np.ndarray:
    module.eval()
    out = []
    with torch.inference_mode():
        for lo in range(0, len(x), batch_size):
            out.append(module(torch.from_numpy(np.ascontiguousarray(x[lo:lo + batch_size])).to(device)).float().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)


def masked_bce(logits: torch.Tensor, y: torch.Tensor, pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean binary cross-entropy over the labels that are known (finite); the plain mean when all are."""
    known = torch.isfinite(y)
    loss = nn.functional.binary_cross_entropy_with_logits(logits, torch.where(known, y, torch.zeros_like(y)),
                                                          pos_weight=pos_weight, reduction="none")
    return (loss * known).sum() / known.sum().clamp(min=1)


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    known = np.isfinite(y)
    return fast_auc(y[known], score[known]) if known.any() else 0.5


def train_module(module: nn.Module, fetch, y_train: np.ndarray, fetch_valid, y_valid: np.ndarray,
                 cfg: TrainConfig, name: str = "model") -> list[dict]:
    """Train ``module`` in place. ``fetch(idx)`` returns inputs for training rows ``idx``;
    ``fetch_valid(idx)`` the same for validation rows; labels are (n, H). Returns per-epoch history
    (validation AUC is the mean over horizons)."""
    device = pick_device()
    module.to(device)
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    y_train = y_train.reshape(len(y_train), -1)
    y_valid = y_valid.reshape(len(y_valid), -1)
    with np.errstate(invalid="ignore"):
        pos = np.clip(np.nan_to_num(np.nanmean(y_train, axis=0), nan=0.5), 1e-6, 1 - 1e-6)
    balance = ((1 - pos) / pos).astype(np.float32)
    weight = torch.from_numpy(balance).to(device)
    opt = torch.optim.AdamW(module.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    per_epoch = min(cfg.samples_per_epoch, len(y_train))
    steps = max(1, math.ceil(per_epoch / cfg.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps * cfg.epochs,
                                                pct_start=0.2)
    valid_idx = np.arange(len(y_valid))
    if len(valid_idx) > cfg.max_valid:
        valid_idx = np.sort(rng.choice(valid_idx, cfg.max_valid, replace=False))
    x_valid = fetch_valid(valid_idx)
    yv = y_valid[valid_idx]
    yv_t = torch.from_numpy(yv.astype(np.float32))
    best_loss, best_state, bad_epochs, history = math.inf, None, 0, []
    bar = tqdm(range(cfg.epochs), desc=f"{name:<22}", disable=not cfg.progress, leave=False)
    for epoch in bar:
        module.train()
        order = rng.choice(len(y_train), per_epoch, replace=False)
        total, seen = 0.0, 0
        for lo in range(0, per_epoch, cfg.batch_size):
            idx = np.sort(order[lo:lo + cfg.batch_size])
            xb = torch.from_numpy(fetch(idx)).to(device)
            yb = torch.from_numpy(y_train[idx].astype(np.float32)).to(device)
            opt.zero_grad(set_to_none=True)
            loss = masked_bce(module(xb), yb, weight)
            loss.backward()
            nn.utils.clip_grad_norm_(module.parameters(), cfg.clip_norm)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        logits = predict_batches(module, x_valid, device)
        v_loss = float(masked_bce(torch.from_numpy(logits - np.log(balance)), yv_t))
        v_auc = float(np.mean([_auc(yv[:, j], logits[:, j]) for j in range(yv.shape[1])]))
        history.append({"epoch": epoch + 1, "train_loss": total / max(seen, 1), "valid_loss": v_loss,
                        "valid_auc": v_auc})
        bar.set_postfix(train=f"{total / max(seen, 1):.4f}", valid=f"{v_loss:.4f}", auc=f"{v_auc:.4f}")
        log.info("%s epoch %d train_loss %.5f valid_loss %.5f valid_auc %.4f", name, epoch + 1,
                 total / max(seen, 1), v_loss, v_auc)
        if cfg.on_epoch is not None:
            cfg.on_epoch(history[-1])
        if v_loss < best_loss - 1e-5:
            best_loss, best_state, bad_epochs = v_loss, copy.deepcopy(module.state_dict()), 0
        else:
            bad_epochs += 1
            if bad_epochs >= cfg.patience:
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.to("cpu").eval()
    return history
