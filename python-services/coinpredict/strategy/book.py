"""Holdings and cash, and how an order fills (qlib's ``position.py`` and ``exchange.py`` in one small
file, with typed fields instead of magic keys).

A fill happens at a candle's open plus slippage for a buy (minus for a sell) and pays ``fee_bps`` of the
filled notional. Quantities are signed (negative: short); cash moves by the signed notional, so equity is
cash plus every position valued at its last price, long or short.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BPS = 1e-4


class _State(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Position(_State):
    symbol: str
    quantity: float  # signed: negative is short
    entry_price: float  # average fill price of what is held
    entry_time: int  # ms, first fill of the position
    entry_fees: float = 0.0  # fees paid to open what is held (a losing exit counts them)
    last_price: float

    @property
    def value(self) -> float:
        return self.quantity * self.last_price

    @property
    def side(self) -> int:
        return 1 if self.quantity > 0 else -1 if self.quantity < 0 else 0


class Order(_State):
    """What the engine decided at a close, filled at the next open: ``close`` exits the whole position
    (whatever it holds then); otherwise ``quantity`` (signed) is traded."""

    symbol: str
    quantity: float = 0.0
    close: bool = False
    reason: str


class Fill(_State):
    time: int  # ms: the open of the candle it filled at
    symbol: str
    side: Literal["buy", "sell"]
    quantity: float = Field(ge=0)
    price: float  # including slippage
    fee: float
    slippage: float  # what slippage cost, in cash
    reason: str
    pnl: float | None = None  # an exit's profit net of its fees in and out; None for an entry or a trim


class Book(_State):
    cash: float
    positions: dict[str, Position] = Field(default_factory=dict)
    fees_paid: float = 0.0
    slippage_paid: float = 0.0

    def mark(self, prices: dict[str, float]) -> None:
        """Value every held position at its newest price (a coin without one keeps its last)."""
        for symbol, pos in self.positions.items():
            if symbol in prices:
                pos.last_price = float(prices[symbol])

    def equity(self) -> float:
        return self.cash + sum(p.value for p in self.positions.values())

    def gross(self) -> float:
        return sum(abs(p.value) for p in self.positions.values())

    def net(self) -> float:
        return sum(p.value for p in self.positions.values())

    def side(self, symbol: str) -> int:
        pos = self.positions.get(symbol)
        return 0 if pos is None else pos.side

    def fill(self, order: Order, open_price: float, time: int, *, fee_bps: float, slippage_bps: float) -> Fill | None:
        """Fill ``order`` at ``open_price`` plus slippage; None when nothing is left to trade."""
        pos = self.positions.get(order.symbol)
        quantity = (-pos.quantity if pos else 0.0) if order.close else order.quantity
        if quantity == 0:
            return None
        sign = 1.0 if quantity > 0 else -1.0
        price = open_price * (1 + sign * slippage_bps * BPS)
        notional = abs(quantity) * price
        fee = notional * fee_bps * BPS
        slippage = abs(quantity) * open_price * slippage_bps * BPS
        self.cash -= quantity * price + fee
        self.fees_paid += fee
        self.slippage_paid += slippage
        pnl = self._apply(order.symbol, quantity, price, fee, time, open_price)
        return Fill(time=time, symbol=order.symbol, side="buy" if sign > 0 else "sell", quantity=abs(quantity),
                    price=price, fee=fee, slippage=slippage, reason=order.reason, pnl=pnl)

    def _apply(self, symbol: str, quantity: float, price: float, fee: float, time: int, mark: float) -> float | None:
        """Update the holding; an exit (the position closed) returns its profit net of fees in and out."""
        pos = self.positions.get(symbol)
        if pos is None or pos.quantity == 0:
            self.positions[symbol] = Position(symbol=symbol, quantity=quantity, entry_price=price, entry_time=time,
                                              entry_fees=fee, last_price=mark)
            return None
        new = pos.quantity + quantity
        if pos.quantity * quantity > 0:  # adding to the position: average the entry
            pos.entry_price = (pos.entry_price * pos.quantity + price * quantity) / new
            pos.entry_fees += fee
            pos.quantity, pos.last_price = new, mark
            return None
        closed = min(abs(quantity), abs(pos.quantity))
        share = closed / abs(pos.quantity)
        pnl = closed * (price - pos.entry_price) * pos.side - pos.entry_fees * share - fee * closed / abs(quantity)
        if abs(new) <= abs(pos.quantity) * 1e-12:
            del self.positions[symbol]
            return pnl
        if new * pos.quantity < 0:  # through zero: the rest opens the other side
            rest = abs(new) / abs(quantity)
            self.positions[symbol] = Position(symbol=symbol, quantity=new, entry_price=price, entry_time=time,
                                              entry_fees=fee * rest, last_price=mark)
            return pnl
        pos.entry_fees *= 1 - share
        pos.quantity, pos.last_price = new, mark
        return None
