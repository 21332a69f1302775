"""The replay's live-against-backtest comparison of two books (``cli.replay_strategies.compare_books``)."""

from __future__ import annotations

from coinpredict.cli.replay_strategies import compare_books
from coinpredict.strategy.book import Fill
from coinpredict.strategy.engine import EquityPoint

T = 1_750_000_000_000


def fill(quantity: float, reason: str) -> Fill:
    return Fill(time=T, symbol="ETHUSDT", side="buy", quantity=quantity, price=2.0, fee=quantity * 2e-3,
                slippage=0.0, reason=reason)


def test_two_fills_of_one_coin_and_side_at_one_open_match_in_either_order():
    """Covering a short and opening a long are two buys of one coin at one open: the stored fills and the
    engine's need not list them in the same order, and the books are still the same."""
    backtest = [fill(100.0, "close"), fill(60.0, "signal")]
    live = [f.model_dump() for f in reversed(backtest)]
    points = [EquityPoint(time=T, equity=1000.0, cash=880.0, exposure=0.12, net_exposure=0.12, costs=0.3)]
    same = compare_books(live, [p.model_dump() for p in points], backtest, points, 1000.0, 1e-6)
    assert same["same"] and same["trades_apart"] == 0, same
    live[0]["quantity"] = 61.0  # a real difference of size is still found
    apart = compare_books(live, [p.model_dump() for p in points], backtest, points, 1000.0, 1e-6)
    assert not apart["same"] and apart["trades_apart"] == 1, apart
