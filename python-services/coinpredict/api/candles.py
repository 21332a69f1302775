"""``GET /candles``: a market's recent closed candles, as the service holds them (for charts)."""

from __future__ import annotations

import time

from flask import Blueprint, request
from pydantic import Field, StrictStr

from ..common.times import iso
from ..data.symbols import normalise_symbol
from ..errors import BadRequest
from .answers import checked
from .schemas import Answer, Query, Timeframe
from .state import state

bp = Blueprint("candles", __name__)


class CandlesQuery(Query):
    symbol: StrictStr = Field(min_length=1, max_length=40, description="coin or pair, any accepted form (BTC, BTCUSDT, "
                                                                       "BTC/USDT)")
    timeframe: Timeframe = Field("1h", description="candle length (resampled from a finer one where needed)")
    limit: int = Field(300, ge=1, le=1000, description="the newest closed candles, at most this many")


class CandleOut(Answer):
    t: int = Field(description="open time, epoch milliseconds")
    o: float = Field(description="open price")
    h: float = Field(description="high price")
    l: float = Field(description="low price")  # noqa: E741
    c: float = Field(description="close price")
    v: float | None = Field(description="base-asset volume (null when the source's value was implausible)")


class CandlesAnswer(Answer):
    symbol: str = Field(description="exchange form, e.g. BTCUSDT")
    timeframe: Timeframe = Field(description="candle length")
    data_source: str = Field(description="csv, store, exchange or synthetic, as predictions say")
    count: int = Field(ge=1, description="candles listed")
    first: str = Field(description="open time of the first candle listed, ISO 8601 UTC")
    last: str = Field(description="open time of the newest candle listed, ISO 8601 UTC")
    last_candle_age_s: float | None = Field(None, description="clock minus the close time of the newest candle")
    data_stale: bool = Field(description="true when the newest candle is older than the timeframe allows")
    stale_reason: str | None = Field(None, description="why fresher candles could not be had")
    warning: str | None = Field(None, description="something the caller should know (e.g. synthetic prices)")
    candles: list[CandleOut] = Field(description="oldest first; the same fields a request's candle objects take")


@bp.get("/candles")
def candles():
    query = CandlesQuery.model_validate(request.args.to_dict())
    try:
        symbol = normalise_symbol(query.symbol)
    except ValueError as exc:
        raise BadRequest(str(exc), field="symbol", code="invalid_symbol") from exc
    st = state()
    found = st.market.candles(symbol, query.timeframe, query.limit,
                              deadline=time.monotonic() + st.settings.fetch_deadline_s)
    rows = [{"t": int(t), "o": float(o), "h": float(h), "l": float(lo), "c": float(c), "v": float(v)}
            for t, o, h, lo, c, v in zip(found.t, found.open, found.high, found.low, found.close, found.volume,
                                         strict=True)]
    meta = found.meta
    return checked(CandlesAnswer, {
        "symbol": symbol, "timeframe": query.timeframe, "data_source": meta.get("data_source", found.source),
        "count": len(rows), "first": iso(rows[0]["t"]), "last": iso(rows[-1]["t"]),
        "last_candle_age_s": meta.get("last_candle_age_s"), "data_stale": bool(meta.get("data_stale")),
        "stale_reason": meta.get("stale_reason"), "warning": meta.get("warning"), "candles": rows})
