"""``GET /predictions/history``: the ledger of served predictions and their outcomes, newest first."""

from __future__ import annotations

from flask import Blueprint, request

from ..common.times import iso, to_ms
from ..data.symbols import normalise_symbol
from ..errors import BadRequest
from ..models.move import QUANTILE_NAMES
from .answers import checked
from .schemas.history import History, HistoryQuery
from .state import state

bp = Blueprint("history", __name__, url_prefix="/predictions")


@bp.get("/history")
def history():
    query = HistoryQuery.model_validate(request.args.to_dict())
    symbol = None
    if query.symbol:
        try:
            symbol = normalise_symbol(query.symbol)
        except ValueError as exc:
            raise BadRequest(str(exc), field="symbol", code="invalid_symbol") from exc
    rows = state().ledger.history(symbol=symbol, timeframe=query.timeframe, model=query.model, horizon=query.horizon,
                                  since_ms=to_ms(query.since) if query.since else None, limit=query.limit)
    results = [{"as_of": iso(r["as_of"]), "symbol": r["symbol"], "timeframe": r["timeframe"], "model": r["model"],
                "model_version": r["model_version"], "horizon": r["horizon"], "probability_up": r["probability_up"],
                "signal": r["signal"], "outcome_up": r["outcome_up"], "return_bps": r["return_bps"],
                "probability_outperform": r.get("probability_outperform"),
                "outcome_outperform": r.get("outcome_outperform"),
                "recorded_at": iso(int(r["recorded_at"] * 1000)), "move": _move(r)} for r in rows]
    return checked(History, {"count": len(results), "results": results})


def _move(row: dict) -> dict | None:
    """The recorded quantiles as the answer gave them; None where they were not kept (older rows, members)."""
    quantiles = {name: row.get(f"{name}_bps") for name in QUANTILE_NAMES}
    if row.get("move_source") is None or any(v is None for v in quantiles.values()):
        return None
    return {"source": row["move_source"], "quantiles_bps": quantiles}
