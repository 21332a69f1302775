"""``GET /predictions/history``: the ledger of served predictions and their outcomes, newest first."""

from __future__ import annotations

from flask import Blueprint, request
from pydantic import Field, StrictStr, field_validator

from ..common.times import iso, to_ms
from ..data.symbols import normalise_symbol
from ..errors import BadRequest
from .answers import checked
from .schemas import Answer, IsoTime, Query, Timeframe, UtcTime, canonical_model_id
from .state import state

bp = Blueprint("history", __name__, url_prefix="/predictions")


class HistoryQuery(Query):
    symbol: StrictStr | None = Field(None, max_length=40, description="coin or pair, any accepted form")
    timeframe: Timeframe | None = Field(None, description="candle length")
    model: StrictStr | None = Field(None, max_length=64, description="model id or 'ensemble'")
    horizon: int | None = Field(None, ge=1, le=500, description="candles ahead")
    since: IsoTime | None = Field(None, description="only forecasts made at or after (as_of), ISO date or time")
    limit: int = Field(100, ge=1, le=1000, description="newest first, at most this many")

    @field_validator("model")
    @classmethod
    def _model_id(cls, value):
        return canonical_model_id(value) if value is not None else None


class Recorded(Answer):
    as_of: UtcTime = Field(description="open time of the last candle the forecast used")
    symbol: str = Field(description="exchange symbol")
    timeframe: str = Field(description="candle length")
    model: str = Field(description="model id or ensemble")
    model_version: str = Field(description="the version that answered")
    horizon: int = Field(description="candles ahead")
    probability_up: float = Field(description="what was answered")
    signal: str = Field(description="BUY, SELL or HOLD, as answered")
    outcome_up: bool | None = Field(description="whether the close horizon candles later was above; null until "
                                                "that candle has closed (or when it is missing)")
    return_bps: float | None = Field(description="the return over the horizon, in basis points")
    recorded_at: str = Field(description="when it was answered")


class History(Answer):
    count: int = Field(description="forecasts listed")
    results: list[Recorded] = Field(description="newest first")


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
                "recorded_at": iso(int(r["recorded_at"] * 1000))} for r in rows]
    return checked(History, {"count": len(results), "results": results})
