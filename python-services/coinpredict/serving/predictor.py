"""The one entry point the API and evaluation use: predict_many / predict_one / top, wired from the
parts (resolve -> gather -> score -> answer, and rank for top-N)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from ..common.clock import market_time
from ..common.signals import cost_bps
from ..config import Settings
from ..data.candles import Candles
from ..data.market import MarketData
from ..data.timeframes import TIMEFRAME_MS
from ..data.universe import Universe
from ..errors import ServiceError
from ..models.registry import ENSEMBLE_ID
from .answers import SharedParts, build_answer, ensemble_parts
from .features import FeatureCache, context_part
from .gather import CandleGatherer
from .model_store import LoadedModel, ModelStore
from .move import MoveScale, move_scales
from .ranking import rank, universe_requests
from .requests import Plan, PredictRequest, check_as_of
from .resolve import default_horizon, members_for, plan_for
from .scoring import Scores, score


def reads_market(store: ModelStore, reqs: list[PredictRequest], plans: dict[int, Plan]) -> set[int]:
    """The requests whose models (direction, or their timeframe's move model) read the market (``mkt_*``)."""
    out = set()
    for i, plan in plans.items():
        move = store.moves.get(reqs[i].timeframe)
        if plan.reads_market or (move is not None and move.status == "ready" and move.feature_set.reads_market):
            out.add(i)
    return out


class Predictor:
    def __init__(self, settings: Settings, market: MarketData, store: ModelStore, universe: Universe | None = None):
        self.settings = settings
        self.market = market
        # The models and the feature rows scaled for them change together, in one assignment (swap), and
        # each call reads the pair once: a reload never mixes one store's models with another's cache.
        self._serving = (store, FeatureCache())
        self._swap_lock = threading.Lock()
        self.universe = universe or Universe(None if settings.offline else settings.universe_url)
        self.cost_bps = cost_bps(settings.fee_bps)
        self.candles = CandleGatherer(market, settings.serve_lookback)

    @classmethod
    def offline(cls, store: ModelStore, data_dir: Path | None = None) -> Predictor:
        """A predictor that answers for candles handed to it (evaluation, scripts); the market context
        (anchor candles at the same times) comes from the OHLCV folder ``data_dir`` when given."""
        settings = Settings(offline=True, ohlcv_dir=Path(data_dir or "."))
        return cls(settings, MarketData(settings), store)

    @property
    def store(self) -> ModelStore:
        return self._serving[0]

    @property
    def features(self) -> FeatureCache:
        return self._serving[1]

    def swap(self, load: Callable[[], ModelStore]) -> ModelStore:
        """Serve the store ``load`` builds, with a fresh feature cache; concurrent reloads load one at a time
        (``load`` runs under the lock, so it may read the store being served). A ``load`` that returns the
        store being served changes nothing."""
        with self._swap_lock:
            store = load()
            if store is not self._serving[0]:
                self._serving = (store, FeatureCache())
            return store

    def members_for(self, tf: str, model: str, horizon: int | None = None) -> list[LoadedModel]:
        return members_for(self.store, tf, model, horizon)

    def predict_many(self, reqs: list[PredictRequest]) -> list[dict | ServiceError]:
        """One answer or ServiceError per request, in order; candles and features are built once per
        symbol, and each model runs once over every request that needs it."""
        started = time.perf_counter()
        store, features = self._serving
        results: list[dict | ServiceError | None] = [None] * len(reqs)
        plans: dict[int, Plan] = {}
        call = self.candles.start_call()
        resolved: dict[tuple, Plan | ServiceError] = {}  # requests asking the same thing share one plan
        for i, req in enumerate(reqs):
            try:
                check_as_of(req.as_of_ms, req.timeframe, call.asked_at)
                key = (req.timeframe, req.model, req.horizon, req.method)
                if key not in resolved:
                    try:
                        resolved[key] = plan_for(store, req)
                    except ServiceError as exc:
                        resolved[key] = exc
                if isinstance(resolved[key], ServiceError):
                    raise resolved[key]
                plans[i] = resolved[key]
            except ServiceError as exc:
                results[i] = exc
        candles: dict[int, Candles] = {}
        for i, got in self.candles.gather(reqs, plans, call).items():
            if isinstance(got, ServiceError):
                results[i] = got
            else:
                candles[i] = got
        anchors = self.candles.anchors(reqs, plans, candles, call)
        markets = self.candles.markets(reqs, candles, reads_market(store, reqs, plans), call)
        scores = score(plans, candles, features, anchors, markets)
        moves = move_scales(store, reqs, plans, candles, features, anchors, markets)
        self._answer(reqs, plans, candles, anchors, scores, results, store, started, moves)
        if shown := market_time(call.asked_at):
            for result in results:
                if isinstance(result, dict):
                    result["market_time"] = shown
        return results  # type: ignore[return-value]

    def _answer(self, reqs: list[PredictRequest], plans: dict[int, Plan], candles: dict[int, Candles],
                anchors: dict[int, dict[str, Candles]], scores: Scores, results: list, store: ModelStore,
                started: float, moves: dict[int, MoveScale]) -> None:
        """Fill ``results`` for every scored request; each timeframe's ensemble requests are combined at once."""
        todo = [i for i, res in enumerate(results) if res is None]
        by_tf: dict[str, list[tuple[int, Plan, str | None]]] = defaultdict(list)
        for i in todo:
            if reqs[i].model == ENSEMBLE_ID:
                by_tf[reqs[i].timeframe].append((i, plans[i], reqs[i].method))
        combined = {}
        for tf, items in by_tf.items():
            combined.update(ensemble_parts(items, scores, store.ensembles.get(tf)))
        shared = SharedParts()
        elapsed_ms = (time.perf_counter() - started) * 1000
        for i in todo:
            req, plan = reqs[i], plans[i]
            try:
                results[i] = build_answer(i, req, plan, candles[i], scores, cost_bps=self.cost_bps,
                                          ensemble=store.ensembles.get(req.timeframe), elapsed_ms=elapsed_ms,
                                          combined=combined.get(i), shared=shared, move=moves.get(i))
            except ServiceError as exc:
                results[i] = exc
                continue
            if plan.anchors or plan.reads_optional:
                results[i]["context"] = context_part(candles[i], anchors.get(i, {}), plan.anchors)

    def predict_one(self, req: PredictRequest) -> dict:
        result = self.predict_many([req])[0]
        if isinstance(result, ServiceError):
            raise result
        return result

    def probability(self, candles: Candles, timeframe: str, model: str, horizon: int | None = None) -> float:
        """probability_up as served for ``candles`` (a history handed in, e.g. cut at a past time)."""
        return self.predict_one(PredictRequest(candles.symbol, timeframe, model, horizon, candles))["probability_up"]

    def top(self, timeframe: str, model: str, limit: int, horizon: int | None = None,
            as_of_ms: int | None = None, rank_by: str = "up") -> dict:
        """The universe ranked (by ``probability_up``, or ``rank_by="outperform"``: by
        ``probability_outperform``) as of the newest closed candle, or as of the past close ``as_of_ms``; a
        coin whose newest candle by then is stale is skipped with its age, never ranked beside current ones."""
        started = time.perf_counter()
        now = self.market.clock()
        check_as_of(as_of_ms, timeframe, now)  # a bad as_of fails the whole call, like an unknown model
        self.members_for(timeframe, model, horizon)  # an unknown or unready model or horizon fails the whole call
        reqs, skipped, origin = universe_requests(self.universe, self.market, timeframe, model, horizon, as_of_ms)
        stale_after_s = self.settings.stale_after_candles * TIMEFRAME_MS[timeframe] / 1000
        ranked, failed = rank(reqs, self.predict_many(reqs), limit, stale_after_s, rank_by)
        as_of = max((r["as_of"] for r in ranked), default=None)
        answer = {"as_of": as_of, "universe": origin, "timeframe": timeframe,
                  "horizon": default_horizon(timeframe) if horizon is None else horizon, "model": model,
                  "rank_by": rank_by,
                  "count": len(ranked),
                  "results": ranked, "skipped": skipped + failed,
                  "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
        if shown := market_time(now):
            answer["market_time"] = shown
        return answer
