"""``GET /candles``: a market's recent closed candles, as the service holds them (for charts)."""

from __future__ import annotations

import time

from flask import Blueprint, request

from ..common.times import iso
from ..data.symbols import normalise_symbol
from ..errors import BadRequest
from .answers import checked
from .schemas.candles import CandlesAnswer, CandlesQuery
from .state import state

bp = Blueprint("candles", __name__)


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
