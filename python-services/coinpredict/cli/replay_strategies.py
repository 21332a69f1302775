"""The replay's strategies check (issue 24): a ``signal`` strategy and a ``topk`` one run live on paper by
the worker over the replayed days; then ``scripts/backtest.py``'s engine (``run_engine``) runs over the
same candles with the same model versions, and the two are compared trade by trade and close by close,
to ``tolerance`` of capital.

The backtest's forecasts come from evaluation's scoring path (``forecasts_by_time``, as the backtest's),
each close's from the model version and move model version the live close traded on (its recorded
forecasts say which). Forecasts whose decision differs are listed: one that differs only because a
probability sits within ``tolerance`` of its threshold (the fee-aware signal's, or the probability of the
coin it swaps rank with) is marked ``near_threshold``, and the backtest is run again with the live
forecast for exactly those; it must then agree. Nothing else is excused: a skipped close, a forecast
that differs otherwise, a trade or an equity point apart fails the check."""

from __future__ import annotations

import tempfile
from pathlib import Path

from coinpredict.common.signals import cost_bps
from coinpredict.data.sources.csvdir import load_folder
from coinpredict.models.registry import MODEL_IDS
from coinpredict.strategy.config import StrategyConfig, parse_strategy
from coinpredict.strategy.selection import Forecast
from coinpredict.strategy.store import StrategyStore

from .backtest import forecasts_by_time, run_engine
from .replay_agreement import models_folder

HOUR_MS = 3_600_000
MOVE_ID = "move"


def replay_strategies(symbols: list[str]) -> list[StrategyConfig]:
    """The two strategies the replay runs (lightgbm, 1h, horizon 1, over the replayed coins)."""
    base = {"timeframe": "1h", "horizon": 1, "model": "lightgbm", "universe": list(symbols), "capital": 10_000.0,
            "costs": {"fee_bps": 10.0, "slippage_bps": 2.0}}
    signal = {**base, "name": "replay signal", "kind": "signal", "short": True,
              "sizing": {"method": "fixed_fraction", "fraction": 0.2},
              "limits": {"max_position": 0.25, "max_gross": 1.0, "max_positions": len(symbols),
                         "max_daily_loss": 0.1, "max_drawdown": 0.5, "cooldown_candles": 1}}
    topk = {**base, "name": "replay topk", "kind": "topk", "k": 1, "n_drop": 1,
            "sizing": {"method": "fixed_fraction", "fraction": 0.3},
            "limits": {"max_position": 0.35, "max_gross": 1.0, "max_daily_loss": 0.1, "max_drawdown": 0.5}}
    return [parse_strategy(raw, models=list(MODEL_IDS)) for raw in (signal, topk)]


def create_strategies(database_url: str, symbols: list[str], created_s: float) -> list[str]:
    """The replay's strategies, created (``running``) at the replay's start: their first close is its first."""
    store = StrategyStore(database_url, clock=lambda: created_s)
    return [store.create(config).id for config in replay_strategies(symbols)]


def _forecast(recorded: dict) -> Forecast:
    return Forecast(**{k: recorded[k] for k in Forecast.model_fields if k in recorded})


def offline_forecasts(config: StrategyConfig, live: dict[int, dict[str, dict]], models_dir: Path, data_dir: Path,
                      fee_bps: float) -> dict[int, dict[str, Forecast]]:
    """{open time: {symbol: Forecast}} by the backtest's scoring path, each (close, coin) with the versions
    its live forecast came from."""
    groups: dict[tuple, list[tuple[int, str]]] = {}
    for t, by_symbol in live.items():
        for s, f in by_symbol.items():
            groups.setdefault((f["model_version"], f.get("move_version")), []).append((t, s))
    out: dict[int, dict[str, Forecast]] = {}
    for (version, move_version), keys in sorted(groups.items(), key=lambda kv: min(kv[1])):
        view = {config.model: version, **({MOVE_ID: move_version} if move_version else {})}
        lo, hi = min(t for t, _ in keys), max(t for t, _ in keys)
        symbols = sorted({s for _, s in keys})
        with tempfile.TemporaryDirectory(prefix="replay-strategy-") as tmp:
            from coinpredict.serving import ModelStore

            store = ModelStore(models_folder(models_dir, view, Path(tmp) / "models")).load_all()
            scored, _ = forecasts_by_time(config, store, data_dir, lo, hi + HOUR_MS, symbols, fee_bps)
        for t, s in keys:
            if s in scored.get(t, {}):
                out.setdefault(t, {})[s] = scored[t][s]
    return out


