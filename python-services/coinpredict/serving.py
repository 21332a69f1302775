"""Prediction without Flask: single, batch, top-N and ensemble, vectorised across symbols.

Candles and features for every symbol are built once per request; then each model needed runs one
batched forward pass over all the rows that need it. The same feature code as training is used.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict, defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from .config import Settings
from .data.candles import Candles, find_gaps
from .data.market import MarketData
from .data.symbols import normalise_symbol
from .data.universe import Universe
from .errors import BadRequest, NotFound, ServiceError, Unavailable
from .features.datasets import input_rows, min_history, table_rows
from .model_store import LoadedModel, ModelStore
from .models.ensemble import METHODS
from .models.registry import ENSEMBLE_ID, MODEL_IDS
from .training.pipeline import iso

log = logging.getLogger(__name__)


@dataclass
class PredictRequest:
    symbol: str
    timeframe: str = "1h"
    model: str = ENSEMBLE_ID
    horizon: int | None = None
    candles: Candles | None = None
    method: str | None = None


class ServingStats:
    """Per-model request, error and latency counters (last 2048 latencies for percentiles)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests: dict[str, int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.latency: dict[str, deque] = defaultdict(lambda: deque(maxlen=2048))

    def record(self, model_id: str, ms: float, ok: bool) -> None:
        with self._lock:
            self.requests[model_id] += 1
            if ok:
                self.latency[model_id].append(ms)
            else:
                self.errors[model_id] += 1

    def summary(self, model_id: str) -> dict:
        with self._lock:
            lat = np.array(self.latency[model_id]) if self.latency[model_id] else None
            return {"requests": self.requests[model_id], "errors": self.errors[model_id],
                    "p50_ms": round(float(np.percentile(lat, 50)), 2) if lat is not None else None,
                    "p95_ms": round(float(np.percentile(lat, 95)), 2) if lat is not None else None}


class FeatureCache:
    """LRU of the last feature rows per (symbol, timeframe, feature set, last candle)."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def signal_for(p: float, band: float) -> str:
    return "BUY" if p > 0.5 + band else "SELL" if p < 0.5 - band else "HOLD"


class Predictor:
    def __init__(self, settings: Settings, market: MarketData, store: ModelStore, universe: Universe | None = None,
                 no_trade_band: float = 0.01):
        self.settings = settings
        self.market = market
        self.store = store
        self.universe = universe or Universe(None if settings.offline else settings.universe_url)
        self.band = no_trade_band
        self.stats = ServingStats()
        self.features = FeatureCache()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="candles")
        # One intra-op thread per request: gunicorn's workers and threads parallelise across requests.
        torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))

    # -- resolving what a request needs ------------------------------------------------------------
    def members_for(self, tf: str, model: str) -> list[LoadedModel]:
        """The loaded models a request for ``model`` on ``tf`` needs; raises when it cannot be served."""
        if model == ENSEMBLE_ID:
            if tf not in self.store.ensembles:
                raise Unavailable(f"the ensemble is not trained for {tf}", code="model_not_ready", retry_after=60)
            weights = self.store.ensembles[tf][0].weights_
            members = [self.store.get(tf, m) for m in MODEL_IDS if m in weights]
            ready = [m for m in members if m.status == "ready"]
            if not ready:
                raise Unavailable(f"no ensemble member is ready for {tf}", code="model_not_ready", retry_after=60)
            return members
        if model not in MODEL_IDS:
            raise NotFound(f"unknown model {model!r}", field="model", code="unknown_model")
        entry = self.store.get(tf, model)
        if entry.status != "ready":
            raise Unavailable(f"model {model} is {entry.status} for {tf}: {entry.reason}",
                              code="model_not_ready", retry_after=60)
        return [entry]

    def _check_horizon(self, req: PredictRequest, entry: LoadedModel) -> None:
        trained = entry.manifest.get("horizon", 1)
        if req.horizon is not None and req.horizon != trained:
            raise BadRequest(f"{entry.model_id} predicts horizon {trained} on {req.timeframe}; "
                             f"horizon {req.horizon} is not trained", field="horizon", code="unsupported_horizon")

    def _candles(self, req: PredictRequest, need: int) -> Candles:
        if req.candles is not None:
            if len(req.candles) < need:
                raise BadRequest(f"too few candles: got {len(req.candles)}, need at least {need} "
                                 f"(send {self.settings.serve_lookback} for best results)", field="candles",
                                 code="too_few_candles", details={"needed": need, "got": len(req.candles)})
            return req.candles.last(self.settings.serve_lookback)
        candles = self.market.candles(req.symbol, req.timeframe, self.settings.serve_lookback)
        if len(candles) < need:
            raise Unavailable(f"only {len(candles)} candles of {req.symbol} on {req.timeframe}; need {need}",
                              code="insufficient_history", retry_after=300)
        return candles

    def _rows(self, candles: Candles, entry: LoadedModel, need_rows: int) -> np.ndarray:
        """Scaled last ``need_rows`` feature rows for one symbol and one model's feature set."""
        fs = entry.feature_set
        key = None
        if candles.source != "request":
            key = (candles.symbol, candles.timeframe, fs.hash, int(candles.t[-1]), len(candles), id(entry.scaler))
            hit = self.features.get(key)
            if hit is not None and len(hit) >= need_rows:
                return hit[-need_rows:]
        raw = fs.compute(candles)[-need_rows:]
        rows = entry.scaler.apply(raw)  # apply returns a new array; the computed matrix is not reused
        if key is not None:
            self.features.put(key, rows)
        return rows

    def _fetch_all(self, wanted: dict[tuple[str, str], tuple[PredictRequest, int]]) -> dict:
        """Candles for every distinct (symbol, timeframe); live fetches overlap in a thread pool."""

        def one(job):
            try:
                return self._candles(*job)
            except ServiceError as exc:
                return exc

        if self.market.mode == "live" and len(wanted) > 1:
            return dict(zip(wanted, self._pool.map(one, wanted.values())))
        return {key: one(job) for key, job in wanted.items()}

    # -- prediction ------------------------------------------------------------------------------
    def predict_many(self, reqs: list[PredictRequest]) -> list[dict | ServiceError]:
        started = time.perf_counter()
        results: list[dict | ServiceError | None] = [None] * len(reqs)
        members: dict[int, list[LoadedModel]] = {}
        candles: dict[int, Candles] = {}
        needs: dict[int, int] = {}
        for i, req in enumerate(reqs):
            try:
                if req.method is not None and req.method not in METHODS:
                    raise BadRequest(f"unknown ensemble method {req.method!r}; use one of {', '.join(METHODS)}",
                                     field="method", code="invalid_value")
                ms = self.members_for(req.timeframe, req.model)
                ready = [m for m in ms if m.status == "ready"]
                for m in ready:
                    self._check_horizon(req, m)
                needs[i] = max(min_history(m.manifest["window"]) for m in ready)
                members[i] = ms
            except ServiceError as exc:
                results[i] = exc
        wanted_candles: dict[tuple[str, str], tuple[PredictRequest, int]] = {}
        for i, need in needs.items():
            if reqs[i].candles is None:
                key = (reqs[i].symbol, reqs[i].timeframe)
                wanted_candles[key] = (reqs[i], max(need, wanted_candles.get(key, (None, 0))[1]))
        fetched = self._fetch_all(wanted_candles)
        for i in list(members):
            req = reqs[i]
            try:
                got = fetched[(req.symbol, req.timeframe)] if req.candles is None else self._candles(req, needs[i])
                if isinstance(got, ServiceError):
                    raise got
                candles[i] = got
            except ServiceError as exc:
                results[i] = exc
                del members[i]
        # Batch by model: one forward pass per model over every row that needs it.
        wanted: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, ms in members.items():
            for m in ms:
                if m.status == "ready":
                    wanted[(m.timeframe, m.model_id)].append(i)
        probs: dict[tuple[int, str], float] = {}
        failures: dict[tuple[int, str], str] = {}
        for (tf, model_id), rows in wanted.items():
            entry = self.store.get(tf, model_id)
            window = entry.manifest["window"]
            need_rows = input_rows(window)
            try:
                block = np.stack([self._rows(candles[i], entry, need_rows) for i in rows])
                if entry.model.input_kind == "sequence":
                    x = block[:, -window:, :]
                else:
                    flat = block.reshape(-1, block.shape[-1])
                    ends = np.arange(len(rows)) * need_rows + need_rows - 1
                    x = table_rows(flat, ends, entry.feature_set)
                with entry.lock:
                    p = entry.model.predict_proba(x)
                if not np.all(np.isfinite(p)):
                    raise ValueError("non-finite probability")
                for i, value in zip(rows, p):
                    probs[(i, model_id)] = float(value)
            except Exception as exc:  # noqa: BLE001 - one failing model degrades its answers only
                log.exception("model %s failed on a batch of %d", model_id, len(rows))
                for i in rows:
                    failures[(i, model_id)] = f"{exc.__class__.__name__}: {exc}"
        elapsed_ms = (time.perf_counter() - started) * 1000
        for i, req in enumerate(reqs):
            if results[i] is None:
                try:
                    results[i] = self._answer(req, members[i], candles[i], probs, failures, i, elapsed_ms)
                except ServiceError as exc:
                    results[i] = exc
            ok = not isinstance(results[i], ServiceError)
            self.stats.record(req.model, elapsed_ms, ok)
        return results  # type: ignore[return-value]

    def _answer(self, req, ms, candles, probs, failures, i, elapsed_ms) -> dict:
        tf = req.timeframe
        meta = candles.meta
        body = {"symbol": req.symbol, "timeframe": tf, "model": req.model,
                "as_of": iso(int(candles.t[-1])), "horizon": ms[0].manifest.get("horizon", 1) if ms else 1}
        if req.model == ENSEMBLE_ID:
            answered = {m.model_id: probs[(i, m.model_id)] for m in ms if (i, m.model_id) in probs}
            failed = {m.model_id: failures.get((i, m.model_id)) or f"{m.status}: {m.reason}"
                      for m in ms if (i, m.model_id) not in probs}
            if not answered:
                raise Unavailable("no ensemble member could answer", code="model_not_ready", retry_after=60,
                                  details={"failed_members": failed})
            ens, manifest = self.store.ensembles[tf]
            combo = ens.combine({k: np.array([v]) for k, v in answered.items()}, req.method)
            p = float(combo["probability_up"][0])
            body.update(members={k: round(v, 6) for k, v in answered.items()}, method=combo["method"],
                        weights={k: round(v, 6) for k, v in combo["weights"].items()},
                        uncertainty=round(float(combo["uncertainty"][0]), 6), failed_members=failed,
                        model_version=manifest["version"])
        else:
            entry = ms[0]
            if (i, entry.model_id) not in probs:
                raise Unavailable(f"model {entry.model_id} failed: {failures.get((i, entry.model_id))}",
                                  code="model_failed", retry_after=30)
            p = probs[(i, entry.model_id)]
            body["model_version"] = entry.version
        body.update(probability_up=round(p, 6), signal=signal_for(p, self.band), confidence=round(abs(2 * p - 1), 6),
                    latency_ms=round(elapsed_ms, 2), data_source=meta.get("data_source", candles.source),
                    candles_used=len(candles))
        gaps = find_gaps(candles.t, tf)
        if gaps:
            body["gaps"] = {"count": len(gaps), "missing_candles": sum(g["missing"] for g in gaps)}
        for key in ("data_stale", "last_candle_age_s", "warning", "stale_reason"):
            if meta.get(key) is not None:
                body[key] = meta[key]
        return body

    def predict_one(self, req: PredictRequest) -> dict:
        result = self.predict_many([req])[0]
        if isinstance(result, ServiceError):
            raise result
        return result

    def top(self, timeframe: str, model: str, limit: int) -> dict:
        started = time.perf_counter()
        self.members_for(timeframe, model)  # an unknown or unready model fails the whole call
        coins, origin = self.universe.top(100)
        available = self.market.symbols(timeframe)
        skipped, reqs = [], []
        for coin in coins:
            try:
                symbol = normalise_symbol(coin)
            except ValueError:
                skipped.append({"symbol": coin, "reason": "not a tradable symbol"})
                continue
            if available is not None and symbol not in available:
                skipped.append({"symbol": symbol, "reason": f"no market data on {timeframe}"})
            else:
                reqs.append(PredictRequest(symbol, timeframe, model))
        results = self.predict_many(reqs)
        ok = []
        for req, res in zip(reqs, results):
            if isinstance(res, ServiceError):
                skipped.append({"symbol": req.symbol, "reason": res.message})
            else:
                ok.append(res)
        ok.sort(key=lambda r: r["probability_up"], reverse=True)
        ok = ok[:limit]
        for rank, r in enumerate(ok, 1):
            r["rank"] = rank
        as_of = max((r["as_of"] for r in ok), default=None)
        return {"as_of": as_of, "universe": origin, "timeframe": timeframe, "model": model, "count": len(ok),
                "results": ok, "skipped": skipped, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def parse_candles(rows: list, symbol: str, timeframe: str) -> Candles:
    """Client candles ({t,o,h,l,c,v} or [t,o,h,l,c,v] rows, oldest first) -> Candles, or a clear 400."""
    import pandas as pd

    from .data.candles import off_grid, parse_times, row_faults

    if not isinstance(rows, list) or not rows:
        raise BadRequest("candles must be a non-empty list", field="candles", code="invalid_candles")
    try:
        if all(isinstance(r, dict) for r in rows):
            keys = {"t": ("t", "time", "timestamp"), "o": ("o", "open"), "h": ("h", "high"), "l": ("l", "low"),
                    "c": ("c", "close"), "v": ("v", "volume")}
            table = [[next((r[k] for k in names if k in r), None) for names in keys.values()] for r in rows]
        elif all(isinstance(r, (list, tuple)) and len(r) >= 6 for r in rows):
            table = [list(r[:6]) for r in rows]
        else:
            raise ValueError("each candle must be an object {t,o,h,l,c,v} or a row [t,o,h,l,c,v]")
        df = pd.DataFrame(table, columns=["t", "o", "h", "l", "c", "v"])
        t = parse_times(df["t"].astype(str) if df["t"].map(lambda x: isinstance(x, str)).any() else df["t"])
        vals = df[["o", "h", "l", "c", "v"]].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"unreadable candles: {exc}", field="candles", code="invalid_candles") from exc
    o, h, lo, c, v = vals.T
    problems = [f"{why} at rows {np.flatnonzero(rows)[:5].tolist()}"
                for rows, why in row_faults(t, o, h, lo, c, v) if rows.any()]
    if not problems:
        steps = np.diff(t)
        if (steps == 0).any():
            problems.append(f"duplicate times at rows {(np.flatnonzero(steps == 0) + 1)[:5].tolist()}")
        if (steps < 0).any():
            problems.append(f"times not sorted oldest first at rows {(np.flatnonzero(steps < 0) + 1)[:5].tolist()}")
        misaligned = np.flatnonzero(off_grid(t, timeframe))
        if len(misaligned):
            problems.append(f"times not on the {timeframe} grid at rows {misaligned[:5].tolist()}")
    if problems:
        raise BadRequest("invalid candles: " + "; ".join(problems), field="candles", code="invalid_candles")
    return Candles.from_arrays(symbol, timeframe, t, o, h, lo, c, v, source="request",
                               meta={"data_source": "request"})
