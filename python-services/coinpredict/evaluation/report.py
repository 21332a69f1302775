"""``report.md`` with PNG plots: what a person needs to see in a minute — which models have skill
(AUC with intervals against the baselines) and whether any of it survives fees."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..models.artifacts import load_model_at, model_root
from ..models.registry import ENSEMBLE_ID
from .relative import outperform_lines

plt.switch_backend("Agg")  # files only: no display, whatever the default backend would be


def _roc(y, p):
    order = np.argsort(-p, kind="stable")
    y = y[order]
    tpr = np.concatenate([[0], np.cumsum(y) / max(y.sum(), 1)])
    fpr = np.concatenate([[0], np.cumsum(1 - y) / max((1 - y).sum(), 1)])
    return fpr, tpr


def _top_models(report: dict, k: int = 5) -> list[str]:
    ranked = sorted((m for m in report["models"] if m != ENSEMBLE_ID), key=lambda m: -report["models"][m]["auc"])
    return ([ENSEMBLE_ID] if ENSEMBLE_ID in report["models"] else []) + ranked[:k]


def _save(fig, out: Path, name: str) -> str:
    fig.savefig(out / name, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return name


def write_report(report: dict, curves: dict, probs: dict, y: np.ndarray, out: Path, *, store=None, data=None,
                 ends=None, timeframe: str = "1h") -> list[dict]:
    """Write ``report.md`` and its plots into ``out``; returns the plots, ``{"name", "title"}`` in the
    report's order (what a published report lists)."""
    out = Path(out)
    plots = []
    top = _top_models(report)

    fig, ax = plt.subplots(figsize=(6, 6))
    for m in top:
        fpr, tpr = _roc(y, probs[m])
        ax.plot(fpr, tpr, label=f"{m} ({report['models'][m]['auc']:.3f})", lw=1)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, test period")
    ax.legend(fontsize=7)
    plots.append(("ROC curves (ensemble and the five best single models)", _save(fig, out, "roc.png")))

    fig, ax = plt.subplots(figsize=(6, 6))
    for m in top:
        p = probs[m]
        order = np.argsort(p)
        bins = [b for b in np.array_split(order, 10) if len(b)]
        ax.plot([p[b].mean() for b in bins], [y[b].mean() for b in bins], marker="o", ms=3, lw=1, label=m)
    lo = min(0.4, *(probs[m].min() for m in top))
    hi = max(0.6, *(probs[m].max() for m in top))
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    ax.set(xlabel="predicted probability up", ylabel="observed frequency up", title="Calibration (deciles)")
    ax.legend(fontsize=7)
    plots.append(("Calibration curves", _save(fig, out, "calibration.png")))

    fig, ax = plt.subplots(figsize=(9, 5))
    first = curves[top[0]]
    times = first["equity_times"].astype("datetime64[ms]")
    ax.plot(times, first["equity_hold"], "k", lw=1.2, label="buy and hold (equal weight)")
    for m in top + ["baseline:momentum"]:
        ax.plot(times, curves[m]["equity_net"], lw=1, label=f"{m} net of {report['fee_bps']:.0f} bps")
    ax.set(ylabel="equity", title="Net equity of the signal vs buy and hold")
    ax.legend(fontsize=7)
    fig.autofmt_xdate()
    plots.append(("Net equity curves", _save(fig, out, "equity.png")))

    names = sorted(report["models"], key=lambda m: report["models"][m]["auc"])
    base = list(report["baselines"])
    fig, ax = plt.subplots(figsize=(7, 0.3 * (len(names) + len(base)) + 1))
    rows = [(n, report["models"][n]) for n in names] + [(f"baseline: {b}", report["baselines"][b]) for b in base]
    for i, (n, m) in enumerate(rows):
        lo, hi = m["auc_ci95"]
        color = "tab:gray" if n.startswith("baseline") else ("tab:red" if n == ENSEMBLE_ID else "tab:blue")
        # An interval on a few rows may not hold the point estimate: never a negative error bar.
        bars = [[max(0.0, m["auc"] - lo)], [max(0.0, hi - m["auc"])]] if np.isfinite(lo) and np.isfinite(hi) else None
        ax.errorbar(m["auc"], i, xerr=bars,
                    fmt="o", color=color, ms=4, capsize=2)
    ax.axvline(0.5, color="k", lw=0.8, ls="--")
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=7)
    ax.set(xlabel="AUC (95% interval, clustered by candle)", title="AUC per model against the baselines")
    plots.append(("AUC with confidence intervals", _save(fig, out, "auc.png")))

    rank_lines, rank_plot = _ranking_section(report, out)
    if rank_plot:
        plots.append(("Rank IC across symbols (+-2 Newey-West standard errors)", rank_plot))

    heat = _attention_plot(store, data, ends, timeframe, out)
    if heat:
        plots.append(("Attention over the input window (mean over test samples)", heat))

    lines = [f"# Out-of-sample evaluation, {report['timeframe']}, {report['start']} to {report['end']}", "",
             f"{report['n_rows']} predictions over {len(report['symbols'])} symbols "
             f"({', '.join(report['symbols'])}); horizon {report['horizon']}; fees {report['fee_bps']} bps per side, "
             f"the backtest trades the served signal (BUY/SELL only when the edge beats the {report['cost_bps']:g} bps "
             f"round trip). Look-ahead audit: {report['audit'].get('checked', 0)} re-predictions "
             f"from cut history, {len(report['audit'].get('mismatches', []))} mismatches.", "",
             "| model | AUC | 95% CI | accuracy | log loss | Brier | ECE | IC | p-value | skill | Sharpe net | "
             "return net | max DD | trades | exposure |", "|" + "---|" * 15]
    for name, m in sorted(report["models"].items(), key=lambda kv: -kv[1]["auc"]) + \
            [(f"*{k}*", v) for k, v in report["baselines"].items()]:
        bt = m["backtest"]
        lines.append(f"| {name} | {m['auc']:.4f} | {m['auc_ci95'][0]:.3f}–{m['auc_ci95'][1]:.3f} | "
                     f"{m['accuracy']:.4f} | {m['log_loss']:.4f} | {m['brier']:.4f} | {m['ece']:.4f} | "
                     f"{m['ic']:.4f} | {m['p_value']:.2g} | {m['skill']} | {bt['sharpe_net']:.2f} | "
                     f"{bt['return_net']:+.1%} | {bt['max_drawdown']:.1%} | {bt['trades']} | {bt['exposure']:.0%} |")
    if ENSEMBLE_ID in report.get("per_symbol", {}):
        per = report["per_symbol"][ENSEMBLE_ID]
        lines += ["", "Ensemble per symbol: " + ", ".join(f"{s} {v['auc']:.3f}" for s, v in sorted(per.items())) + "."]
    bh = next(iter(report["models"].values()))["backtest"]["buy_and_hold"]
    lines += ["", f"Buy and hold (equal weight) over the period: return {bh['return']:+.1%}, Sharpe "
                  f"{bh['sharpe']:.2f}, max drawdown {bh['max_drawdown']:.1%}."]
    lines += ensemble_lines(report.get("ensemble_comparison"))
    if "fitted_baseline" in report:
        fb = report["fitted_baseline"]
        below = ", ".join(fb["models_not_above"]) or "none"
        lines += ["", f"Fitted baseline ({fb['model']}, fitted on {fb['train_rows']} training rows): AUC "
                      f"{fb['auc'] if fb['auc'] is not None else float('nan'):.4f}. Models not above it: {below}."]
    lines += rank_lines + outperform_lines(report) + move_lines(report.get("move"))
    lines += [""] + [f"## {title}\n\n![{title}]({name})\n" for title, name in plots]
    (out / "report.md").write_text("\n".join(lines))
    return [{"name": name, "title": title} for title, name in plots]


