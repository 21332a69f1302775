"""Ranking: the top-N of the market-cap universe by probability of an up move."""

from __future__ import annotations

from ..data.market import MarketData
from ..data.symbols import normalise_symbol
from ..data.universe import Universe
from ..errors import ServiceError
from .requests import PredictRequest


def universe_requests(universe: Universe, market: MarketData, timeframe: str, model: str,
                      horizon: int | None = None, size: int = 100) -> tuple[list[PredictRequest], list[dict], str]:
    """One request per tradable coin of the universe with market data; the skipped ones with why;
    where the universe came from."""
    coins, origin = universe.top(size)
    available = market.symbols(timeframe)
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
            reqs.append(PredictRequest(symbol, timeframe, model, horizon))
    return reqs, skipped, origin


def rank(reqs: list[PredictRequest], results: list[dict | ServiceError],
         limit: int, stale_after_s: float | None = None) -> tuple[list[dict], list[dict]]:
    """The answered results, highest probability first, cut to ``limit`` and numbered from 1; and
    the requests that could not be answered or whose newest candle is older than ``stale_after_s`` (a
    delisted or halted coin is not ranked as if current), with the reason."""
    ok, skipped = [], []
    for req, res in zip(reqs, results):
        if isinstance(res, ServiceError):
            skipped.append({"symbol": req.symbol, "reason": res.message})
        elif stale_after_s is not None and (res.get("last_candle_age_s") or 0) > stale_after_s:
            hours = res["last_candle_age_s"] / 3600
            skipped.append({"symbol": req.symbol, "reason": f"stale data: its newest candle closed {hours:.1f} h "
                                                            f"ago (more than {stale_after_s / 3600:g} h)"})
        else:
            ok.append(res)
    ok.sort(key=lambda r: r["probability_up"], reverse=True)
    ok = ok[:limit]
    for position, r in enumerate(ok, 1):
        r["rank"] = position
    return ok, skipped
