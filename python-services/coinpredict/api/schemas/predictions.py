"""Shapes of the prediction endpoints: a request's candles, single and batch requests, the ranking's
query, and the prediction every one of them answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    TypeAdapter,
    WithJsonSchema,
    field_validator,
)

from ...common.signals import MOVE_WINDOW
from ...models.registry import ENSEMBLE_ID
from .common import (
    ISO_DATE_OR_TIME,
    MARKET_TIME_FIELD,
    MODEL_FIELD,
    Answer,
    ErrorDetail,
    MarketTime,
    Method,
    ModelId,
    Query,
    Timeframe,
    UtcTime,
    canonical_model_id,
    real_time,
)

ISO_TIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$"
Time = Annotated[int, Field(ge=0, lt=10**17)] | Annotated[str, Field(pattern=ISO_TIME)]
Price = Annotated[float, Field(gt=0)]
Volume = Annotated[float, Field(ge=0)]


_EXTRA_NOTE = "; optional, null or an implausible value counts as missing"


class CandleObject(BaseModel):
    """One closed candle (``time``, ``open``, ``quote_volume``... are accepted for the short names too)."""

    model_config = ConfigDict(extra="forbid")
    t: Time = Field(description="open time: epoch milliseconds, or ISO 8601 UTC text")
    o: Price = Field(description="open price")
    h: Price = Field(description="high price")
    l: Price = Field(description="low price")  # noqa: E741
    c: Price = Field(description="close price")
    v: Volume = Field(description="base-asset volume")
    qv: Volume | None = Field(None, description="quote_volume: volume in the quote asset" + _EXTRA_NOTE)
    n: Volume | None = Field(None, description="trades: number of trades" + _EXTRA_NOTE)
    tbv: Volume | None = Field(None, description="taker_buy_volume: base volume bought by takers" + _EXTRA_NOTE)
    tbqv: Volume | None = Field(None, description="taker_buy_quote_volume: quote volume bought by takers"
                                                  + _EXTRA_NOTE)


_Cell = Volume | Annotated[str, Field(max_length=40)] | None  # exchange klines send numbers as text
_ROW = TypeAdapter(tuple[Time, Price, Price, Price, Price, Volume, Time | None, *([_Cell] * 4)]).json_schema()
CANDLE_ROW = {**_ROW, "minItems": 6, "maxItems": 12}
CANDLES_SCHEMA = {
    "anyOf": [{"type": "array", "minItems": 1, "items": {"anyOf": [
        CandleObject.model_json_schema(),
        {**CANDLE_ROW, "description": "[t, o, h, l, c, v] or an exchange kline row [t, o, h, l, c, v, close_time, "
                                      "quote_volume, trades, taker_buy_volume, taker_buy_quote_volume, ignore] "
                                      "(from close_time on optional; the extra columns count as missing where "
                                      "null or implausible)"},
    ]}}, {"type": "null"}],
    "description": "closed candles of this symbol, oldest first, on the timeframe's grid: the service predicts "
                   "from them instead of its own data; an answer says how many it needs when it gets too few"}


def _plain_cells(rows: list | None) -> list | None:
    """Rows are objects or lists of numbers and times; the candle rules (serving) check the values."""
    if rows is None:
        return None
    if not rows:
        raise ValueError("candles must be a non-empty list")
    for i, row in enumerate(rows):
        for x in row.values() if isinstance(row, dict) else row:
            if isinstance(x, bool) or not (x is None or isinstance(x, float) or (isinstance(x, int) and abs(x) < 10**18)
                                           or (isinstance(x, str) and len(x) <= 40)):
                raise ValueError(f"candle {i} holds a value that is neither a number nor a time")
    return rows


Candles = Annotated[list[dict[str, Any] | list[Any]] | None, AfterValidator(_plain_cells),
                    WithJsonSchema(CANDLES_SCHEMA)]
AsOf = Annotated[StrictStr, Field(max_length=40, pattern=ISO_DATE_OR_TIME, json_schema_extra={"format": "date-time"}),
                 AfterValidator(real_time)]
AS_OF_FIELD = ("predict as of a past close: from the candles up to and including the one opening at as_of (ISO "
               "8601 UTC, the open time of a candle that has closed by the market clock; else 400), exactly as the "
               "service would have at that close; freshness is judged against that close, and the answer is not "
               "recorded in the ledger. A coin whose candles ended earlier answers from its last one, data_stale. "
               "Omitted: the newest closed candle")


class PredictItem(BaseModel):
    """One prediction request (also one item of a batch)."""

    model_config = ConfigDict(extra="forbid")
    symbol: StrictStr = Field(min_length=1, max_length=40, examples=["BTCUSDT", "btc", "BTC/USDT"],
                              description="ASCII coin or pair: BTC, btc, BTCUSDT, BTC/USDT, BTC_USDT or btc-usdt")
    timeframe: Timeframe = Field("1h", description="candle length")
    model: StrictStr = Field(ENSEMBLE_ID, min_length=1, max_length=64, description=MODEL_FIELD)
    horizon: StrictInt | None = Field(None, ge=1, le=500,
                                      description="candles ahead; the first trained horizon when omitted")
    method: Method | None = Field(None, description="how the ensemble combines its members (ensemble only; "
                                                    "refused for a single model)")
    candles: Candles = None
    as_of: AsOf | None = Field(None, description=AS_OF_FIELD + "; with candles, those up to as_of are used")

    @field_validator("model")
    @classmethod
    def _model_id(cls, value: str) -> str:
        return canonical_model_id(value)


class SingleRequest(PredictItem):
    """The body of ``POST /predict/single``."""

    explain: StrictBool = Field(False, description="add explanation: the ten features that moved this probability "
                                                   "most (costs only the requests that ask)")


class BatchRequest(BaseModel):
    """The body of ``POST /predict/batch``; each item is validated on its own, so one bad item fails
    only its own result."""

    model_config = ConfigDict(extra="forbid")
    items: list[Any] = Field(description="prediction items in the order their results come back (at most 500)",
                             json_schema_extra={"x-items": "PredictItem", "maxItems": 500})


class TopQuery(Query):
    timeframe: Timeframe = Field("1h", description="candle length")
    model: StrictStr = Field(ENSEMBLE_ID, min_length=1, max_length=64, description=MODEL_FIELD)
    limit: int = Field(100, ge=1, le=100, description="how many ranked coins to return")
    horizon: int | None = Field(None, ge=1, le=500, description="candles ahead; the first trained horizon when omitted")
    as_of: AsOf | None = Field(None, description=AS_OF_FIELD + " (a coin stale by then is skipped with its age)")
    rank_by: Literal["up", "outperform"] = Field(
        "up", description="what orders the coins: probability_up (the default), or probability_outperform (the "
                          "coin against the market's mean: a long/short book's ranking); coins whose model has no "
                          "probability_outperform are skipped with the reason")

    @field_validator("model")
    @classmethod
    def _model_id(cls, value: str) -> str:
        return canonical_model_id(value)


class Gaps(Answer):
    count: int = Field(description="missing stretches in the candles used")
    missing_candles: int = Field(description="candles missing in those stretches")


class MarketContext(Answer):
    anchors: dict[str, bool] = Field(description="each anchor coin the models read (e.g. BTCUSDT): whether its "
                                                 "candle at as_of was there (when not, its features were missing)")
    order_flow: bool = Field(description="whether the coin's own candle at as_of carried taker-buy volume")


class FeatureReason(Answer):
    name: str = Field(description="feature (a booster's lagged inputs are named ..._lag<k>)")
    value: float | None = Field(description="its value at as_of, before scaling; null when missing")
    contribution: float = Field(description="how far it moved the log-odds of probability_up (signed)")


class CandleWeight(Answer):
    t: UtcTime = Field(description="open time of a candle of the input window")
    weight: float = Field(ge=0, le=1, description="its share of the model's attention (the window sums to 1)")


class Attention(Answer):
    candles: list[CandleWeight] = Field(description="the input window's candles, oldest first")


class MemberReason(Answer):
    weight: float = Field(ge=0, le=1, description="its weight in the combination")
    method: str = Field(description="how the member was explained")
    logit: float = Field(description="the member's log-odds")


class Explanation(Answer):
    """Why the model answered this probability (``"explain": true`` only)."""

    method: Literal["tree_shap", "gradient_x_input", "weighted_members"] = Field(
        description="tree_shap: the booster's exact contributions (with base they sum to logit); gradient_x_input: "
                    "a network's gradient times input, summed over the window; weighted_members: the ensemble's "
                    "members' contributions averaged with its weights")
    logit: float = Field(description="log-odds the contributions explain; probability_up = sigmoid(logit) for one "
                                     "model, close to it for the ensemble (the mean of the members' probabilities)")
    base: float | None = Field(description="tree_shap: the log-odds before any feature (base + every contribution "
                                           "= logit); null otherwise")
    rest: float = Field(description="sum of the contributions of the features not listed")
    features: list[FeatureReason] = Field(description="the ten largest contributions by size, largest first")
    attention: Attention | None = Field(description="attention networks: their attention over the window's candles; "
                                                    "null for other models and versions saved without it")
    members: dict[str, MemberReason] | None = Field(None, description="ensemble: the members combined")


class MoveQuantiles(Answer):
    q05: float = Field(description="5% quantile of the horizon's log return, basis points")
    q25: float = Field(description="25% quantile, basis points")
    q50: float = Field(description="median, basis points")
    q75: float = Field(description="75% quantile, basis points")
    q95: float = Field(description="95% quantile, basis points")


class Move(Answer):
    """How far the coin is expected to move over the horizon, and the quantiles of its return."""

    source: Literal["model", "rule"] = Field(
        description="model: the timeframe's trained move-size model; rule: the 48-candle mean |return| x "
                    "sqrt(horizon) (no move model served for this timeframe and horizon)")
    expected_bps: float = Field(ge=0, description="expected absolute move over the horizon, basis points; "
                                                  "expected_move_bps equals it")
    quantiles_bps: MoveQuantiles = Field(
        description="quantiles of the horizon's log return (basis points), centred so that P(return > 0) is "
                    "probability_up; q05-q95 is the 90% interval, q25-q75 the 50% one")
    model_version: str | None = Field(description="the move model's version; null under the rule")


class Prediction(Answer):
    """Whether the close ``horizon`` candles after ``as_of`` will be above the close at ``as_of``."""

    symbol: str = Field(description="exchange form, e.g. BTCUSDT")
    timeframe: Timeframe = Field(description="candle length")
    model: ModelId = Field(description="the model that answered (lower-case id)")
    as_of: UtcTime = Field(description="open time of the last closed candle used, ISO 8601 UTC")
    horizon: int = Field(ge=1, description="candles ahead the prediction is about")
    probability_up: float = Field(ge=0, le=1, description="calibrated P(close[as_of + horizon] > close[as_of])")
    probability_outperform: float | None = Field(
        None, ge=0, le=1, description="calibrated P(the coin's log return over the horizon beats the market's mean "
                                      "log return over the same candles; the market: the coins of the training "
                                      "folder with those candles); null for a model trained without the relative "
                                      "target (the ensemble: over its members that have it)")
    signal: Literal["BUY", "SELL", "HOLD"] = Field(
        description="BUY when edge_bps > cost_bps, SELL when edge_bps < -cost_bps, HOLD otherwise (the edge "
                    "does not pay the round trip); the evaluation's backtest trades exactly this signal")
    signal_reason: str | None = Field(None, description="why the signal is HOLD whatever the edge (synthetic prices)")
    confidence: float = Field(ge=0, le=1, description="|2 * probability_up - 1|: 0 is a coin flip, 1 is certain")
    expected_move_bps: float = Field(
        ge=0, description=f"typical absolute move over the horizon, in basis points: the move model's expected "
                          f"absolute log return when it is served (move.source model), else the mean absolute "
                          f"one-candle log return over the last {MOVE_WINDOW} candles used, times sqrt(horizon)")
    edge_bps: float = Field(description="expected return of trading the predicted direction before costs, in basis "
                                        "points: (2 * probability_up - 1) * expected_move_bps")
    cost_bps: float = Field(ge=0, description="round-trip cost a BUY or SELL must beat, in basis points: "
                                              "2 * FEE_BPS (the fee per side)")
    model_version: str | None = Field(description="the trained version that answered")
    move: Move = Field(description="the expected move and the return's quantiles over the horizon")
    latency_ms: float = Field(ge=0, description="time spent answering (a batch's items share the batch's time)")
    data_source: Literal["csv", "store", "exchange", "synthetic", "request"] = Field(
        description="where the candles came from: the candle folder, the stored copy (the exchange could "
                    "not be reached), the exchange, the synthetic market (not real prices), or the request")
    candles_used: int = Field(ge=1, description="candles the features were computed from")
    data_stale: bool = Field(description="true when the last candle is older than the timeframe allows, or "
                                         "fresher ones could not be had")
    last_candle_age_s: float | None = Field(description="clock minus the close time of the last candle used (for "
                                                        "client candles: the last one sent); null only when it "
                                                        "cannot be measured")
    stale_reason: str | None = Field(None, description="why fresher candles could not be had")
    warning: str | None = Field(None, description="something the caller should know (e.g. synthetic prices)")
    gaps: Gaps | None = Field(None, description="missing candles inside the candles used, when any")
    context: MarketContext | None = Field(None, description="the market context and order flow the models had, "
                                                            "when they read any")
    members: dict[str, float] | None = Field(None, description="ensemble: each member's probability_up")
    member_versions: dict[str, str | None] | None = Field(
        None, description="ensemble: the version of each member that answered (a promotion may change one)")
    method: Method | None = Field(None, description="ensemble: how the members were combined")
    weights: dict[str, float] | None = Field(None, description="ensemble: each member's weight")
    uncertainty: float | None = Field(None, ge=0, description="ensemble: spread of the member probabilities")
    failed_members: dict[str, str] | None = Field(
        None, description="ensemble: members that could not answer, with the reason; the rest answered")
    market_time: MarketTime | None = Field(None, description=MARKET_TIME_FIELD)
    explanation: Explanation | None = Field(None, description="only when asked: \"explain\": true on "
                                                              "/predict/single")


class ItemError(Answer):
    """A batch item that could not be answered; the other items are unaffected."""

    symbol: str | None = Field(description="the symbol as sent, when it was text")
    error: ErrorDetail = Field(description="why this item got no prediction")
    status: int = Field(description="the HTTP status this error would have had on /predict/single")


class BatchResponse(Answer):
    count: int = Field(description="number of results (= number of items)")
    results: list[Prediction | ItemError] = Field(description="one per item, in request order")
    latency_ms: float = Field(ge=0, description="time spent on the whole batch")


class RankedPrediction(Prediction):
    rank: int = Field(ge=1, description="1 = highest probability_up")


class Skipped(Answer):
    symbol: str = Field(description="coin or symbol of the universe that got no prediction")
    reason: str = Field(description="why (no market data, not tradable, model could not answer)")


class TopResponse(Answer):
    as_of: UtcTime | None = Field(description="newest as_of among the results")
    universe: str = Field(description="where the coin list came from (live ranking or the bundled list and its date)")
    timeframe: Timeframe = Field(description="candle length of every result")
    horizon: int | None = Field(None, description="candles ahead every result is about")
    model: ModelId = Field(description="the model that ranked them")
    rank_by: Literal["up", "outperform"] = Field("up", description="what ranked them: probability_up or "
                                                                   "probability_outperform")
    count: int = Field(description="number of ranked results")
    results: list[RankedPrediction] = Field(description="ranked by probability_up (or by probability_outperform, "
                                                        "rank_by), best first")
    skipped: list[Skipped] = Field(description="coins of the universe that got no prediction")
    latency_ms: float = Field(ge=0, description="time spent on the whole ranking")
    market_time: MarketTime | None = Field(None, description=MARKET_TIME_FIELD)
