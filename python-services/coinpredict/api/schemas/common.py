"""Shared request and answer types: the timeframe, model id and time types, the strict bases (a
query or answer declares every field it may carry) and the error body every status shares.

The same classes validate requests, check every answer before it leaves, and generate
``/openapi.json``, so the document cannot drift from the service."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictStr, WithJsonSchema

from ...common.times import to_ms
from ...data.timeframes import TIMEFRAMES
from ...models.registry import ENSEMBLE_ID, MODEL_IDS, MOVE_ID

TIMEFRAME_VARNAMES = {"1m": "M1", "5m": "M5", "15m": "M15", "30m": "M30", "1h": "H1", "2h": "H2", "4h": "H4",
                      "1d": "D1", "1w": "W1"}


def canonical_timeframe(raw: object) -> object:
    """Timeframes are case-insensitive where that is unambiguous (1H, 4H, 1D, 1W). An upper-case M is a
    month on exchanges (Binance's 1M); this API has no month, so 1M is refused rather than read as 1m."""
    if not isinstance(raw, str) or raw in TIMEFRAMES:
        return raw
    if raw.endswith("M") and raw[:-1].isdigit():
        raise ValueError(f"{raw[:10]!r} is a month on exchanges and this API has no month timeframe; minutes are "
                         f"lower-case ({raw[:-1]}m); use one of {', '.join(TIMEFRAMES)}")
    return raw.lower() if raw.isascii() and raw.lower() in TIMEFRAMES else raw


Timeframe = Annotated[Literal[TIMEFRAMES], BeforeValidator(canonical_timeframe),  # type: ignore[valid-type]
                      WithJsonSchema({"type": "string", "enum": list(TIMEFRAMES),
                                      "x-enum-varnames": [TIMEFRAME_VARNAMES[tf] for tf in TIMEFRAMES]})]
Method = Literal["weighted_average", "median", "best"]
ModelId = Literal[(*MODEL_IDS, ENSEMBLE_ID)]  # type: ignore[valid-type]
# What has a status page and versions: the direction models, the ensemble and the move-size model.
VersionedId = Literal[(*MODEL_IDS, ENSEMBLE_ID, MOVE_ID)]  # type: ignore[valid-type]
MODEL_FIELD = (f"model id, case-insensitive: one of {', '.join(MODEL_IDS)}, or {ENSEMBLE_ID!r} "
               "(the weighted combination of the ready members)")


def canonical_model_id(raw: str) -> str:
    """Model ids are ASCII and case-insensitive; anything else stays as sent (and is unknown)."""
    return raw.lower() if raw.isascii() else raw


UtcTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]  # answers: 2025-06-30T23:00:00Z
ISO_DATE_OR_TIME = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?$"


def real_time(value: str) -> str:
    """A date the calendar has (the pattern alone lets 2025-02-30 and +99:99 through)."""
    try:
        ms = to_ms(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{value!r} is not a date and time that exists") from None
    if not 0 <= ms < 10**14:
        raise ValueError(f"{value!r} is out of range")
    return value


IsoTime = Annotated[StrictStr, Field(max_length=40, pattern=ISO_DATE_OR_TIME), AfterValidator(real_time)]
MarketTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
MARKET_TIME_FIELD = ("the market clock's now (ISO 8601 UTC) when CLOCK shifts it from the wall clock, absent on the "
                     "wall clock: candle ages and staleness are measured on it")


class Query(BaseModel):
    """A query string: a parameter not declared here is refused (``strict``), never ignored."""

    model_config = ConfigDict(extra="forbid")


class Answer(BaseModel):
    """Answers declare every field they may carry; anything else is a bug caught before it leaves."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Answer):
    """Details beyond code, message and field vary by error (what was needed, what is trained)."""

    model_config = ConfigDict(extra="allow")
    code: str = Field(description="stable machine-readable code, e.g. invalid_value, unknown_model")
    message: str = Field(description="what went wrong, for people")
    field: str | None = Field(None, description="the request field at fault, dotted (candles.4); in a batch "
                                                "result, relative to its item (symbol)")
    needed: int | None = Field(None, description="too_few_candles: candles needed")
    got: int | None = Field(None, description="too_few_candles: candles sent")
    failed_members: dict[str, str] | None = Field(None, description="why each ensemble member could not answer")


class ErrorBody(Answer):
    """Every error, whatever the status."""

    error: ErrorDetail = Field(description="what went wrong")


Status = Literal["ready", "not_trained", "failed"]