def decision_diffs(config: StrategyConfig, live: dict[int, dict[str, Forecast]],
                   offline: dict[int, dict[str, Forecast]], fee_bps: float, tolerance: float) -> list[dict]:
    """Forecasts whose decision differs between live and backtest: a signal (or a missing forecast) for
    ``signal``, two coins' rank order for ``topk``; each with its distance to the threshold."""
    cost, out = cost_bps(fee_bps), []
    for t in sorted(live):
        mine, theirs = live[t], offline.get(t, {})
        for s in sorted(mine):
            a, b = mine[s], theirs.get(s)
            if b is None:
                out.append({"time": t, "symbol": s, "what": "no backtest forecast", "near_threshold": False})
            elif config.kind == "signal" and a.signal != b.signal:
                half = cost / (2 * a.expected_move_bps) if a.expected_move_bps > 0 else float("inf")
                distance = min(abs(a.probability_up - (0.5 + half)), abs(a.probability_up - (0.5 - half)))
                out.append({"time": t, "symbol": s, "what": f"signal {a.signal} live, {b.signal} backtest",
                            "p_live": a.probability_up, "p_backtest": b.probability_up, "distance": distance,
                            "near_threshold": distance <= tolerance})
        if config.kind == "topk":
            common = sorted(set(mine) & set(theirs))
            for i, s in enumerate(common):
                for r in common[i + 1:]:
                    live_order = (mine[s].probability_up, s) > (mine[r].probability_up, r)
                    if live_order != ((theirs[s].probability_up, s) > (theirs[r].probability_up, r)):
                        gap = abs(mine[s].probability_up - mine[r].probability_up)
                        out.append({"time": t, "symbol": s, "other": r, "what": "rank order", "distance": gap,
                                    "near_threshold": gap <= tolerance})
    return out


def compare_books(live_fills: list[dict], live_points: list[dict], fills, points, capital: float,
                  tolerance: float) -> dict:
    """Trades (time, coin, side, notional, fee) and equity per close, each within ``tolerance`` x capital."""
    tol = tolerance * capital
    # Two fills of one coin and side at one open (closing a position and opening the next) are told apart
    # by their size: the two lists need not hold them in the same order.
    mine = sorted(live_fills, key=lambda f: (f["time"], f["symbol"], f["side"], f["quantity"] * f["price"]))
    theirs = sorted(fills, key=lambda f: (f.time, f.symbol, f.side, f.quantity * f.price))
    apart = [(a, b) for a, b in zip(mine, theirs)
             if (a["time"], a["symbol"], a["side"]) != (b.time, b.symbol, b.side)
             or abs(a["quantity"] * a["price"] - b.quantity * b.price) > tol or abs(a["fee"] - b.fee) > tol]
    same_times = [p["time"] for p in live_points] == [p.time for p in points]
    worst = max((abs(a["equity"] - b.equity) for a, b in zip(live_points, points)), default=0.0)
    first = apart[0] if apart else None
    return {"trades_live": len(mine), "trades_backtest": len(theirs), "trades_apart": len(apart),
            "first_apart": None if first is None else {"live": {k: first[0][k] for k in ("time", "symbol", "side",
                                                                                         "quantity", "price")},
                                                        "backtest": first[1].model_dump()},
            "closes_live": len(live_points), "closes_backtest": len(points), "same_closes": same_times,
            "max_equity_diff": worst,
            "same": not apart and len(mine) == len(theirs) and same_times and worst <= tol}


