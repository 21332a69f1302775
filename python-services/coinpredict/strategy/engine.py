"""One engine for backtests and paper trading: a candle in, fills, limit events and an equity point out.

``Engine.on_candle(t, opens, closes, forecasts)`` takes one closed candle (open time ``t``) of every coin
and the forecasts made at its close. It fills the orders decided at the previous close at this candle's
opens (``Book.fill``: plus slippage, minus for sells, and the fee), values the book at the closes, updates
every limit, and decides the orders the next candle's opens will fill. Nothing else moves it: the same
candles and forecasts give the same trades, and its whole state is a typed snapshot (``EngineState``), so
a worker can store it after a close and resume from it later.

Rebalances happen at candles whose index since the epoch is a multiple of ``horizon`` (evaluation's
``holding_starts``); limits are checked at every close.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..data.timeframes import TIMEFRAME_MS
from .book import BPS, Book, Fill, Order
from .config import StrategyConfig
from .limits import LimitEvent, LimitState, cap_kept, room
from .selection import Forecast, signal_priority, signal_sides, size, topk_sides

MIN_WEIGHT = 1e-6  # a new position below this fraction of equity is not worth an order


class EquityPoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time: int  # ms: the close
    equity: float
    cash: float
    exposure: float  # gross value over equity
    net_exposure: float
    costs: float  # fees and slippage paid so far


class Step(BaseModel):
    """What one candle did."""

    model_config = ConfigDict(extra="forbid")

    fills: list[Fill]
    events: list[LimitEvent]
    point: EquityPoint
    orders: list[Order]  # decided at this close, to fill at the next open


class EngineState(BaseModel):
    """Everything the engine carries from one close to the next."""

    model_config = ConfigDict(extra="forbid")

    book: Book
    limits: LimitState
    pending: list[Order] = Field(default_factory=list)
    last_time: int | None = None  # open time of the last candle taken


class Engine:
    def __init__(self, config: StrategyConfig, state: EngineState | None = None):
        self.config = config
        self.step_ms = TIMEFRAME_MS[config.timeframe]
        self.state = state or EngineState(book=Book(cash=config.capital),
                                          limits=LimitState(peak_equity=config.capital,
                                                            day_start_equity=config.capital))

    def snapshot(self) -> EngineState:
        return self.state.model_copy(deep=True)

    @classmethod
    def resume_from(cls, config: StrategyConfig, snapshot: str | dict) -> Engine:
        state = (EngineState.model_validate_json(snapshot) if isinstance(snapshot, str)
                 else EngineState.model_validate(snapshot))
        return cls(config, state)

    def resume(self, time_ms: int) -> LimitEvent:
        """Lift a drawdown halt (the API's resume)."""
        return self.state.limits.resume(time_ms, self.state.book.equity())

    def on_candle(self, t: int, opens: dict[str, float], closes: dict[str, float],
                  forecasts: dict[str, Forecast]) -> Step:
        state, book, limits = self.state, self.state.book, self.state.limits
        if state.last_time is not None and t <= state.last_time:
            raise ValueError(f"candle {t} is not after the last one taken ({state.last_time})")
        events: list[LimitEvent] = []
        fills = self._fill_pending(t, opens, events)
        book.mark(closes)
        close_ms = t + self.step_ms
        equity = book.equity()
        limits.roll_day(close_ms, equity)
        limits.expire(close_ms)
        for check in (limits.check_daily, limits.check_drawdown):
            event = check(close_ms, equity, self.config.limits)
            if event is not None:
                events.append(event)
        prices = {s: p.last_price for s, p in book.positions.items()} | closes
        state.pending = self._decide(t, close_ms, equity, prices, forecasts, events)
        state.last_time = t
        point = EquityPoint(time=close_ms, equity=equity, cash=book.cash,
                            exposure=book.gross() / equity if equity > 0 else 0.0,
                            net_exposure=book.net() / equity if equity > 0 else 0.0,
                            costs=book.fees_paid + book.slippage_paid)
        return Step(fills=fills, events=events, point=point, orders=list(state.pending))

    def _fill_pending(self, t: int, opens: dict[str, float], events: list[LimitEvent]) -> list[Fill]:
        """The previous close's orders at this candle's opens; a coin without an open is not filled (its
        order lapses: the next close decides again)."""
        costs, fills = self.config.costs, []
        for order in self.state.pending:
            if order.symbol not in opens:
                continue
            fill = self.state.book.fill(order, float(opens[order.symbol]), t, fee_bps=costs.fee_bps,
                                        slippage_bps=costs.slippage_bps)
            if fill is None:
                continue
            fills.append(fill)
            if fill.pnl is not None and fill.pnl < 0:
                event = self.state.limits.cool_down(fill.symbol, t, self.config.limits.cooldown_candles, self.step_ms)
                if event is not None:
                    events.append(event)
        self.state.pending = []
        return fills

    def _decide(self, t: int, close_ms: int, equity: float, prices: dict[str, float],
                forecasts: dict[str, Forecast], events: list[LimitEvent]) -> list[Order]:
        """The orders of this close, sized twice: once on the equity now, then on the equity less what those
        orders will cost (fees and slippage), so every cap still holds once they have filled."""
        book, limits = self.state.book, self.state.limits
        held = {s: p.side for s, p in book.positions.items()}
        if limits.halted is not None or equity <= 0:
            return [Order(symbol=s, close=True, reason="halted") for s in sorted(held)]
        sides, opens, reason = dict(held), [], "hold"
        if (t // self.step_ms) % self.config.horizon == 0:
            sides, opens, reason = self._targets(held, forecasts, close_ms)
        plan = (held, sides, opens, reason, prices, forecasts, close_ms)
        orders, _ = self._plan(equity, *plan)
        traded = sum(abs(book.positions[o.symbol].value if o.close else o.quantity * prices[o.symbol]) for o in orders)
        fee, slip = self.config.costs.fee_bps * BPS, self.config.costs.slippage_bps * BPS
        cost = fee * (1 + slip) + slip  # per unit traded: the fee is paid on the slipped price
        orders, planned_events = self._plan(equity - cost * traded, *plan)
        events += planned_events
        return orders

    def _plan(self, basis: float, held, sides, opens, reason, prices, forecasts, close_ms):
        """(orders, limit events) with every cap measured against ``basis``."""
        book, events = self.state.book, []
        orders = [Order(symbol=s, close=True, reason=reason) for s in sorted(held) if sides.get(s, held[s]) != held[s]]
        kept = {s: book.positions[s].value for s in sorted(held) if sides.get(s, held[s]) == held[s]}
        factors, cut = cap_kept(kept, basis, self.config.limits)
        for s, f in sorted(factors.items()):
            orders.append(Order(symbol=s, quantity=book.positions[s].quantity * (f - 1), reason="trim"))
            kept[s] *= f
        events += [LimitEvent(time=close_ms, limit=lim, symbols=syms, detail="positions cut to the cap")
                   for lim, syms in cut.items()]
        orders += self._opens(opens, sides, kept, basis, prices, forecasts, close_ms, events, reason)
        return orders, events

    def _targets(self, held: dict[str, int], forecasts: dict[str, Forecast], close_ms: int):
        """(side per coin, coins to open in priority order, the reason of the orders) at a rebalance."""
        limits = self.state.limits
        if self.config.kind == "signal":
            wanted = signal_sides(forecasts, self.config.short)
            sides = {**held, **wanted}
            opens = [s for s in signal_priority(forecasts) if wanted[s] != 0 and wanted[s] != held.get(s, 0)]
            return sides, opens, "signal"
        if limits.locked(close_ms):  # no rotation while nothing may replace what goes
            return dict(held), [], "rebalance"
        sides, opens = topk_sides(forecasts, held, self.config,
                                  lambda s: limits.blocked(s, close_ms) is None)
        return sides, opens, "rebalance"

    def _opens(self, opens: list[str], sides: dict[str, int], kept: dict[str, float], equity: float,
               prices: dict[str, float], forecasts: dict[str, Forecast], close_ms: int,
               events: list[LimitEvent], reason: str) -> list[Order]:
        """New positions in priority order, each sized and cut to the room the limits leave."""
        cfg, limits = self.config, self.state.limits
        planned, orders, refused = dict(kept), [], {}
        for s in opens:
            side = sides.get(s, 0)
            if side == 0 or s not in prices or s not in forecasts:
                continue
            why = limits.blocked(s, close_ms)
            if why is None and cfg.limits.max_positions is not None and len(planned) >= cfg.limits.max_positions:
                why = "max_positions"
            wanted = size(forecasts[s], cfg.sizing) * equity
            limit_value, limit = room(planned, side, equity, cfg.limits)
            value = min(wanted, limit_value)
            if why is None and value < MIN_WEIGHT * equity:
                if wanted < MIN_WEIGHT * equity:  # nothing to size (vol_target without an expected move)
                    continue
                why = limit
            if why is not None:
                refused.setdefault(why, []).append(s)
                continue
            if value < wanted and limit != "max_position":
                refused.setdefault(limit, []).append(s)
            planned[s] = side * value
            orders.append(Order(symbol=s, quantity=side * value / prices[s], reason=reason))
        events += [LimitEvent(time=close_ms, limit=lim, symbols=syms, detail="new positions refused or cut")
                   for lim, syms in refused.items()]
        return orders

    def limit_state(self) -> dict:
        """Each limit's state now (the API's ``limits``)."""
        book, lim, cfg = self.state.book, self.state.limits, self.config.limits
        equity = book.equity()

        def ratio(a: float, b: float | None) -> float:
            return a / b if b else 0.0

        return {"halted": lim.halted,
                "daily_loss": {"day_start_equity": lim.day_start_equity,
                               "loss": 1 - ratio(equity, lim.day_start_equity),
                               "limit": cfg.max_daily_loss, "locked_until": lim.locked_until},
                "drawdown": {"peak_equity": lim.peak_equity, "drawdown": 1 - ratio(equity, lim.peak_equity),
                             "limit": cfg.max_drawdown},
                "positions": {"open": len(book.positions), "limit": cfg.max_positions},
                "gross": {"exposure": ratio(book.gross(), equity), "limit": cfg.max_gross},
                "net": {"exposure": ratio(book.net(), equity), "limit": cfg.max_net},
                "cooldown_until": dict(lim.cooldown_until)}
