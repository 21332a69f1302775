"""``scripts/evaluate.py``: score trained models out of sample, never training anything.

Features are computed causally over each symbol's whole history; every prediction at t uses rows
up to t only. A look-ahead audit re-predicts a sample of times through the serving code from
history cut at t, so the numbers here are the numbers ``/predict/single`` gives. Evaluation does not
import serving: the caller (``scripts/evaluate.py``) hands in the loaded models and a ``Serve``
callable that answers through the serving path (``serving.Predictor.probability``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common.files import write_atomic_text
from ..common.metrics import classification_metrics, clustered_auc_ci, skill
from ..common.signals import cost_bps, expected_move_bps
from ..common.times import iso, to_ms
from ..config import Settings
from ..data.candles import Candles
from ..data.sources.csvdir import load_folder
from ..data.timeframes import TIMEFRAME_MS
from ..errors import ArtifactError
from ..features.context import load_anchors
from ..features.datasets import PooledData, build_pooled
from ..features.market_context import MarketFrame, folder_market, forward_means
from ..models.artifacts import EVALUATION_FILE
from ..models.ensemble import Ensemble
from ..models.ensemble_rules import BOOSTERS
from ..models.registry import ENSEMBLE_ID, MODEL_IDS
from .audit import lookahead_audit
from .backtest import backtest
from .baselines import baseline_probabilities, fitted_baseline
from .move import move_section, served_move, served_move_bps
from .publish import publish_report
from .ranking import ranking_quality
from .relative import outperform_sections

log = logging.getLogger(__name__)
CHUNK = 8192
Serve = Callable[[Candles, str, str, int], float]  # (history, timeframe, model id, horizon) -> probability_up


def _score(y, p, fut, sym, t, move, timeframe, horizon, fee_bps) -> dict:
    m = classification_metrics(y, p, fut)
    # Every coin's forecast of one candle shares that candle's market move: one cluster per candle (and per
    # the candles an overlapping label spans), not one independent draw per row.
    m["auc_ci95"] = list(clustered_auc_ci(y, p, t // (horizon * TIMEFRAME_MS[timeframe])))
    bt = backtest(p, fut, sym, t, move_bps=move, timeframe=timeframe, horizon=horizon, fee_bps=fee_bps)
    m["skill"] = skill(m["auc_ci95"])
    curves = {k: bt.pop(k) for k in ("equity_times", "equity_net", "equity_hold")}
    m["backtest"] = bt
    m["ranking"] = ranking_quality(p, fut, sym, t, horizon=horizon, fee_bps=fee_bps)
    return m, curves


def _model_probabilities(ready: dict, series: list[Candles], start_ms: int, end_ms: int, horizon: int,
                         anchors: dict[str, Candles] | None = None, market: MarketFrame | None = None,
                         forward: dict | None = None):
    """Every ready model's probabilities at ``horizon`` on the rows in [start, end) whose outcome is
    known: features built once per feature set, window and scaler, models run in chunks. Returns
    (probs by id, pooled data, row ends, the relative target's probabilities by id for the models that
    have it); the data's one label column is ``horizon``'s (``forward`` labels its relative target)."""
    groups: dict[tuple, list[str]] = {}
    for m, entry in ready.items():
        groups.setdefault((entry.feature_set.hash, entry.manifest.window, id(entry.scaler)), []).append(m)
    probs: dict[str, np.ndarray] = {}
    relative: dict[str, np.ndarray] = {}
    ends_ref = ref = None
    for (_, window, _), ids in groups.items():
        entry = ready[ids[0]]
        data = build_pooled(series, entry.feature_set, window=window, horizons=(horizon,), anchors=anchors,
                            market=market, forward=forward)
        ends = data.select(start_ms, end_ms)
        data.scale(entry.scaler)
        if ends_ref is None:
            ends_ref, ref = ends, data
        elif not np.array_equal(data.t[ends], ref.t[ends_ref]):
            raise ArtifactError("models were trained with different windows; evaluate them separately")
        for m in ids:
            model, column = ready[m].model, ready[m].horizons.index(horizon)
            other = ready[m].manifest.output_column("outperform", horizon)
            out = [model.predict_proba(data.windows(ends[lo:lo + CHUNK]) if model.input_kind == "sequence"
                                       else data.tables(ends[lo:lo + CHUNK]))
                   for lo in range(0, len(ends), CHUNK)]
            probs[m] = np.concatenate([o[:, column] for o in out]) if out else np.zeros(0)
            if other is not None:
                relative[m] = np.concatenate([o[:, other] for o in out]) if out else np.zeros(0)
            log.info("scored %s on %d rows", m, len(ends))
    return probs, ref, ends_ref, relative


def _folder_market(data_dir: Path, timeframe: str, entries: list, series: list[Candles],
                   last_ms: int) -> MarketFrame | None:
    """The whole folder's market when any model reads it, whatever ``symbols`` selects (as training
    built it); candles after ``end`` only reach rows after them (the market is causal)."""
    if not any(e is not None and e.feature_set is not None and e.feature_set.reads_market for e in entries):
        return None
    return folder_market(Path(data_dir), timeframe, series, None, last_ms)


@dataclass
class Scored:
    """Every requested model's probabilities on the rows ``ends`` of ``data`` (the ensemble's too when it
    was asked for), and the expected move each row's served signal uses."""

    probs: dict[str, np.ndarray]
    ready: dict  # model id -> the store's entry that scored
    data: PooledData
    ends: np.ndarray
    series: dict[str, Candles]
    anchors: dict[str, Candles] | None
    mover: tuple | None  # the served move model and its rows; None where the rule serves
    rule_move: np.ndarray
    move: np.ndarray  # what the served signal uses (the move model's where it serves, else the rule's)
    ensemble: Ensemble | None = None  # the served ensemble's rule at this horizon, when it was combined
    outperform: dict[str, np.ndarray] | None = None  # probability_outperform by id, for the models that have it


