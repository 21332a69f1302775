"""Classification metrics for direction forecasts (checked against scikit-learn in tests), shared by
the models (ensemble ranking, early stopping), training (validation) and evaluation (test)."""

from __future__ import annotations

import math

import numpy as np


def skill(auc_ci95: tuple[float, float] | list[float] | None) -> str:
    """``some`` when the 95% AUC interval, clustered by candle (``clustered_auc_ci``), lies above 0.5,
    else ``none``. Not the accuracy p-value: that one treats every coin's forecast of a candle as an
    independent draw and finds "skill" in what the market move shared by all coins explains."""
    low = auc_ci95[0] if auc_ci95 else float("nan")
    return "some" if low is not None and math.isfinite(low) and low > 0.5 else "none"


def rankdata(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties given their average rank: scipy.stats.rankdata's "average" method, in numpy so
    that a web worker scoring the ledger never loads scipy (tested equal to scipy's)."""
    values = np.asarray(values)
    if values.dtype.kind == "f" and np.isnan(values).any():  # as scipy's default: NaN in, NaN out
        return np.full(len(values), np.nan)
    sorter = np.argsort(values, kind="mergesort")
    inverse = np.empty(len(values), dtype=np.intp)
    inverse[sorter] = np.arange(len(values))
    ordered = values[sorter]
    new_value = np.r_[True, ordered[1:] != ordered[:-1]]
    dense = new_value.cumsum()[inverse]
    bounds = np.r_[np.nonzero(new_value)[0], len(new_value)]
    return 0.5 * (bounds[dense] + bounds[dense - 1] + 1)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (scipy.stats.spearmanr's statistic): Pearson's on the ranks."""
    if len(a) < 2:
        return float("nan")
    ra, rb = rankdata(a), rankdata(b)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def fast_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC via the rank-sum statistic (ties averaged); NaN when one class is absent."""
    y = np.asarray(y).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Weighted |observed - predicted| over equal-count probability bins."""
    order = np.argsort(p)
    err = 0.0
    for chunk in np.array_split(order, bins):
        if len(chunk):
            err += len(chunk) * abs(float(y[chunk].mean()) - float(p[chunk].mean()))
    return err / max(len(p), 1)


def accuracy_p_value(correct: int, n: int, base_rate: float) -> float:
    """One-sided binomial test that accuracy beats max(50%, majority-class rate)."""
    if n == 0:
        return float("nan")
    from scipy.stats import binomtest  # evaluation only

    return float(binomtest(correct, n, max(0.5, base_rate), alternative="greater").pvalue)


def classification_metrics(y: np.ndarray, p: np.ndarray, future_return: np.ndarray | None = None,
                           threshold: float = 0.5) -> dict:
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    pred = p > threshold
    truth = y > 0.5
    tp, fp = int((pred & truth).sum()), int((pred & ~truth).sum())
    fn, tn = int((~pred & truth).sum()), int((~pred & ~truth).sum())
    n = len(y)
    correct = tp + tn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    tnr = tn / (tn + fp) if tn + fp else 0.0
    base = float(truth.mean()) if n else 0.5
    out = {
        "n": n,
        "auc": fast_auc(truth, p),
        "accuracy": correct / n if n else float("nan"),
        "balanced_accuracy": (recall + tnr) / 2,
        "precision": precision, "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "log_loss": log_loss(y, p) if n else float("nan"),
        "brier": float(np.mean((p - y) ** 2)) if n else float("nan"),
        "ece": expected_calibration_error(y, p) if n else float("nan"),
        "base_rate_up": base,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "p_value": accuracy_p_value(correct, n, max(base, 1 - base)),
    }
    if future_return is not None and n > 2 and np.ptp(p) > 0 and np.ptp(future_return) > 0:
        out["ic"] = spearman(p, future_return)
    else:
        out["ic"] = float("nan")
    return out


def clustered_auc_se(y: np.ndarray, p: np.ndarray, clusters: np.ndarray) -> tuple[float, float]:
    """(AUC, its standard error) from DeLong's placement values with a cluster-robust variance: forecasts
    of one cluster (one candle across coins, or the candles a multi-candle label overlaps) move together,
    so their influence is summed before squaring. One pass over sorted scores, cheap enough per request.
    NaN when a class is absent or there are fewer than 10 clusters."""
    y = np.asarray(y).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    _, cluster_ids = np.unique(np.asarray(clusters), return_inverse=True)
    if n_pos == 0 or n_neg == 0 or cluster_ids.max(initial=-1) < 9:
        return (float("nan"), float("nan"))
    p = np.asarray(p, dtype=np.float64)
    all_ranks = rankdata(p)
    # Placements: share of the other class each forecast beats (ties count half).
    influence = np.empty(len(p))
    influence[y] = (all_ranks[y] - rankdata(p[y])) / n_neg
    influence[~y] = 1.0 - (all_ranks[~y] - rankdata(p[~y])) / n_pos
    auc = float(influence[y].mean())
    influence[y] = (influence[y] - auc) / n_pos
    influence[~y] = (influence[~y] - auc) / n_neg
    return auc, _cluster_robust_sd(influence, cluster_ids)


def clustered_mean_se(values: np.ndarray, clusters: np.ndarray) -> float:
    """Standard error of the mean of ``values`` (per-forecast log losses, say), clustered as above."""
    values = np.asarray(values, dtype=np.float64)
    _, cluster_ids = np.unique(np.asarray(clusters), return_inverse=True)
    return _cluster_robust_sd((values - values.mean()) / len(values), cluster_ids)


def _cluster_robust_sd(influence: np.ndarray, cluster_ids: np.ndarray) -> float:
    """Square root of the sum over clusters of each cluster's summed influence, squared."""
    return float(np.sqrt(np.sum(np.bincount(cluster_ids, weights=influence) ** 2)))


def clustered_auc_ci(y: np.ndarray, p: np.ndarray, clusters: np.ndarray,
                     z: float = 1.959964) -> tuple[float, float]:
    """95% interval for AUC (``clustered_auc_se``); NaN where the standard error is."""
    auc, se = clustered_auc_se(y, p, clusters)
    if not math.isfinite(se):
        return (float("nan"), float("nan"))
    return (max(0.0, auc - z * se), min(1.0, auc + z * se))
