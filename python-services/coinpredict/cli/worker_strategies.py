"""The worker's strategies duty wired to the service (``strategy.live.LiveRunner`` imports none of it).

- candles: the closed candle of each coin at the close, from the service's market (the live store the
  worker keeps current, or the folder); a coin whose candle is not there yet is missing, never filled in;
- forecasts: the ones the service served and recorded in the ledger for that close (the newest per coin);
  the missing ones are computed through the serving path (``Predictor.predict_many`` with ``as_of`` the
  close: the same candles, features, models and expected move as a served answer, from the worker's own
  copy of ``MODELS_DIR``, reloaded when it changes) and recorded in the ledger like served ones;
- a ``{"top": N}`` universe: the N coins with the most quote volume over the 30 days before the strategy
  was created (the backtest's rule at its start), fixed for the strategy's life.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np

from coinpredict.common.times import to_ms
from coinpredict.data.market import MarketData
from coinpredict.data.timeframes import TIMEFRAME_MS
from coinpredict.errors import ServiceError
from coinpredict.ledger import LedgerStore, rows_of
from coinpredict.serving import ModelStore, Predictor
from coinpredict.serving.reloader import fingerprint
from coinpredict.serving.requests import PredictRequest
from coinpredict.strategy.config import StrategyConfig
from coinpredict.strategy.live import Bar, Bars, LiveForecast
from coinpredict.strategy.selection import Forecast
from coinpredict.strategy.store import StrategyRecord

log = logging.getLogger(__name__)
UNIVERSE_LOOKBACK_MS = 30 * 86_400_000
FETCH_WAIT_S = 10.0


def forecast_of(symbol: str, p: float, signal: str, move_bps: float) -> Forecast:
    """A served forecast as the engine reads it; the edge by ``common.signals``' rule, (2p - 1) x move."""
    return Forecast(symbol=symbol, probability_up=float(p), signal=signal, edge_bps=(2 * float(p) - 1) * move_bps,
                    expected_move_bps=max(float(move_bps), 0.0))


class MarketBars:
    def __init__(self, market: MarketData):
        self.market = market

    def bars(self, symbols: list[str], timeframe: str, t: int) -> Bars:
        step, out = TIMEFRAME_MS[timeframe], {}
        invented = bool(self.market.settings.synthetic)
        for symbol in symbols:
            try:
                c = self.market.candles(symbol, timeframe, 1, t + step, deadline=time.monotonic() + FETCH_WAIT_S)
            except ServiceError:
                continue
            if len(c) and int(c.t[-1]) == t:
                out[symbol] = Bar(float(c.open[-1]), float(c.close[-1]))
                invented = invented or bool(c.meta.get("invented"))
        return Bars(out, invented)


class ServedForecasts:
    def __init__(self, ledger: LedgerStore, market: MarketData, models_dir: Path):
        self.ledger, self.market, self.models_dir = ledger, market, Path(models_dir)
        self._predictor: Predictor | None = None
        self._stamp = None
        self._lock = threading.Lock()

    def predictor(self) -> Predictor:
        """The serving path over the current models (loaded at first use, reloaded when MODELS_DIR changes)."""
        with self._lock:
            stamp = fingerprint(self.models_dir)
            if self._predictor is None:
                self._predictor = Predictor(self.market.settings, self.market, ModelStore(self.models_dir).load_all())
            elif stamp != self._stamp:
                previous = self._predictor.store
                self._predictor.swap(lambda: ModelStore(self.models_dir).load_all(previous))
            self._stamp = stamp
            return self._predictor

    def forecasts(self, config: StrategyConfig, symbols: list[str], t: int) -> dict[str, LiveForecast]:
        found = {r["symbol"]: LiveForecast(forecast_of(r["symbol"], r["probability_up"], r["signal"],
                                                       r["expected_move_bps"]), r["model_version"], "ledger",
                                              r["move_version"])
                 for r in self.ledger.forecasts_at(config.model, config.timeframe, config.horizon, t, symbols)}
        missing = [s for s in symbols if s not in found]
        if missing:
            found.update(self.compute(config, missing, t))
        return found

    def compute(self, config: StrategyConfig, symbols: list[str], t: int) -> dict[str, LiveForecast]:
        """The forecasts for the close through the serving path, recorded in the ledger like served ones."""
        reqs = [PredictRequest(s, config.timeframe, config.model, config.horizon, as_of_ms=t) for s in symbols]
        out, rows = {}, []
        for symbol, answer in zip(symbols, self.predictor().predict_many(reqs)):
            if isinstance(answer, ServiceError):
                log.info("strategy forecast %s %s at %s: %s", config.model, symbol, t, answer)
                continue
            if to_ms(answer["as_of"]) != t or answer.get("model_version") is None:
                continue  # answered from an older candle: the close's own is missing
            rows += rows_of(answer, answer.get("member_versions"))
            out[symbol] = LiveForecast(forecast_of(symbol, answer["probability_up"], answer["signal"],
                                                   answer["expected_move_bps"]), answer["model_version"], "computed",
                                              (answer.get("move") or {}).get("model_version"))
        self.ledger.append(rows)
        return out


class TopByVolume:
    """A ``{"top": N}`` universe: fixed at the strategy's creation, from the candles held then."""

    def __init__(self, market: MarketData):
        self.market = market
        self._cache: dict[tuple[str, int], list[str]] = {}

    def __call__(self, record: StrategyRecord) -> list[str]:
        key = (record.id, record.version)
        if key not in self._cache:
            tf, created_ms = record.config.timeframe, int(record.created_at * 1000)
            last = min(UNIVERSE_LOOKBACK_MS // TIMEFRAME_MS[tf], 5000)
            volume = {c.symbol: float(np.sum(c.close * c.volume))
                      for c in self.market.held_series(tf, last, created_ms)}
            self._cache[key] = sorted(volume, key=lambda s: (-volume[s], s))[: record.config.universe.top]
        return self._cache[key]
