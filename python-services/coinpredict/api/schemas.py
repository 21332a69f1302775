"""Request and answer shapes (pydantic): the same classes validate requests, check every answer
before it leaves, and generate ``/openapi.json``, so the document cannot drift from the service."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    TypeAdapter,
    WithJsonSchema,
    field_validator,
)

from ..common.signals import MOVE_WINDOW
from ..common.times import to_ms
from ..data.timeframes import TIMEFRAMES
from ..models.registry import ENSEMBLE_ID, MODEL_IDS

# Generated clients name enum members after these (a name cannot start with a digit: VALUE_0... otherwise).
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
MODEL_FIELD = (f"model id, case-insensitive: one of {', '.join(MODEL_IDS)}, or {ENSEMBLE_ID!r} "
               "(the weighted combination of the ready members)")


def canonical_model_id(raw: str) -> str:
    """Model ids are ASCII and case-insensitive; anything else stays as sent (and is unknown)."""
    return raw.lower() if raw.isascii() else raw


UtcTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]  # answers: 2025-06-30T23:00:00Z
ISO_TIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$"
Time = Annotated[int, Field(ge=0, lt=10**17)] | Annotated[str, Field(pattern=ISO_TIME)]
ISO_DATE_OR_TIME = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?$"


def _real_time(value: str) -> str:
    """A date the calendar has (the pattern alone lets 2025-02-30 and +99:99 through)."""
    try:
        ms = to_ms(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{value!r} is not a date and time that exists") from None
    if not 0 <= ms < 10**14:
        raise ValueError(f"{value!r} is out of range")
    return value


IsoTime = Annotated[StrictStr, Field(max_length=40, pattern=ISO_DATE_OR_TIME), AfterValidator(_real_time)]
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
                 AfterValidator(_real_time)]
AS_OF_FIELD = ("predict as of a past close: from the candles up to and including the one opening at as_of (ISO "
               "8601 UTC, the open time of a candle that has closed by the market clock; else 400), exactly as the "
               "service would have at that close; freshness is judged against that close, and the answer is not "
               "recorded in the ledger. A coin whose candles ended earlier answers from its last one, data_stale. "
               "Omitted: the newest closed candle")
MarketTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
MARKET_TIME_FIELD = ("the market clock's now (ISO 8601 UTC) when CLOCK shifts it from the wall clock, absent on the "
                     "wall clock: candle ages and staleness are measured on it")


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


class BatchRequest(BaseModel):
    """The body of ``POST /predict/batch``; each item is validated on its own, so one bad item fails
    only its own result."""

    model_config = ConfigDict(extra="forbid")
    items: list[Any] = Field(description="prediction items in the order their results come back (at most 500)",
                             json_schema_extra={"x-items": "PredictItem", "maxItems": 500})


class Query(BaseModel):
    """A query string: a parameter not declared here is refused (``strict``), never ignored."""

    model_config = ConfigDict(extra="forbid")


class TopQuery(Query):
    timeframe: Timeframe = Field("1h", description="candle length")
    model: StrictStr = Field(ENSEMBLE_ID, min_length=1, max_length=64, description=MODEL_FIELD)
    limit: int = Field(100, ge=1, le=100, description="how many ranked coins to return")
    horizon: int | None = Field(None, ge=1, le=500, description="candles ahead; the first trained horizon when omitted")
    as_of: AsOf | None = Field(None, description=AS_OF_FIELD + " (a coin stale by then is skipped with its age)")

    @field_validator("model")
    @classmethod
    def _model_id(cls, value: str) -> str:
        return canonical_model_id(value)


class Answer(BaseModel):
    """Answers declare every field they may carry; anything else is a bug caught before it leaves."""

    model_config = ConfigDict(extra="forbid")


class Gaps(Answer):
    count: int = Field(description="missing stretches in the candles used")
    missing_candles: int = Field(description="candles missing in those stretches")


class MarketContext(Answer):
    anchors: dict[str, bool] = Field(description="each anchor coin the models read (e.g. BTCUSDT): whether its "
                                                 "candle at as_of was there (when not, its features were missing)")
    order_flow: bool = Field(description="whether the coin's own candle at as_of carried taker-buy volume")


class Prediction(Answer):
    """Whether the close ``horizon`` candles after ``as_of`` will be above the close at ``as_of``."""

    symbol: str = Field(description="exchange form, e.g. BTCUSDT")
    timeframe: Timeframe = Field(description="candle length")
    model: ModelId = Field(description="the model that answered (lower-case id)")
    as_of: UtcTime = Field(description="open time of the last closed candle used, ISO 8601 UTC")
    horizon: int = Field(ge=1, description="candles ahead the prediction is about")
    probability_up: float = Field(ge=0, le=1, description="calibrated P(close[as_of + horizon] > close[as_of])")
    signal: Literal["BUY", "SELL", "HOLD"] = Field(
        description="BUY when edge_bps > cost_bps, SELL when edge_bps < -cost_bps, HOLD otherwise (the edge "
                    "does not pay the round trip); the evaluation's backtest trades exactly this signal")
    signal_reason: str | None = Field(None, description="why the signal is HOLD whatever the edge (synthetic prices)")
    confidence: float = Field(ge=0, le=1, description="|2 * probability_up - 1|: 0 is a coin flip, 1 is certain")
    expected_move_bps: float = Field(
        ge=0, description=f"typical absolute move over the horizon, in basis points: the mean absolute one-candle "
                          f"log return over the last {MOVE_WINDOW} candles used, times sqrt(horizon)")
    edge_bps: float = Field(description="expected return of trading the predicted direction before costs, in basis "
                                        "points: (2 * probability_up - 1) * expected_move_bps")
    cost_bps: float = Field(ge=0, description="round-trip cost a BUY or SELL must beat, in basis points: "
                                              "2 * FEE_BPS (the fee per side)")
    model_version: str | None = Field(description="the trained version that answered")
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
    count: int = Field(description="number of ranked results")
    results: list[RankedPrediction] = Field(description="ranked by probability_up, best first")
    skipped: list[Skipped] = Field(description="coins of the universe that got no prediction")
    latency_ms: float = Field(ge=0, description="time spent on the whole ranking")
    market_time: MarketTime | None = Field(None, description=MARKET_TIME_FIELD)


class ModelCounts(Answer):
    ready: int = Field(description="models that can answer on at least one timeframe")
    failed: int = Field(description="models whose artifacts did not load")
    not_trained: int = Field(description="models with no trained version")


class JobsSummary(Answer):
    queued: int = Field(description="jobs waiting for a worker")
    running: int = Field(description="jobs running")
    active: list[ActiveJob] = Field(description="the queued and running jobs, oldest first")


class TimeframeFreshness(Answer):
    symbols: int = Field(ge=0, description="symbols the service keeps current on this timeframe")
    last_candle_age_s: float | None = Field(description="clock minus the close time of the freshest symbol's "
                                                        "newest candle, in seconds (null: none held)")
    stale_symbols: int = Field(ge=0, description="of those, symbols whose newest candle is older than allowed")


class DataFreshness(Answer):
    last_candle_age_s: float | None = Field(description="the freshest newest candle's age on the finest trained "
                                                        "timeframe, in seconds (null: no candles held)")
    stale_symbols: int = Field(ge=0, description="symbols (each coin counted once, however many trained "
                                                 "timeframes it is stale on) whose newest candle is older than the "
                                                 "timeframe allows (the status is then degraded); per timeframe in "
                                                 "by_timeframe")
    stale_examples: list[str] = Field(description="a few of them, as SYMBOL/timeframe")
    by_timeframe: dict[str, TimeframeFreshness] = Field(description="the same per trained timeframe")


class Health(Answer):
    status: Literal["ok", "degraded"] = Field(description="degraded when any warning applies")
    models_loaded: int = Field(description="models ready")
    models: ModelCounts = Field(description="single models by status")
    uptime_s: float = Field(description="seconds since this worker started")
    version: str = Field(description="service version")
    data_source: Literal["csv", "live", "synthetic"] = Field(
        description="candle folder, live exchange (cached in the store), or the synthetic market")
    timeframes: list[str] = Field(description="timeframes with trained models")
    warnings: list[str] = Field(description="why the status is degraded")
    jobs: JobsSummary = Field(description="training jobs waiting and running (details at /jobs)")
    data: DataFreshness = Field(description="how current the candles are: in live mode over the symbols kept "
                                            "fresh (the top-100 universe, the context anchors, whatever was asked "
                                            "for in the last day), with a candle folder over its files")
    market_time: MarketTime | None = Field(None, description=MARKET_TIME_FIELD)


class ActiveJob(Answer):
    id: str = Field(description="job id (GET /jobs/<id> has the whole record)")
    timeframe: str = Field(description="timeframe it trains")
    status: Literal["queued", "running"] = Field(description="waiting for a worker, or running")
    progress: float = Field(ge=0, le=1, description="fraction done")
    stage: str = Field(description="what it is doing now")


Status = Literal["ready", "not_trained", "failed"]


class ModelSummary(Answer):
    id: ModelId = Field(description="model id")
    family: str = Field(description="lstm, gru, transformer, cnn, boosting or ensemble")
    params: dict[str, Any] = Field(description="architecture parameters")
    status: Status = Field(description="ready on at least one timeframe, failed to load, or not trained")
    timeframes: list[str] = Field(description="timeframes where the model is ready")
    model_version: str | None = Field(description="version shown (1h when ready there)")
    skill: str | None = Field(description="whether it beats chance: from the test evaluation, else validation")
    reason: str | None = Field(description="why it is not ready")


class EnsembleSummary(Answer):
    id: Literal["ensemble"] = Field(description="the ensemble's id")
    timeframes: list[str] = Field(description="timeframes with a trained ensemble")
    methods: list[Method] = Field(description="combination methods a request may choose")
    status: Literal["ready", "not_trained"] = Field(description="ready on at least one timeframe, or not trained")


class ModelList(Answer):
    count: int = Field(description="number of single models")
    models: list[ModelSummary] = Field(description="every single model, in registry order")
    ensemble: EnsembleSummary = Field(description="the ensemble over them")


class Serving(Answer):
    """Summed over every worker (whichever one answers), over every timeframe, since the service started."""

    requests: int = Field(description="predictions asked of this model")
    errors: int = Field(description="of which the service failed to answer (the model failed, or a model or "
                                    "data source was not available: 5xx); client mistakes are not errors")
    refused: int = Field(description="of which were refused for what they asked (an unknown symbol, an "
                                     "untrained timeframe or horizon: 4xx) or asked before they could be "
                                     "answered (no model trained yet, too little history)")
    p50_ms: float | None = Field(description="median answer time, estimated from the latency histogram of "
                                             "/metrics (linear within its bucket, as histogram_quantile)")
    p95_ms: float | None = Field(description="95th percentile answer time, estimated the same way")


class ModelMetrics(Answer):
    validation: dict[str, Any] = Field(description="metrics on the validation period (auc, accuracy, log_loss...)")
    test: dict[str, Any] = Field(description="out-of-sample metrics from the latest evaluation, when run")
    test_period: dict[str, Any] | None = Field(None, description="the evaluated period and symbols")
    validation_by_horizon: dict[str, dict[str, Any]] | None = Field(
        None, description="validation metrics of each horizon it predicts (keys: candles ahead)")


class ModelStatus(Answer):
    """One model (or the ensemble): training, validation and test metrics, serving figures."""

    id: ModelId = Field(description="model id (lower-case)")
    status: Status = Field(description="ready on at least one timeframe, failed to load, or not trained")
    family: str = Field(description="lstm, gru, transformer, cnn, boosting or ensemble")
    params: dict[str, Any] = Field(description="architecture parameters it was trained with")
    timeframes: list[str] = Field(description="timeframes where it is ready")
    timeframe: str | None = Field(description="the timeframe this status describes")
    model_version: str | None = Field(description="the version served")
    trained_at: str | None = Field(description="ISO 8601 UTC")
    training: dict[str, Any] = Field(description="data range, symbols, epochs and other training facts")
    skill: str | None = Field(description="whether it beats chance")
    metrics: ModelMetrics = Field(description="validation and out-of-sample test metrics")
    serving: Serving = Field(description="serving figures of every worker")
    live: dict[str, Any] | None = Field(None, description="skill on the forecasts it served whose outcome is known "
                                                          "(window_days, n_scored, auc, accuracy, log_loss, "
                                                          "calibration_error, since, drift: ok | warning | alarm | "
                                                          "insufficient_data, drift_reason)")
    reason: str | None = Field(None, description="why it is not ready")
    load_error: str | None = Field(None, description="a newer version CURRENT names that did not load, and why; "
                                                     "the version served is the previous good one")
    feature_hash: str | None = Field(None, description="hash of the feature list it was trained on")
    n_features: int | None = Field(None, description="features per candle")
    window: int | None = Field(None, description="candles per input window")
    horizon: int | None = Field(None, description="candles ahead it predicts by default (the first of horizons)")
    horizons: list[int] | None = Field(None, description="every horizon it predicts, one output each")
    n_parameters: int | None = Field(None, description="trainable parameters")
    ensemble: dict[str, Any] | None = Field(None, description="ensemble: members, weights and method")


class VersionChange(Answer):
    model: ModelId = Field(description="model id")
    timeframe: str = Field(description="candle length")
    before: str | None = Field(description="version served before (null: none)")
    after: str | None = Field(description="version served now (null: none)")


class Reloaded(Answer):
    reloaded: bool = Field(description="true once the current versions are loaded; false when the reload found "
                                       "nothing loadable and kept serving what it had (reason says why)")
    models: ModelCounts = Field(description="single models by status after the reload")
    changed: list[VersionChange] = Field([], description="models whose served version changed on this worker")
    refused: list[str] = Field([], description="new versions that did not load; their models keep serving the "
                                               "previous version")
    reason: str | None = Field(None, description="why nothing changed")
    announced: bool | None = Field(None, description="whether every other worker and replica sharing MODELS_DIR "
                                                     "was told to reload (they do within MODELS_POLL_S seconds)")


class SymbolsQuery(Query):
    timeframe: Timeframe = Field("1h", description="candle length the listing is about")


class SymbolInfo(Answer):
    """One symbol that has candles on the timeframe asked."""

    symbol: str = Field(description="exchange form, e.g. BTCUSDT")
    first: str = Field(description="open time of the first candle, ISO 8601 UTC")
    last: str = Field(description="open time of the last closed candle, ISO 8601 UTC")
    last_candle_age_s: float = Field(description="wall clock minus the close time of the last candle, in seconds")
    data_stale: bool = Field(description="true when the last candle is older than the timeframe allows")
    columns: list[str] = Field(description="candle columns held for this symbol: open, high, low, close, volume, "
                                           "and where present quote_volume, trades, taker_buy_volume, "
                                           "taker_buy_quote_volume")


class TrainedTimeframe(Answer):
    horizons: list[int] = Field(description="horizons (candles ahead) with a ready model")
    models: int = Field(ge=0, description="single models ready on this timeframe")


class SymbolsResponse(Answer):
    """What can be predicted, and how fresh its data is."""

    timeframe: Timeframe = Field(description="candle length the symbols are listed for (resampled from a "
                                             "finer timeframe where the data has no candles of this length)")
    data_source: Literal["csv", "live", "synthetic"] = Field(
        description="candle folder, the live store (what it holds now; listing fetches nothing), or the "
                    "synthetic market (not real prices)")
    count: int = Field(ge=0, description="number of symbols listed")
    symbols: list[SymbolInfo] = Field(description="by symbol, A to Z")
    trained: dict[str, TrainedTimeframe] = Field(description="per timeframe with a ready model: its horizons "
                                                             "and how many single models are ready")