def check_strategy(store: StrategyStore, strategy_id: str, models_dir: Path, data_dir: Path, end_ms: int,
                   fee_bps: float, tolerance: float = 1e-6) -> dict:
    """One strategy's live book against the backtest engine over its closes up to ``end_ms``."""
    record = store.require(strategy_id)
    config = record.config
    closes = [c for c in store.closes(strategy_id) if c["close_time"] <= end_ms]
    skipped = [{"close": c["close_time"], "why": [e["detail"] for e in c["events"]]}
               for c in closes if c["forecasts"] is None]
    recorded = {c["close_time"] - HOUR_MS: {f["symbol"]: f for f in c["forecasts"]}
                for c in closes if c["forecasts"] is not None}
    out = {"id": strategy_id, "name": record.name, "kind": config.kind, "closes": len(closes), "skipped": skipped,
           "versions": sorted({f["model_version"] for fs in recorded.values() for f in fs.values()}),
           "move_versions": sorted({str(f.get("move_version")) for fs in recorded.values() for f in fs.values()})}
    if not recorded:
        return {**out, "ok": False, "why": "no close was traded live"}
    times = sorted(recorded)
    live = {t: {s: _forecast(f) for s, f in fs.items()} for t, fs in recorded.items()}
    offline = offline_forecasts(config, recorded, Path(models_dir), Path(data_dir), fee_bps)
    symbols = sorted({s for fs in live.values() for s in fs})
    candles = {c.symbol: c for c in load_folder(Path(data_dir), "1h", symbols, times[0], times[-1] + HOUR_MS)}
    live_fills = [f for f in store.trades(strategy_id, limit=100_000) if f["time"] <= times[-1]]
    live_points = [p for p in store.equity(strategy_id) if p["time"] <= times[-1] + HOUR_MS]
    points, fills, _ = run_engine(config, candles, times, offline)
    books = compare_books(live_fills, live_points, fills, points, config.capital, tolerance)
    diffs = decision_diffs(config, live, offline, fee_bps, tolerance)
    out.update(books=books, decision_diffs=diffs, max_prob_diff=max(
        (abs(a.probability_up - offline[t][s].probability_up) for t, fs in live.items() for s, a in fs.items()
         if s in offline.get(t, {})), default=None))
    near = [d for d in diffs if d["near_threshold"]]
    if not books["same"] and near and len(near) == len(diffs):
        patched = {t: dict(fs) for t, fs in offline.items()}
        for d in near:
            for s in (d["symbol"], d.get("other")):
                if s is not None:
                    patched.setdefault(d["time"], {})[s] = live[d["time"]][s]
        points, fills, _ = run_engine(config, candles, times, patched)
        out["books_with_live_near_threshold"] = compare_books(live_fills, live_points, fills, points,
                                                              config.capital, tolerance)
    agreed = books["same"] or out.get("books_with_live_near_threshold", {}).get("same", False)
    out["ok"] = agreed and not skipped and len(near) == len(diffs) and books["trades_live"] > 0
    return out


def check_strategies(database_url: str, models_dir: Path, data_dir: Path, end_ms: int, fee_bps: float,
                     tolerance: float = 1e-6) -> list[dict]:
    store = StrategyStore(database_url)
    return [check_strategy(store, r.id, models_dir, data_dir, end_ms, fee_bps, tolerance)
            for r in sorted(store.list(), key=lambda r: r.name)]


def print_strategies(results: list[dict]) -> None:
    for r in results:
        b = r.get("books") or {}
        print(f"\nstrategy {r['name']} ({r['kind']}): {r['closes']} closes live, {len(r['skipped'])} skipped; "
              f"versions {', '.join(r['versions'])}; move {', '.join(r['move_versions'])}")
        if b:
            print(f"  trades live {b['trades_live']}, backtest {b['trades_backtest']}, apart {b['trades_apart']}; "
                  f"max equity diff {b['max_equity_diff']:.2e} (tolerance {1e-6 * 10_000:.0e} of 10,000 capital); "
                  f"max |dp| {r['max_prob_diff']:.1e}")
        for d in r.get("decision_diffs", []):
            print(f"  decision differs at {d['time']} {d['symbol']}: {d['what']}, distance to threshold "
                  f"{d.get('distance', float('nan')):.1e}{' (within tolerance)' if d['near_threshold'] else ''}")
        if "books_with_live_near_threshold" in r:
            print(f"  with the live forecast for those: same = {r['books_with_live_near_threshold']['same']}")
        for s in r["skipped"]:
            print(f"  skipped close {s['close']}: {s['why']}")
        print(f"  {'AGREES' if r['ok'] else 'DISAGREES'}" + (f": {r['why']}" if r.get("why") else ""))
