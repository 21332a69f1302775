"""``GET /symbols``: what can be predicted on a timeframe, how fresh its candles are, and what is trained."""

from __future__ import annotations

from flask import Blueprint, request

from ..common.times import iso
from .answers import checked
from .schemas.symbols import SymbolsQuery, SymbolsResponse
from .state import state

bp = Blueprint("symbols", __name__)


@bp.get("/symbols")
def symbols():
    query = SymbolsQuery.model_validate(request.args.to_dict())
    current = state()
    listed = [{"symbol": s["symbol"], "first": iso(s["first_ms"]), "last": iso(s["last_ms"]),
               "last_candle_age_s": s["last_candle_age_s"], "data_stale": s["data_stale"], "columns": s["columns"]}
              for s in current.market.summaries(query.timeframe)]
    return checked(SymbolsResponse, {"timeframe": query.timeframe, "data_source": current.market.label,
                                     "count": len(listed), "symbols": listed, "trained": current.store.trained()})
