"""Strategies and candle feeds for the engine tests: prices and forecasts planted by hand."""

from __future__ import annotations

from coinpredict.strategy.config import parse_strategy
from coinpredict.strategy.engine import Engine
from coinpredict.strategy.selection import Forecast

HOUR = 3_600_000
DAY = 24 * HOUR
T0 = 1_735_689_600_000  # 2025-01-01T00:00Z


def strategy(**overrides) -> dict:
    base = {"name": "test", "kind": "signal", "timeframe": "1h", "horizon": 1, "model": "lightgbm",
            "universe": ["AAAUSDT"], "capital": 10_000.0,
            "sizing": {"method": "fixed_fraction", "fraction": 0.5},
            "limits": {"max_position": 0.5, "max_gross": 1.0, "max_daily_loss": 0.5, "max_drawdown": 0.9},
            "costs": {"fee_bps": 10.0, "slippage_bps": 2.0}}
    for key, value in overrides.items():
        base[key] = {**base[key], **value} if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return base


def engine(**overrides) -> Engine:
    return Engine(parse_strategy(strategy(**overrides)))


def forecast(symbol: str, signal: str = "BUY", p: float = 0.6, move: float = 100.0) -> Forecast:
    edge = (2 * p - 1) * move
    return Forecast(symbol=symbol, probability_up=p, signal=signal, edge_bps=edge, expected_move_bps=move)


def run(eng: Engine, closes: list[dict[str, float]], signals, *, first_open: dict[str, float] | None = None):
    """Feed hourly candles from T0 whose open is the previous close (``first_open`` for the first);
    ``signals(k)`` gives candle k's forecasts. Returns the steps and each candle's opens."""
    steps, opens_seen = [], []
    previous = first_open or closes[0]
    for k, close in enumerate(closes):
        opens = {s: previous.get(s, c) for s, c in close.items()}
        steps.append(eng.on_candle(T0 + k * HOUR, opens, close, signals(k)))
        opens_seen.append(opens)
        previous = close
    return steps, opens_seen