def score_rows(store, *, data_dir: Path, timeframe: str, start_ms: int, end_ms: int, horizon: int,
               symbols: list[str] | None = None, model_ids: list[str] | None = None) -> Scored:
    """The scoring path evaluation and ``scripts/backtest.py`` share: the ready models of ``store`` at
    ``horizon`` on every labelled row in [start, end), with the ensemble combined as the service combines
    it, and the served expected move."""
    wanted = [m for m in (model_ids or MODEL_IDS) if m != ENSEMBLE_ID]
    entries = {m: store.get(timeframe, m) for m in wanted}
    ready = {m: e for m, e in entries.items() if e.status == "ready" and horizon in e.horizons}
    if not ready:
        raise ArtifactError(f"no trained models for {timeframe} at horizon {horizon}")
    # Candles after ``end`` are read only to label the last predictions; never to make them.
    last_ms = end_ms + horizon * TIMEFRAME_MS[timeframe]
    series = {c.symbol: c for c in load_folder(Path(data_dir), timeframe, symbols, None, last_ms)}
    needed = tuple(dict.fromkeys(a for entry in ready.values() for a in entry.feature_set.anchors))
    anchors = load_anchors(Path(data_dir), timeframe, needed, list(series.values()), None, last_ms)
    market = _folder_market(data_dir, timeframe, [*ready.values(), getattr(store, "moves", {}).get(timeframe)],
                            list(series.values()), last_ms)
    # The relative target's label: the coin against the mean of the evaluated coins over the same candles.
    forward = forward_means(list(series.values()), timeframe, (horizon,))
    probs, data, ends, relative = _model_probabilities(ready, list(series.values()), start_ms, end_ms, horizon,
                                                       anchors, market, forward)
    sym = data.symbol_index[ends]
    # The expected move the served signal uses, from each symbol's own candles up to t.
    rule_move = expected_move_bps(data.close, ends, horizon=horizon, first=np.searchsorted(data.symbol_index, sym))
    # None: the rule serves
    mover = served_move(store, timeframe, list(series.values()), anchors, data, horizon, market)
    move = rule_move if mover is None else served_move_bps(mover, ends, horizon)
    ens = None
    if timeframe in store.ensembles and (model_ids is None or ENSEMBLE_ID in model_ids):
        ensembles = store.ensembles[timeframe][0]
        ens = ensembles.for_horizon(horizon) if horizon in ensembles.horizons else None
        members = {m: p for m, p in probs.items() if ens is not None and m in ens.weights_}
        if members:
            probs[ENSEMBLE_ID] = ens.combine(members)["probability_up"]
        having = {m: p for m, p in relative.items() if ens is not None and m in ens.weights_}
        if members and having:  # as served: the same rule over the members that predict the relative target
            relative[ENSEMBLE_ID] = ens.combine(having)["probability_up"]
    return Scored(probs, ready, data, ends, series, anchors, mover, rule_move, move, ens, relative)


