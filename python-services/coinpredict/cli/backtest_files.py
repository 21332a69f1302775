"""What ``scripts/backtest.py`` writes: ``summary.json``, ``equity.csv``, ``trades.csv`` and ``report.md``
with its plots (the equity against buy-and-hold and the market; the drawdown)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from coinpredict.common.files import write_atomic_text
from coinpredict.common.times import iso
from coinpredict.data.timeframes import TIMEFRAME_MS

plt.switch_backend("Agg")  # files only


def write_outputs(result, out: Path) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = result.summary
    write_atomic_text(out / "summary.json", json.dumps(s, indent=1))
    capital = s["strategy"]["capital"]
    times = [p.time for p in result.points]
    equity = pd.DataFrame({
        "time": [iso(t) for t in times], "equity": [p.equity for p in result.points],
        "cash": [p.cash for p in result.points], "exposure": [p.exposure for p in result.points],
        "net_exposure": [p.net_exposure for p in result.points], "costs": [p.costs for p in result.points],
        **{name: capital * np.asarray(curve[1:]) for name, curve in result.benchmarks.items()
           if len(curve) == len(times) + 1}})
    equity.to_csv(out / "equity.csv", index=False, float_format="%.10g")
    trades = pd.DataFrame([{**f.model_dump(), "time": iso(f.time)} for f in result.fills],
                          columns=["time", "symbol", "side", "quantity", "price", "fee", "slippage", "reason", "pnl"])
    trades.to_csv(out / "trades.csv", index=False, float_format="%.10g")
    plots = _plots(result, out)
    write_atomic_text(out / "report.md", _markdown(s, plots))


def _plots(result, out: Path) -> list[str]:
    if not result.points:
        return []
    capital = result.summary["strategy"]["capital"]
    step = TIMEFRAME_MS[result.summary["strategy"]["timeframe"]]
    x = pd.to_datetime([result.points[0].time - step] + [p.time for p in result.points], unit="ms")
    equity = np.array([capital] + [p.equity for p in result.points])
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.plot(x, equity, label="strategy (net)", lw=1.4)
    for name, curve in result.benchmarks.items():
        if len(curve) == len(equity):
            ax.plot(x, capital * curve, label=name.replace("_", "-"), lw=1)
    ax.set_ylabel("equity")
    ax.set_title(result.summary["strategy"]["name"])
    ax.legend()
    fig.savefig(out / "equity.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(9, 3))
    ax.fill_between(x, -(1 - equity / np.maximum.accumulate(equity)), 0, color="tab:red", alpha=0.5)
    ax.set_ylabel("drawdown")
    fig.savefig(out / "drawdown.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return ["equity.png", "drawdown.png"]


def _markdown(s: dict, plots: list[str]) -> str:
    cfg = s["strategy"]
    rows = [("strategy (net)", s["return_net"], s["sharpe"], s["sortino"], s["max_drawdown"]),
            *[(name.replace("_", "-"), s[name]["return"], s[name]["sharpe"], s[name]["sortino"],
               s[name]["max_drawdown"]) for name in ("buy_and_hold", "market")]]
    lines = [f"# Backtest: {cfg['name']}", "",
             f"{cfg['kind']} strategy on {cfg['timeframe']} (horizon {cfg['horizon']}, model {cfg['model']}), "
             f"{s['start']} to {s['end']}, {s['candles']} candles, universe {', '.join(s.get('universe', []))}; "
             f"fees {cfg['costs']['fee_bps']} bps a side, slippage {cfg['costs']['slippage_bps']} bps.", "",
             "| | return | Sharpe | Sortino | max drawdown |", "|---|---:|---:|---:|---:|",
             *[f"| {n} | {r:+.2%} | {sh:.2f} | {so:.2f} | {dd:.2%} |" for n, r, sh, so, dd in rows], "",
             f"Gross return (the same trades without costs) {s['return_gross']:+.2%}; {s['trades']} trades, "
             f"fees {s['fees']:.2f}, slippage {s['slippage']:.2f}, turnover {s['turnover']:.1f}x equity, "
             f"mean exposure {s['exposure']:.2f} of equity.", "",
             "Benchmarks trade nothing and pay no costs: buy-and-hold splits the capital over the universe at "
             "the first open; the market is the mean one-candle return of every coin in the folder.", ""]
    lines += [f"![{p}]({p})" for p in plots]
    events: dict[str, int] = {}
    for e in s["limit_events"]:
        events[e["limit"]] = events.get(e["limit"], 0) + 1
    lines += ["", "## Limit events", ""]
    lines += [f"- {name}: {n}" for name, n in sorted(events.items())] or ["none"]
    return "\n".join(lines) + "\n"