def ensemble_lines(comparison: dict | None) -> list[str]:
    """The ensemble beside its best member (in hindsight), the mean of all members and the boosters' mean."""
    if not comparison:
        return []
    lines = ["", "| combination | rule / members | AUC | 95% CI | rank IC |", "|---|---|---|---|---|"]
    rows = [("ensemble", comparison["ensemble"]), ("best member", comparison["best_member"]),
            ("mean of all members", comparison["mean_all"]), ("mean of the boosters", comparison["mean_boosters"])]
    for name, row in rows:
        if not row or row.get("auc") is None:
            continue
        who = row.get("rule") or row.get("model") or f"{len(row.get('members', []))} members"
        ci = row.get("auc_ci95") or [float("nan")] * 2
        ic = row.get("rank_ic")
        lines.append(f"| {name} | {who} | {row['auc']:.4f} | {ci[0]:.3f}–{ci[1]:.3f} | "
                     f"{'' if ic is None else f'{ic:+.4f}'} |")
    if comparison.get("ensemble_minus_best_member") is not None:
        lines += ["", f"The ensemble is {comparison['ensemble_minus_best_member']:+.4f} AUC from its best member, "
                      "which is picked in hindsight on this period; the ensemble's rule and members were chosen "
                      "out of fold on the validation period only."]
    return lines


def move_lines(move: dict | None) -> list[str]:
    """The move-size model against the rule and HAR (``evaluation.move``), when one was evaluated."""
    if not move:
        return []
    r2, ql = move["r2_log_move"], move["qlike"]
    lines = ["", "## Move size and return quantiles", "",
             f"{move['n']} rows; target: {move['target']}; quantiles centred on the {move['centre']}'s probability.",
             "", "| forecast | R² log move | QLIKE |", "|---|---|---|"]
    lines += [f"| {k} | {r2[k]:.3f} | {ql[k]:.3f} |" for k in ("model", "har", "rule")]
    lines += ["", "| quantiles | " + " | ".join(f"pinball {q}" for q in move["model"]["pinball_bps"]) +
              " | 50% cover | 90% cover | 90% by vol tercile |", "|" + "---|" * 9]
    for k in ("model", "rule"):
        part = move[k]
        terc = ", ".join(f"{v['coverage_90']:.1%}" for v in part["coverage_by_tercile"].values())
        lines.append(f"| {k} | " + " | ".join(f"{v:.2f}" for v in part["pinball_bps"].values()) +
                     f" | {part['coverage']['coverage_50']:.1%} | {part['coverage']['coverage_90']:.1%} | {terc} |")
    return lines