def evaluate(*, data_dir: Path, timeframe: str, start: str, end: str, models_dir: Path, out_dir: Path, store,
             serve: Serve, symbols: list[str] | None = None, model_ids: list[str] | None = None,
             fee_bps: float = Settings.fee_bps, audit_samples: int = 24, seed: int = 0,
             lookback: int = Settings.serve_lookback, horizon: int = 1, write_predictions: bool = False,
             publish: bool = True) -> dict:
    """Score the models of ``store`` (loaded from ``models_dir``: ``get(tf, id)`` entries with status,
    model, manifest, horizons, feature_set and scaler; ``ensembles[tf]``) on [start, end); ``serve`` is the
    serving path the look-ahead audit re-predicts through. Every model is scored at ``horizon``;
    ``write_predictions`` also writes every row's probabilities to ``predictions.csv``; ``publish`` puts the
    report and its plots into ``models_dir`` for the service (``publish.publish_report``)."""
    started = time.time()
    start_ms, end_ms = to_ms(start), to_ms(end)
    scored = score_rows(store, data_dir=data_dir, timeframe=timeframe, start_ms=start_ms, end_ms=end_ms,
                        horizon=horizon, symbols=symbols, model_ids=model_ids)
    probs, data, ends, series, anchors = scored.probs, scored.data, scored.ends, scored.series, scored.anchors
    mover, rule_move, move = scored.mover, scored.rule_move, scored.move
    y = data.labels[ends, 0].astype(np.float64)
    close = data.close
    fut = close[ends + horizon] / close[ends] - 1
    prev = close[ends] / close[ends - 1] - 1
    sym, t = data.symbol_index[ends], data.t[ends]
    report = {"timeframe": timeframe, "horizon": horizon, "start": iso(start_ms), "end": iso(end_ms),
              "symbols": sorted({data.symbols[s] for s in np.unique(sym)}), "n_rows": int(len(ends)),
              "fee_bps": fee_bps, "cost_bps": cost_bps(fee_bps), "evaluated_at": iso(int(started * 1000)),
              "models": {}, "baselines": {}, "per_symbol": {}}
    curves = {}
    for name, p in probs.items():
        report["models"][name], curves[name] = _score(y, p, fut, sym, t, move, timeframe, horizon, fee_bps)
        report["per_symbol"][name] = {
            data.symbols[s]: {"n": int((sym == s).sum()),
                              **{k: v for k, v in classification_metrics(y[sym == s], p[sym == s]).items()
                                 if k in ("auc", "accuracy", "log_loss")}}
            for s in np.unique(sym)}
    train_rate = float(np.nanmean(data.labels[data.t < start_ms, 0])) if (data.t < start_ms).any() else 0.5
    for name, p in baseline_probabilities(prev, train_rate, seed).items():
        report["baselines"][name], curves[f"baseline:{name}"] = _score(y, p, fut, sym, t, move, timeframe,
                                                                        horizon, fee_bps)
    if scored.outperform:
        outperform_sections(report, scored.outperform, data.outperform[ends, 0].astype(np.float64), fut, sym, t,
                            fee_bps)
    report["ensemble_comparison"] = _ensemble_comparison(report, probs, (y, fut, sym, t, move), scored.ensemble,
                                                         fee_bps)
    trained_on = (next(iter(scored.ready.values())).manifest.training or {}).get("train")
    _score_fitted_baseline(report, curves, series, anchors, data, ends, (y, fut, sym, t, move), start_ms, trained_on,
                           fee_bps)
    if mover is not None:
        report["move"] = move_section(mover, ends, horizon, start_ms, timeframe, probs.get(ENSEMBLE_ID),
                                      _move_backtests(probs, fut, sym, t, rule_move, move, timeframe, horizon, fee_bps))
    report["audit"] = _audit(serve, series, probs, data, ends, timeframe, audit_samples, seed, lookback, horizon)
    report["seconds"] = round(time.time() - started, 1)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic_text(out_dir / "metrics.json", json.dumps(report, indent=1, default=float))
    if write_predictions:
        _write_predictions(out_dir / "predictions.csv", probs, data, ends, y)
    # What /models/<id>/status shows as "test": the default horizon's evaluation.
    if horizon == 1:
        write_atomic_text(Path(models_dir) / timeframe / EVALUATION_FILE, json.dumps(report, default=float))
    from .report import write_report

    plots = write_report(report, curves, probs, y, out_dir, store=store, data=data, ends=ends, timeframe=timeframe)
    if publish:
        publish_report(report, plots, out_dir, models_dir)
    return report


def _score_fitted_baseline(report, curves, series, anchors, data, ends, scored, start_ms, trained_on,
                           fee_bps) -> None:
    """The logistic regression on recent scaled returns (``baselines.fitted_baseline``), fitted on the
    models' training period (``trained_on``: first and last training row; every row before the test period
    for models that do not say), outcomes closed before the test period; each model's AUC above it beside."""
    y, fut, sym, t, move = scored
    timeframe, horizon = report["timeframe"], report["horizon"]
    step = TIMEFRAME_MS[timeframe]
    first, last = (to_ms(trained_on[0]), to_ms(trained_on[1]) + 1) if trained_on else (None, start_ms)
    train = data.select(first, min(last, start_ms), label_before_ms=start_ms, horizon_ms=(horizon + 1) * step)
    btc = series.get("BTCUSDT") or (anchors or {}).get("BTCUSDT")
    p = fitted_baseline(series, btc, data.symbols, data.symbol_index, data.t, data.labels[:, 0], train, ends)
    name = "fitted_reversal"
    report["baselines"][name], curves[f"baseline:{name}"] = _score(y, p, fut, sym, t, move, timeframe, horizon,
                                                                    fee_bps)
    bar = report["baselines"][name]["auc"]
    for m in report["models"].values():
        m["auc_above_fitted_baseline"] = None if bar is None or m.get("auc") is None else m["auc"] - bar
    report["fitted_baseline"] = {
        "model": "logistic regression on the coin's and BTC's last 1, 2, 3 volatility-scaled returns",
        "train_rows": int(len(train)), "auc": bar,
        "models_not_above": sorted(n for n, m in report["models"].items()
                                   if m["auc_above_fitted_baseline"] is None or m["auc_above_fitted_baseline"] <= 0)}


