"""Ranking: the top-N of the market-cap universe by probability of an up move, or of beating the
market's mean move (``rank_by``)."""

from __future__ import annotations

from ..data.market import MarketData
from ..data.symbols import normalise_symbol
from ..data.universe import Universe
from ..errors import ServiceError
from .requests import PredictRequest


def universe_requests(universe: Universe, market: MarketData, timeframe: str, model: str,
                      horizon: int | None = None, as_of_ms: int | None = None,
                      size: int = 100) -> tuple[list[PredictRequest], list[dict], str]:
    """One request per tradable coin of the universe with market data (each as of ``as_of_ms`` when
    given); the skipped ones with why; where the universe came from."""
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
            reqs.append(PredictRequest(symbol, timeframe, model, horizon, as_of_ms=as_of_ms))
    return reqs, skipped, origin


RANK_FIELDS = {"up": "probability_up", "outperform": "probability_outperform"}
NO_OUTPERFORM = "its model has no probability_outperform (trained without the relative target)"


def rank(reqs: list[PredictRequest], results: list[dict | ServiceError],
         limit: int, stale_after_s: float | None = None, rank_by: str = "up") -> tuple[list[dict], list[dict]]:
    """The answered results, highest probability (``RANK_FIELDS[rank_by]``) first, cut to ``limit`` and
    numbered from 1; and the requests that could not be answered, whose newest candle is older than
    ``stale_after_s`` (a delisted or halted coin is not ranked as if current), or that have no such
    probability, with the reason."""
    key = RANK_FIELDS[rank_by]
    ok, skipped = [], []
    for req, res in zip(reqs, results):
        if isinstance(res, ServiceError):
            skipped.append({"symbol": req.symbol, "reason": res.message})
        elif stale_after_s is not None and (res.get("last_candle_age_s") or 0) > stale_after_s:
            skipped.append({"symbol": req.symbol, "reason": stale_reason(req, res, stale_after_s)})
        elif res.get(key) is None:
            skipped.append({"symbol": req.symbol, "reason": NO_OUTPERFORM})
        else:
            ok.append(res)
    ok.sort(key=lambda r: r[key], reverse=True)
    ok = ok[:limit]
    for position, r in enumerate(ok, 1):
        r["rank"] = position
    return ok, skipped


def stale_reason(req: PredictRequest, answer: dict, stale_after_s: float) -> str:
    """Why a coin is left out of a ranking: how old its newest candle was when asked (now, or the as_of
    close); without as_of, how to rank as of that candle instead (a historical candle folder)."""
    hours = answer["last_candle_age_s"] / 3600
    when = "ago" if req.as_of_ms is None else "before as_of closed"
    reason = f"stale data: its newest candle closed {hours:.1f} h {when} (more than {stale_after_s / 3600:g} h)"
    if req.as_of_ms is None:
        reason += f"; as_of={answer['as_of']} ranks as of that candle"
    return reason
