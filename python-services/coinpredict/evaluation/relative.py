"""The relative target in evaluation: ``probability_outperform`` scored against its own label (the coin's
log return over the horizon above the mean log return of the evaluated coins over the same candles, at
least three of them: ``features.market_context.forward_means``) and, as a ranking, against the realised
return: the same rank IC and long/short book as ``probability_up``'s (``ranking.ranking_quality``), so
the two rankings sit side by side. Within one candle, subtracting the market's mean changes no coin's
place, so both rankings are judged on the same returns."""

from __future__ import annotations

import numpy as np

from ..common.metrics import fast_auc, log_loss
from .ranking import ranking_quality


def outperform_score(y: np.ndarray, p: np.ndarray, fut: np.ndarray, sym: np.ndarray, t: np.ndarray, *,
                     horizon: int, fee_bps: float) -> dict:
    """``{"n", "auc", "log_loss", "rank_ic", "rank_ic_t", "top_bottom_bps_net", "ranking"}`` of ``p`` (the
    relative probabilities) on labels ``y`` (NaN where the market's mean is unknown: left out of the AUC)."""
    known = np.isfinite(y) & np.isfinite(p)
    yk, pk = y[known], p[known]
    two_sided = 0 < yk.sum() < len(yk)
    ranking = ranking_quality(p, fut, sym, t, horizon=horizon, fee_bps=fee_bps)
    return {"n": int(known.sum()), "auc": _finite(fast_auc(yk, pk)) if two_sided else None,
            "log_loss": log_loss(yk, pk) if len(yk) else None, "base_rate": float(yk.mean()) if len(yk) else None,
            "rank_ic": _finite(ranking["rank_ic"]), "rank_ic_t": _finite(ranking["rank_ic_t"]),
            "top_bottom_bps_net": _finite(ranking["top_bottom_bps_net"]), "ranking": ranking}


def outperform_sections(report: dict, outperform: dict[str, np.ndarray], y: np.ndarray, fut: np.ndarray,
                        sym: np.ndarray, t: np.ndarray, fee_bps: float) -> None:
    """Each model's (and the ensemble's) ``outperform`` figures beside its direction's, in ``report``;
    ``outperform_comparison`` lines up, per model, the rank IC of both probabilities."""
    rows = {}
    for name, p in outperform.items():
        if name not in report["models"]:
            continue
        section = outperform_score(y, p, fut, sym, t, horizon=report["horizon"], fee_bps=fee_bps)
        report["models"][name]["outperform"] = section
        direction = report["models"][name].get("ranking") or {}
        rows[name] = {"rank_ic_up": _finite(direction.get("rank_ic")), "rank_ic_outperform": section["rank_ic"],
                      "auc_up": report["models"][name].get("auc"), "auc_outperform": section["auc"],
                      "top_bottom_bps_net_up": _finite(direction.get("top_bottom_bps_net")),
                      "top_bottom_bps_net_outperform": section["top_bottom_bps_net"]}
    report["outperform_comparison"] = rows or None


def _finite(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def outperform_lines(report: dict) -> list[str]:
    """report.md's table: per model, direction's and the relative target's AUC, rank IC and book, side by side."""
    rows = report.get("outperform_comparison")
    if not rows:
        return []

    def f(x, spec: str) -> str:
        return "n/a" if x is None else format(x, spec)

    lines = ["", "## The relative target (probability_outperform)", "",
             "AUC of probability_up against going up and of probability_outperform against beating the mean "
             "log return of the evaluated coins over the same candles; rank IC and the top/bottom book (net "
             "bps per period) of both against the realised return, as in the ranking table.", "",
             "| model | AUC up | AUC outperform | rank IC up | rank IC outperform | book net up | "
             "book net outperform |", "|" + "---|" * 7]
    for name, r in sorted(rows.items(), key=lambda kv: -(kv[1]["rank_ic_outperform"] or -1)):
        lines.append(f"| {name} | {f(r['auc_up'], '.4f')} | {f(r['auc_outperform'], '.4f')} | "
                     f"{f(r['rank_ic_up'], '+.4f')} | {f(r['rank_ic_outperform'], '+.4f')} | "
                     f"{f(r['top_bottom_bps_net_up'], '+.2f')} | {f(r['top_bottom_bps_net_outperform'], '+.2f')} |")
    return lines