def _ranking_section(report: dict, out: Path) -> tuple[list[str], str | None]:
    """How well each model orders coins at the same time (what the top-100 scorer uses): a table and
    a plot of rank IC with +-2 standard errors; constant baselines, which rank nothing, are left out."""
    models = sorted(((n, m["ranking"]) for n, m in report["models"].items()
                     if m.get("ranking", {}).get("n_timestamps")), key=lambda r: -r[1]["rank_ic"])
    rows = models + [(f"baseline: {b}", m["ranking"]) for b, m in report["baselines"].items()
                     if m.get("ranking", {}).get("n_timestamps")]
    if not rows:
        return [], None
    first = rows[0][1]
    lines = ["", "## Ranking across symbols", "",
             f"Spearman correlation of probability_up with the realised {report['horizon']}-candle return across "
             f"symbols, averaged over {first['n_timestamps']} timestamps (about {first['symbols_per_timestamp']:.0f} "
             f"symbols each); t uses Newey-West errors ({first['nw_lags']} lags). Top/bottom: long the top fifth, "
             f"short the bottom fifth, rebalanced every {report['horizon']} candle(s), bps per period, net of "
             f"{first['fee_bps']:g} bps per side on the turnover of both legs.", "",
             "| model | rank IC | t | IC > 0 | top/bottom gross bps | net bps | net t | turnover |", "|" + "---|" * 8]
    for name, r in rows:
        lines.append(f"| {name} | {r['rank_ic']:+.4f} | {r['rank_ic_t']:+.2f} | {r['rank_ic_hit_rate']:.0%} | "
                     f"{r['top_bottom_bps_gross']:+.2f} | {r['top_bottom_bps_net']:+.2f} | "
                     f"{r['top_bottom_t']:+.2f} | {r['top_bottom_turnover']:.2f} |")
    rows.reverse()  # best model at the top of the plot, baselines at the bottom
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(rows) + 1))
    for i, (n, r) in enumerate(rows):
        color = "tab:gray" if n.startswith("baseline") else ("tab:red" if n == ENSEMBLE_ID else "tab:blue")
        ax.errorbar(r["rank_ic"], i, xerr=2 * r["rank_ic_se"] if np.isfinite(r["rank_ic_se"]) else None,
                    fmt="o", color=color, ms=4, capsize=2)
    ax.axvline(0, color="k", lw=0.8, ls="--")
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=7)
    ax.set(xlabel="mean rank IC across symbols (+-2 standard errors)", title="Ranking quality per model")
    return lines, _save(fig, out, "ranking.png")


def _torch_module(store, timeframe: str, model_id: str) -> torch.nn.Module | None:
    """The torch module of a served network (which serves from its ONNX graph): its layers are read here."""
    entry = store.get(timeframe, model_id)
    if entry.status != "ready":
        return None
    module = getattr(entry.model, "module_", None)
    if module is None:
        model, _ = load_model_at(model_root(store.models_dir, timeframe, model_id) / entry.folder, model_id,
                                 runtime="torch")
        module = model.module_
    return module.to("cpu").eval()


def _attention_plot(store, data, ends, timeframe, out: Path) -> str | None:
    """Mean attention weight per window position for gru_attention (its pooling weights) and
    transformer_standard (first layer, averaged over heads and queries)."""
    if store is None or data is None or ends is None or not len(ends):
        return None
    sample = ends[np.linspace(0, len(ends) - 1, min(512, len(ends))).astype(int)]
    maps = {}
    x = torch.from_numpy(data.windows(sample))
    gru = _torch_module(store, timeframe, "gru_attention")
    if gru is not None and getattr(gru, "attention", None) is not None:
        with torch.inference_mode():
            gru(x)
        maps["gru_attention (pooling weights)"] = gru.attention.last_weights.mean(0).cpu().numpy()
    net = _torch_module(store, timeframe, "transformer_standard")
    if net is not None:
        with torch.inference_mode():
            h = net.input(x) + net.positions[: x.shape[1]]
            layer = net.encoder.layers[0]
            hn = layer.norm1(h) if layer.norm_first else h
            _, w = layer.self_attn(hn, hn, hn, need_weights=True, average_attn_weights=True)
        maps["transformer_standard (layer 1, key weight)"] = w.mean(dim=(0, 1)).numpy()
    if not maps:
        return None
    fig, ax = plt.subplots(figsize=(9, 0.8 * len(maps) + 1))
    grid = np.stack(list(maps.values()))
    im = ax.imshow(grid, aspect="auto", cmap="viridis")
    ax.set_yticks(range(len(maps)), list(maps), fontsize=7)
    ax.set_xlabel("position in window (right = most recent candle)")
    fig.colorbar(im, ax=ax, fraction=0.03)
    return _save(fig, out, "attention.png")
