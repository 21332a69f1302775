"""Gathering candles: the client's own (checked for length) or the market's, each distinct
(symbol, timeframe) fetched once per call; live fetches overlap in a thread pool. The anchor candles
the models' market context reads (BTCUSDT...) are gathered once per call and timeframe alongside, and
the cross-sectional market once per timeframe and close (``serving.market``)."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from ..data.candles import Candles
from ..data.market import MarketData
from ..data.timeframes import TIMEFRAME_MS
from ..errors import BadRequest, NotFound, ServiceError, Unavailable
from ..features.market_context import MarketFrame
from .market import MarketCache
from .requests import Plan, PredictRequest, moment

log = logging.getLogger(__name__)


class Call(NamedTuple):
    deadline: float  # time.monotonic() after which no wait on the exchange begins
    asked_at: float  # clock seconds: the call reads the market as of this moment


class CandleGatherer:
    def __init__(self, market: MarketData, lookback: int, workers: int = 8):
        self.market = market
        self.lookback = lookback
        self.market_cache = MarketCache(market, lookback)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="candles")

    def own(self, candles: Candles, need: int, now: float, as_of_ms: int | None = None) -> Candles:
        """The client's candles, if there are enough of them (the last ``lookback`` up to ``as_of_ms`` are
        used); their freshness is judged at ``now``."""
        if as_of_ms is not None:
            candles = candles.until(as_of_ms + TIMEFRAME_MS[candles.timeframe])
        if len(candles) < need:
            upto = "" if as_of_ms is None else " up to as_of"
            raise BadRequest(f"too few candles{upto}: got {len(candles)}, need at least {need} "
                             f"(send {self.lookback} for best results)", field="candles",
                             code="too_few_candles", details={"needed": need, "got": len(candles)})
        used = candles.last(self.lookback)
        age = round(now - used.last_close_time_ms / 1000, 1)  # how old the last candle sent is
        used.meta.update(last_candle_age_s=age, data_stale=self.market.is_stale(age, candles.timeframe))
        return used

    def fetch(self, symbol: str, timeframe: str, need: int, deadline: float | None = None,
              now: float | None = None, past: bool = False) -> Candles:
        """The market's last ``lookback`` candles as of ``now``; 503 when it has fewer than ``need`` (404 for
        a ``past`` moment: waiting will not give it more history then)."""
        try:
            candles = self.market.candles(symbol, timeframe, self.lookback, deadline=deadline, now=now)
        except NotFound as exc:
            if past:  # the coin may have candles, only none that early
                raise NotFound(f"{exc.message} up to as_of", field=exc.field, code=exc.code) from exc
            raise
        if len(candles) < need:
            message = f"only {len(candles)} candles of {symbol} on {timeframe}; need {need}"
            if past:
                raise NotFound(message + " up to as_of", field="as_of", code="insufficient_history")
            raise Unavailable(message, code="insufficient_history", retry_after=300, fault=False)
        return candles

    def start_call(self) -> Call:
        """One deadline for a whole call (its anchors included), and the moment every symbol is read as of."""
        return Call(time.monotonic() + self.market.settings.fetch_deadline_s, self.market.clock())

    def gather(self, reqs: list[PredictRequest], plans: dict[int, Plan],
               call: Call | None = None) -> dict[int, Candles | ServiceError]:
        """Candles (or the error refusing them) for every planned request, by request index."""
        call = call or self.start_call()
        wanted: dict[tuple[str, str, int | None], int] = {}
        for i, plan in plans.items():
            if reqs[i].candles is None:
                key = (reqs[i].symbol, reqs[i].timeframe, reqs[i].as_of_ms)
                wanted[key] = max(plan.need, wanted.get(key, 0))

        def one(key_need):
            (symbol, tf, as_of_ms), need = key_need
            try:
                return self.fetch(symbol, tf, need, call.deadline, moment(as_of_ms, tf, call.asked_at),
                                  past=as_of_ms is not None)
            except ServiceError as exc:
                return exc

        if self.market.parallel and len(wanted) > 1:
            fetched = dict(zip(wanted, self._pool.map(one, wanted.items())))
        else:
            fetched = {key: one((key, need)) for key, need in wanted.items()}
        out: dict[int, Candles | ServiceError] = {}
        for i, plan in plans.items():
            req = reqs[i]
            if req.candles is None:
                out[i] = fetched[(req.symbol, req.timeframe, req.as_of_ms)]
                continue
            try:
                out[i] = self.own(req.candles, plan.need, req.moment(call.asked_at), req.as_of_ms)
            except ServiceError as exc:
                out[i] = exc
        return out

    def anchor(self, symbol: str, timeframe: str, end_ms: int | None, deadline: float | None = None,
               now: float | None = None) -> Candles | None:
        """The market's last candles of an anchor (opened before ``end_ms`` when given); None when the
        market has none: the context features are then missing (NaN, flag 0), the prediction is not refused."""
        try:
            return self.market.candles(symbol, timeframe, self.lookback, end_ms=end_ms, deadline=deadline, now=now)
        except ServiceError as exc:
            log.info("no anchor candles %s %s: %s", symbol, timeframe, exc)
            return None

    def anchors(self, reqs: list[PredictRequest], plans: dict[int, Plan], candles: dict[int, Candles],
                call: Call | None = None) -> dict[int, dict[str, Candles]]:
        """Anchor candles by request index and anchor symbol, for the anchors its ready models read: the
        market's anchor candles up to the request's own last candle (the batch's own when it asks for the
        anchor up to the same candle), so a coin and its context always end at the same hour."""
        call = call or self.start_call()
        fetched: dict[tuple[str, str, int | None], Candles | None] = {}
        for i, c in candles.items():
            if reqs[i].candles is None:
                fetched[(reqs[i].symbol, reqs[i].timeframe, int(c.t[-1]) + TIMEFRAME_MS[reqs[i].timeframe])] = c
        out: dict[int, dict[str, Candles]] = {}
        for i, plan in plans.items():
            wanted = plan.anchors
            if i not in candles or not wanted:
                continue
            c, tf = candles[i], reqs[i].timeframe
            end = int(c.t[-1]) + TIMEFRAME_MS[tf]
            for symbol in wanted:
                key = (symbol, tf, end)
                if key not in fetched:
                    fetched[key] = self.anchor(symbol, tf, end, call.deadline, call.asked_at)
            out[i] = {s: fetched[(s, tf, end)] for s in wanted if fetched[(s, tf, end)] is not None}
        return out

    def markets(self, reqs: list[PredictRequest], candles: dict[int, Candles], wanted: set[int],
                call: Call | None = None) -> dict[int, MarketFrame]:
        """The cross-sectional market by request index, for the ``wanted`` requests (whose models read it),
        as of each one's own last candle: built once per timeframe and close and kept. A market that
        cannot be built leaves those features missing (flag 0); the prediction is not refused."""
        call = call or self.start_call()
        out: dict[int, MarketFrame] = {}
        for i in sorted(wanted & set(candles)):
            tf = reqs[i].timeframe
            try:
                out[i] = self.market_cache.frame(tf, int(candles[i].t[-1]) + TIMEFRAME_MS[tf], call.asked_at)
            except Exception:  # noqa: BLE001 - the market is context: missing, never a failed answer
                log.exception("market context %s could not be built", tf)
        return out
