"""Run a strategy over history (OPERATIONS.md, Strategies (backtest)); never trains.

  .venv/bin/python scripts/backtest.py --strategy FILE.json --data-dir DIR --start 2025-01-01 --end 2025-07-01 --out DIR

The forecasts come from the models served from ``--models-dir`` (default ``MODELS_DIR``) through the
scoring path evaluation uses (``evaluation.runner.score_rows``: the same probabilities, ensemble and
expected move; the signal and its edge by ``common.signals`` at the service's ``FEE_BPS``, as the service
serves them). The strategy's own costs are what its fills pay. One engine (``strategy.engine``) trades
them candle by candle, as the live worker will.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coinpredict.common.signals import SIGNALS, cost_bps, fee_aware_positions
from coinpredict.common.times import iso, to_ms
from coinpredict.config import Settings
from coinpredict.data.sources.csvdir import CsvFolderSource, load_folder
from coinpredict.data.timeframes import TIMEFRAME_MS
from coinpredict.errors import ArtifactError, BadRequest
from coinpredict.evaluation.runner import score_rows
from coinpredict.models.registry import ENSEMBLE_ID, MODEL_IDS
from coinpredict.strategy.config import StrategyConfig, TopUniverse, parse_strategy
from coinpredict.strategy.engine import Engine, EquityPoint
from coinpredict.strategy.report import benchmark_curves, summarize
from coinpredict.strategy.selection import Forecast

log = logging.getLogger(__name__)
UNIVERSE_LOOKBACK_MS = 30 * 86_400_000  # a top-N universe ranks coins by quote volume over the 30 days before start


@dataclass
class Backtest:
    summary: dict
    points: list[EquityPoint]
    fills: list
    benchmarks: dict[str, np.ndarray]  # equity curves from 1.0 aligned with [start] + points


def resolve_universe(config: StrategyConfig, data_dir: Path, start_ms: int) -> list[str]:
    """The strategy's coins: its list, or the ``top`` N by quote volume (close x volume) over the 30 days
    before ``start`` (what was known then, never after)."""
    if not isinstance(config.universe, TopUniverse):
        return list(config.universe)
    series = load_folder(data_dir, config.timeframe, None, start_ms - UNIVERSE_LOOKBACK_MS, start_ms)
    volume = {c.symbol: float(np.sum(c.close * c.volume)) for c in series}
    return sorted(volume, key=lambda s: (-volume[s], s))[: config.universe.top]


def forecasts_by_time(config: StrategyConfig, store, data_dir: Path, start_ms: int, end_ms: int,
                      universe: list[str], signal_fee_bps: float):
    """{open time: {symbol: Forecast}} for every candle in [start, end), and the candles scored."""
    ids = None if config.model == ENSEMBLE_ID else [config.model]
    scored = score_rows(store, data_dir=data_dir, timeframe=config.timeframe, start_ms=start_ms, end_ms=end_ms,
                        horizon=config.horizon, symbols=universe, model_ids=ids)
    if config.model not in scored.probs:
        raise ArtifactError(f"{config.model} is not trained for {config.timeframe} at horizon {config.horizon}")
    p = scored.probs[config.model]
    relative = (scored.outperform or {}).get(config.model)
    if config.rank_by == "outperform" and relative is None:
        raise BadRequest(f"rank_by: {config.model} on {config.timeframe} was trained without the relative target "
                         "(no probability_outperform); retrain it, or rank by 'up'", field="rank_by",
                         code="invalid_value")
    position, edge = fee_aware_positions(p, scored.move, cost_bps(signal_fee_bps))
    data, ends = scored.data, scored.ends
    out: dict[int, dict[str, Forecast]] = {}
    for i, row in enumerate(ends):
        symbol = data.symbols[data.symbol_index[row]]
        out.setdefault(int(data.t[row]), {})[symbol] = Forecast(
            symbol=symbol, probability_up=float(p[i]), signal=SIGNALS[int(position[i])], edge_bps=float(edge[i]),
            expected_move_bps=float(scored.move[i]),
            probability_outperform=None if relative is None else float(relative[i]))
    return out, scored.series


def run_backtest(config: StrategyConfig, *, data_dir: Path, start: str, end: str, store,
                 signal_fee_bps: float) -> Backtest:
    start_ms, end_ms = to_ms(start), to_ms(end)
    universe = resolve_universe(config, Path(data_dir), start_ms)
    forecasts, series = forecasts_by_time(config, store, Path(data_dir), start_ms, end_ms, universe, signal_fee_bps)
    candles = {s: c for s, c in series.items() if s in universe}
    times = np.unique(np.concatenate([c.t[(c.t >= start_ms) & (c.t < end_ms)] for c in candles.values()]))
    points, fills, events = run_engine(config, candles, times, forecasts)
    benchmarks = _benchmarks(Path(data_dir), config.timeframe, times, universe)
    summary = summarize(config, iso(start_ms), iso(end_ms), points, fills, events, benchmarks)
    summary["universe"] = universe
    summary["signal_fee_bps"] = signal_fee_bps
    return Backtest(summary, points, fills, benchmarks)


def run_engine(config: StrategyConfig, candles: dict, times, forecasts: dict[int, dict[str, Forecast]]):
    """(equity points, fills, limit events): the engine over the candles opening at ``times``, each with
    the forecasts made at its close (the live worker feeds it the same way, one close at a time)."""
    rows = {s: {int(t): i for i, t in enumerate(c.t)} for s, c in candles.items()}
    engine = Engine(config)
    points, fills, events = [], [], []
    for t in times:
        t = int(t)
        at = {s: rows[s][t] for s in candles if t in rows[s]}
        step = engine.on_candle(t, {s: float(candles[s].open[i]) for s, i in at.items()},
                                {s: float(candles[s].close[i]) for s, i in at.items()}, forecasts.get(t, {}))
        points.append(step.point)
        fills += step.fills
        events += step.events
    return points, fills, events


def _benchmarks(data_dir: Path, timeframe: str, times: np.ndarray, universe: list[str]) -> dict[str, np.ndarray]:
    """Buy-and-hold of the universe and the equal-weight market of every coin in the folder, on the closes
    the strategy saw, from 1.0 at the first candle's open (its close's value before any trade)."""
    if not len(times):
        return {"buy_and_hold": np.ones(1), "market": np.ones(1)}
    series = load_folder(data_dir, timeframe, None, int(times[0]), int(times[-1]) + TIMEFRAME_MS[timeframe])
    index = {int(t): i for i, t in enumerate(times)}
    closes = np.full((len(times) + 1, len(series)), np.nan)
    for j, c in enumerate(series):
        for t, o, cl in zip(c.t, c.open, c.close):
            if int(t) in index:
                closes[index[int(t)] + 1, j] = cl
                if index[int(t)] == 0:
                    closes[0, j] = o
    cols = [j for j, c in enumerate(series) if c.symbol in universe]
    return benchmark_curves(closes, cols)


def check_range(start: str, end: str, data_dir: Path, config: StrategyConfig) -> tuple[int, int]:
    """(start, end) in ms, or a 400 naming ``start`` or ``end``: each a date, start before end, and the range
    within the folder's candles of the strategy's timeframe (its coins', or every coin's for a top-N)."""
    times = []
    for field, text in (("start", start), ("end", end)):
        try:
            times.append(to_ms(text))
        except (TypeError, ValueError):
            raise BadRequest(f"--{field} {text!r} is not a date (ISO, e.g. 2025-01-01 or 2025-01-01T00:00:00Z)",
                             field=field, code="invalid_value") from None
    start_ms, end_ms = times
    if start_ms >= end_ms:
        raise BadRequest(f"--start {iso(start_ms)} is not before --end {iso(end_ms)}", field="end",
                         code="invalid_value")
    source, tf = CsvFolderSource(data_dir), config.timeframe
    symbols = source.symbols(tf) if isinstance(config.universe, TopUniverse) else list(config.universe)
    spans = [(int(c.t[0]), int(c.t[-1]) + TIMEFRAME_MS[tf]) for s in symbols if len(c := source.fetch(s, tf))]
    if not spans:
        raise BadRequest(f"the folder has no {tf} candles for the strategy's coins", field="universe",
                         code="invalid_value")
    first, last = min(a for a, _ in spans), max(b for _, b in spans)
    held = f"the folder's {tf} candles run from {iso(first)} to {iso(last)}"
    if start_ms < first:
        raise BadRequest(f"--start {iso(start_ms)} is before the folder's candles: {held}", field="start",
                         code="invalid_value")
    if end_ms > last:
        raise BadRequest(f"--end {iso(end_ms)} is after the folder's candles: {held}", field="end",
                         code="invalid_value")
    return start_ms, end_ms


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--strategy", required=True, type=Path, help="a strategy as JSON (API.md, Strategies)")
    ap.add_argument("--data-dir", required=True, type=Path)
    ap.add_argument("--start", required=True)
    ap.add_argument("--end", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--models-dir", type=Path, default=None, help="overrides MODELS_DIR")
    args = ap.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"), format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    models_dir = args.models_dir or settings.models_dir
    try:
        raw = json.loads(args.strategy.read_text())
        config = parse_strategy(raw, models=[*MODEL_IDS, ENSEMBLE_ID])
        config = parse_strategy(raw, models=[*MODEL_IDS, ENSEMBLE_ID],
                                symbols=CsvFolderSource(args.data_dir).symbols(config.timeframe))
        check_range(args.start, args.end, args.data_dir, config)
        from coinpredict.serving import ModelStore

        store = ModelStore(models_dir).load_all()
        result = run_backtest(config, data_dir=args.data_dir, start=args.start, end=args.end, store=store,
                              signal_fee_bps=settings.fee_bps)
    except (OSError, json.JSONDecodeError) as exc:
        print(f"error: cannot read the strategy: {exc}", file=sys.stderr)
        return 2
    except BadRequest as exc:
        print(json.dumps(exc.to_dict()), file=sys.stderr)
        return 2
    except ArtifactError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from coinpredict.cli.backtest_files import write_outputs

    write_outputs(result, args.out)
    s = result.summary
    print(f"{config.name}: {s['candles']} candles, {s['trades']} trades; net {s['return_net']:+.2%} "
          f"(gross {s['return_gross']:+.2%}), Sharpe {s['sharpe']:.2f}, max drawdown {s['max_drawdown']:.2%}; "
          f"buy-and-hold {s['buy_and_hold']['return']:+.2%}, market {s['market']['return']:+.2%}")
    print(f"report: {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
