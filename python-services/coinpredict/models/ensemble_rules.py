"""Choosing the ensemble's rule out of fold.

Every member early-stopped and was calibrated on the validation period, and the boosters are then refit
on it, so the validation log loss that ranks members flatters the networks (their epochs were picked on
those rows) and says nothing of the boosters' refit. Choosing the top five by it kept networks that were
weaker out of sample, and the ensemble fell below its best member on 2025 H1 (0.5362 against 0.5403).

Here each candidate rule picks its members on the first half of the validation period (by time, with a
gap of one label span before the second half) and is scored on the second half; the rule with the best
second-half AUC is kept and then picks its members on the whole period. Every rule is "an equal-weight
mean of the first ``top_k`` members of a ranking", so a chosen rule is stored and served exactly as the
top-k rule always was (``Ensemble.ranking_`` and ``top_k``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..common.metrics import fast_auc, log_loss
from .registry import MODEL_SPECS

BOOSTERS = tuple(m for m, spec in MODEL_SPECS.items() if spec.kind == "boosting")
# Candidate rules, in the order that breaks a tie (simpler and more diversified first).
RULES = ("all", "boosters", "top5", "top3", "best")
DEFAULT_RULE = "top5"  # what a fit without times uses, and what manifests from before rules meant


@dataclass(frozen=True)
class RuleScore:
    """One rule's out-of-fold record: the members it picked on the first half, its AUC and log loss on the
    second."""

    rule: str
    members: list[str]
    auc: float
    log_loss: float


def ranking_by_log_loss(member_probs: dict[str, np.ndarray], y: np.ndarray) -> tuple[list[str], dict[str, float]]:
    """Members best first by log loss on ``y``, and each one's log loss."""
    losses = {i: log_loss(y, p) for i, p in sorted(member_probs.items())}
    return sorted(losses, key=losses.get), losses


def rule_ranking(rule: str, by_loss: list[str]) -> tuple[list[str], int] | None:
    """(ranking, top_k) of ``rule`` given members ranked by log loss; None when the rule has no member.
    The ranking keeps every member (those past ``top_k`` stand in for members that fail to answer)."""
    n = len(by_loss)
    if rule == "all":
        return by_loss, n
    if rule == "boosters":
        boosters = [m for m in by_loss if m in BOOSTERS]
        return (boosters + [m for m in by_loss if m not in BOOSTERS], len(boosters)) if boosters else None
    k = {"top5": 5, "top3": 3, "best": 1}[rule]
    return by_loss, min(k, n)


def time_halves(t: np.ndarray, gap_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the first and second half of the period by time; rows within ``gap_ms`` before the
    second half's first time are left out, so no first-half label spans second-half candles."""
    times = np.unique(t)
    cut = times[len(times) // 2]
    return np.flatnonzero(t < cut - gap_ms), np.flatnonzero(t >= cut)


def choose_rule(member_probs: dict[str, np.ndarray], y: np.ndarray, t: np.ndarray,
                gap_ms: int) -> tuple[str, list[RuleScore]]:
    """The rule whose first-half choice of members scores the best AUC on the second half, and every
    rule's record; the default rule when a half is too small or one-sided to score."""
    first, second = time_halves(t, gap_ms)
    if min(len(first), len(second)) < 50 or len(np.unique(y[second])) < 2 or len(np.unique(y[first])) < 2:
        return DEFAULT_RULE, []
    by_loss, _ = ranking_by_log_loss({i: p[first] for i, p in member_probs.items()}, y[first])
    scores = []
    for rule in RULES:
        picked = rule_ranking(rule, by_loss)
        if picked is None:
            continue
        members = picked[0][: picked[1]]
        combined = np.mean([member_probs[m][second] for m in members], axis=0)
        scores.append(RuleScore(rule, members, float(fast_auc(y[second], combined)),
                                float(log_loss(y[second], combined))))
    best = max(scores, key=lambda s: (s.auc, -RULES.index(s.rule)))
    return best.rule, scores


def scores_to_dict(scores: list[RuleScore]) -> list[dict]:
    return [asdict(s) for s in scores]