def _ensemble_comparison(report, probs, scored, ens, fee_bps) -> dict | None:
    """The ensemble beside its best member on this period (chosen in hindsight: the bar it should stay
    near), the equal-weight mean of every member scored and the boosters' mean."""
    members = {m: p for m, p in probs.items() if m != ENSEMBLE_ID}
    if not members:
        return None
    y, fut, sym, t, move = scored
    timeframe, horizon = report["timeframe"], report["horizon"]

    def summary(m: dict) -> dict:
        return {"auc": m.get("auc"), "auc_ci95": m.get("auc_ci95"), "log_loss": m.get("log_loss"),
                "rank_ic": (m.get("ranking") or {}).get("rank_ic")}

    def mean_of(ids: list[str]) -> dict | None:
        if not ids:
            return None
        scored_mean, _ = _score(y, np.mean([members[i] for i in ids], axis=0), fut, sym, t, move, timeframe,
                                horizon, fee_bps)
        return {"members": sorted(ids), **summary(scored_mean)}

    best = max(members, key=lambda m: report["models"][m].get("auc") or 0.0)
    out = {"best_member": {"model": best, **summary(report["models"][best])},
           "mean_all": mean_of(list(members)), "mean_boosters": mean_of([m for m in members if m in BOOSTERS]),
           "ensemble": None, "ensemble_minus_best_member": None}
    if ENSEMBLE_ID in probs:
        out["ensemble"] = {"rule": ens.rule, "members": ens.ranking_[: ens.top_k],
                           **summary(report["models"][ENSEMBLE_ID])}
        if out["ensemble"]["auc"] is not None and out["best_member"]["auc"] is not None:
            out["ensemble_minus_best_member"] = out["ensemble"]["auc"] - out["best_member"]["auc"]
    return out


def _move_backtests(probs, fut, sym, t, rule_move, model_move, timeframe, horizon, fee_bps) -> dict:
    """The default answer's signal (the ensemble's, else the first model's) traded with the rule's expected
    move and with the move model's, side by side."""
    name = ENSEMBLE_ID if ENSEMBLE_ID in probs else next(iter(probs))
    keys = ("sharpe_net", "return_net", "max_drawdown", "trades", "turnover")
    out = {"signal_of": name}
    for label, move in (("rule", rule_move), ("model", model_move)):
        bt = backtest(probs[name], fut, sym, t, move_bps=move, timeframe=timeframe, horizon=horizon, fee_bps=fee_bps)
        out[label] = {k: bt[k] for k in keys if k in bt}
    return out


def _write_predictions(path: Path, probs: dict, data, ends, y) -> None:
    """One row per (symbol, candle): its label and every model's probability_up, full precision."""
    import pandas as pd

    frame = pd.DataFrame({"symbol": [data.symbols[s] for s in data.symbol_index[ends]], "as_of": data.t[ends],
                          "outcome_up": y.astype(int), **{m: p for m, p in probs.items()}})
    tmp = path.with_suffix(".tmp")
    frame.to_csv(tmp, index=False, float_format="%.17g")
    tmp.replace(path)


def _audit(serve: Serve, series, probs, data, ends, timeframe, samples, seed, lookback, horizon) -> dict:
    """Re-predict sampled rows through the serving path from history cut at t (no later candle)."""
    if samples <= 0 or not len(ends):
        return {"checked": 0, "mismatches": []}
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(ends), min(samples, len(ends)), replace=False)
    audited = {}
    for name in [m for m in probs if m != ENSEMBLE_ID][:4] + ([ENSEMBLE_ID] if ENSEMBLE_ID in probs else []):
        rows = [(data.symbols[data.symbol_index[ends[i]]], int(data.t[ends[i]]), float(probs[name][i])) for i in picks]

        def probability_at(candles, name=name):
            return serve(candles, timeframe, name, horizon)

        audited[name] = lookahead_audit(series, rows, probability_at, lookback=lookback)
    return {"checked": sum(a["checked"] for a in audited.values()), "models": sorted(audited), "mismatches": []}
