"""Shapes of the strategy endpoints (API.md, "Strategies (paper trading)"). A strategy's body is
``strategy.config.StrategyConfig`` itself: the API, the worker and the backtest validate one class."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ...strategy.config import StrategyConfig
from .common import Answer, IsoTime, Query, UtcTime

Status = Literal["running", "paused", "halted", "deleted"]
RETURN = "equity over the capital the book started with, less 1"
DRAWDOWN = "largest fall of the equity from its running peak, a fraction"


class StrategyListQuery(Query):
    status: Status | None = Field(None, description="only strategies in this state")


class TradesQuery(Query):
    since: IsoTime | None = Field(None, description="only fills at or after (ISO date or time)")
    limit: int = Field(100, ge=1, le=1000, description="newest first, at most this many")


class EquityQuery(Query):
    since: IsoTime | None = Field(None, description="only closes at or after (ISO date or time)")
    limit: int = Field(5000, ge=1, le=50_000, description="the newest this many points, oldest first")
    benchmarks: bool = Field(False, description="add buy-and-hold of the universe and the equal-weight market "
                                                "over the same closes, from the first point's equity")


class EventsQuery(Query):
    since: IsoTime | None = Field(None, description="only events at or after (ISO date or time)")
    limit: int = Field(100, ge=1, le=1000, description="newest first, at most this many")


class StrategySummary(Answer):
    id: str = Field(description="strategy id")
    name: str = Field(description="its name (of the current version)")
    kind: str = Field(description="signal or topk")
    timeframe: str = Field(description="candle length it trades on")
    status: Status = Field(description="running, paused, halted (by its drawdown limit) or deleted")
    version: int = Field(description="the current config version")
    equity: float = Field(description="cash plus positions at the last close (the capital before any close)")
    return_: float = Field(alias="return", description=RETURN)
    max_drawdown: float = Field(description=DRAWDOWN)
    updated_at: UtcTime = Field(description="when it was last changed (config, status)")


class StrategyList(Answer):
    count: int = Field(description="strategies listed")
    strategies: list[StrategySummary] = Field(description="newest first")


class StrategyPosition(Answer):
    symbol: str = Field(description="exchange symbol")
    quantity: float = Field(description="coins held; negative: short")
    entry_price: float = Field(description="average fill price of what is held")
    value: float = Field(description="quantity at the last close's price (negative for a short)")
    last_price: float = Field(description="the price it is valued at")


class StrategyLimitEvent(Answer):
    time: UtcTime = Field(description="when the limit acted")
    limit: str = Field(description="daily_loss, drawdown, resumed, cooldown, max_position, max_gross, max_net, "
                                   "max_positions, or stale_data (the close was skipped: its candles or forecasts "
                                   "were missing, or its prices invented)")
    detail: str = Field(description="what it did and why")
    symbols: list[str] = Field(description="the coins it concerned")


class Strategy(StrategySummary):
    halt_reason: str | None = Field(description="why the drawdown limit halted it (null unless halted)")
    created_at: UtcTime = Field(description="when it was created")
    last_close: UtcTime | None = Field(description="the newest close its book was run at; null before the first")
    config: StrategyConfig = Field(description="the current version's strategy")
    cash: float = Field(description="cash at the last close")
    sharpe: float = Field(description="of the per-close returns, annualised by the timeframe")
    exposure: float = Field(description="gross position value over equity")
    net_exposure: float = Field(description="net position value over equity")
    positions: list[StrategyPosition] = Field(description="open positions")
    limits: dict[str, Any] = Field(description="each limit's state: halted, daily_loss, drawdown, positions, gross, "
                                               "net, cooldown_until")
    events: list[StrategyLimitEvent] = Field(description="the limit events of the last close (and a resume after it)")


class StrategyEvents(Answer):
    count: int = Field(description="events listed")
    events: list[StrategyLimitEvent] = Field(description="newest first")


class StrategyTrade(Answer):
    time: UtcTime = Field(description="the candle open it filled at")
    symbol: str = Field(description="exchange symbol")
    side: Literal["buy", "sell"] = Field(description="buy or sell")
    quantity: float = Field(ge=0, description="coins traded")
    price: float = Field(description="fill price including slippage")
    fee: float = Field(description="fee paid, in the quote currency")
    slippage: float = Field(description="what slippage cost, in the quote currency")
    reason: str = Field(description="why: signal, topk, exit, trim, halted, ...")
    pnl: float | None = Field(description="an exit's profit net of its fees in and out; null otherwise")
    version: int = Field(description="the config version that traded it")


class StrategyTrades(Answer):
    count: int = Field(description="fills listed")
    trades: list[StrategyTrade] = Field(description="newest first")


class StrategyEquityPoint(Answer):
    time: UtcTime = Field(description="the close")
    equity: float = Field(description="cash plus positions")
    cash: float = Field(description="cash")
    exposure: float = Field(description="gross position value over equity")
    net_exposure: float = Field(description="net position value over equity")


class StrategyBenchmarks(Answer):
    universe: list[str] = Field(description="the coins bought and held (a top-N universe: the most quote volume "
                                            "over the 30 days before the first point)")
    buy_and_hold: list[float] | None = Field(description="per point: the first point's equity split equally over "
                                                         "the universe at its close and held; null without candles")
    market: list[float] | None = Field(description="per point: the same money in every held coin, equal weights "
                                                   "rebalanced each close; null without candles")


class StrategyEquity(Answer):
    count: int = Field(description="points listed")
    points: list[StrategyEquityPoint] = Field(description="oldest first")
    benchmarks: StrategyBenchmarks | None = Field(None, description="with ?benchmarks=true: the benchmark curves, "
                                                                    "one value per point")


class StrategyVersion(Answer):
    version: int = Field(description="1 for the strategy as created, one more for each change")
    created_at: UtcTime = Field(description="when it was made")
    config: StrategyConfig = Field(description="the strategy of that version")


class StrategyVersions(Answer):
    id: str = Field(description="strategy id")
    current: int = Field(description="the version it runs")
    versions: list[StrategyVersion] = Field(description="oldest first")
