"""Risk limits in freqtrade's spirit: each check says whether it blocks, until when and why, and what it
decides is a ``LimitEvent`` the report, the API and the page show.

Account limits (``LimitState``): the daily loss limit locks new positions until the next UTC day; the
drawdown limit halts the strategy (it closes what it holds and stays halted until resumed); a losing exit
cools its coin down for ``cooldown_candles``. Exposure caps (``cap_kept``, ``room``) are fractions of
equity at the close the decision is made at: the position cap per coin, the gross and the net cap.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .config import Limits

DAY_MS = 86_400_000
OVER = 1e-9  # relative slack before a cap counts as broken (float rounding, not a tolerance band)


class LimitEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time: int  # ms: the close the limit acted at (a cooldown: the exit's fill)
    limit: str  # daily_loss | drawdown | resumed | cooldown | max_position | max_gross | max_net | max_positions
    #             | stale_data (strategy.live: a close skipped)
    detail: str
    symbols: list[str] = Field(default_factory=list)


class LimitState(BaseModel):
    """Every account limit's state: what a restarted worker needs to carry on where it stopped."""

    model_config = ConfigDict(extra="forbid")

    peak_equity: float
    day: int | None = None  # UTC day (days since the epoch) of the last close
    day_start_equity: float
    locked_until: int | None = None  # ms: the daily loss limit blocks new positions before it
    halted: str | None = None  # why the drawdown limit halted the strategy; None while it runs
    cooldown_until: dict[str, int] = Field(default_factory=dict)  # symbol -> ms it may reopen at (a close)

    def roll_day(self, close_ms: int, equity: float) -> None:
        """A close in a new UTC day starts that day's loss count from the equity now."""
        day = close_ms // DAY_MS
        if day != self.day:
            self.day, self.day_start_equity = day, equity
            if self.locked_until is not None and close_ms >= self.locked_until:
                self.locked_until = None

    def check_daily(self, close_ms: int, equity: float, limits: Limits) -> LimitEvent | None:
        loss = 1 - equity / self.day_start_equity if self.day_start_equity > 0 else 0.0
        if self.locked_until is None and loss >= limits.max_daily_loss:
            self.locked_until = (close_ms // DAY_MS + 1) * DAY_MS
            return LimitEvent(time=close_ms, limit="daily_loss",
                              detail=f"lost {loss:.2%} today (limit {limits.max_daily_loss:.2%}): "
                                     f"no new positions until the next UTC day")
        return None

    def check_drawdown(self, close_ms: int, equity: float, limits: Limits) -> LimitEvent | None:
        self.peak_equity = max(self.peak_equity, equity)
        drawdown = 1 - equity / self.peak_equity if self.peak_equity > 0 else 0.0
        if self.halted is None and drawdown >= limits.max_drawdown:
            self.halted = f"drawdown {drawdown:.2%} reached the limit of {limits.max_drawdown:.2%}"
            return LimitEvent(time=close_ms, limit="drawdown", detail=f"halted: {self.halted}; positions closed")
        return None

    def resume(self, time_ms: int, equity: float) -> LimitEvent:
        """Lift a halt; the drawdown counts again from the equity now (else it would halt at once)."""
        was, self.halted, self.peak_equity = self.halted, None, equity
        return LimitEvent(time=time_ms, limit="resumed", detail=f"resumed (was halted: {was})")

    def locked(self, close_ms: int) -> bool:
        """Whether the daily loss limit blocks new positions at this close."""
        return self.locked_until is not None and close_ms < self.locked_until

    def blocked(self, symbol: str, close_ms: int) -> str | None:
        """Why no new position in ``symbol`` may be opened at this close, or None."""
        if self.halted is not None:
            return "drawdown"
        if self.locked(close_ms):
            return "daily_loss"
        until = self.cooldown_until.get(symbol)
        if until is not None and close_ms < until:
            return "cooldown"
        return None

    def cool_down(self, symbol: str, fill_ms: int, candles: int, step_ms: int) -> LimitEvent | None:
        """A losing exit filled at ``fill_ms``: no new position in the coin for ``candles`` more candles."""
        if candles <= 0:
            return None
        self.cooldown_until[symbol] = fill_ms + (candles + 1) * step_ms
        return LimitEvent(time=fill_ms, limit="cooldown", symbols=[symbol],
                          detail=f"losing exit: no new position for {candles} candles")

    def expire(self, close_ms: int) -> None:
        self.cooldown_until = {s: t for s, t in self.cooldown_until.items() if t > close_ms}


def cap_kept(values: dict[str, float], equity: float, limits: Limits) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Scale factors (< 1) for kept positions (signed values at the close) that break a cap, and which
    cap cut which coins: each to the position cap, then all to the gross cap, then the side that breaks
    the net cap."""
    factor = {s: 1.0 for s in values}
    cut: dict[str, list[str]] = {}
    cap = limits.max_position * equity
    for s, v in values.items():
        if abs(v) > cap * (1 + OVER):
            factor[s] = cap / abs(v)
            cut.setdefault("max_position", []).append(s)
    gross = sum(abs(v) * factor[s] for s, v in values.items())
    if gross > limits.max_gross * equity * (1 + OVER):
        scale = limits.max_gross * equity / gross
        for s in values:
            factor[s] *= scale
        cut["max_gross"] = sorted(values)
    if limits.max_net is not None:
        net = sum(v * factor[s] for s, v in values.items())
        excess = abs(net) - limits.max_net * equity
        if excess > limits.max_net * equity * OVER and excess > 0:
            side = [s for s, v in values.items() if v * net > 0]
            total = sum(abs(values[s]) * factor[s] for s in side)
            for s in side:
                factor[s] *= (total - excess) / total
            cut["max_net"] = sorted(side)
    return {s: f for s, f in factor.items() if f < 1.0}, cut


def room(values: dict[str, float], side: int, equity: float, limits: Limits) -> tuple[float, str]:
    """The largest value a new position on ``side`` may take next to ``values`` (planned, signed), and
    the limit that sets it."""
    bounds = [(limits.max_position * equity, "max_position"),
              (limits.max_gross * equity - sum(abs(v) for v in values.values()), "max_gross")]
    if limits.max_net is not None:
        bounds.append((limits.max_net * equity - side * sum(values.values()), "max_net"))
    value, limit = min(bounds)
    return max(value, 0.0), limit
