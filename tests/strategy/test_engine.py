"""The engine against hand-computed fills and forced limits."""

from __future__ import annotations

import numpy as np
import pytest

from coinpredict.strategy.engine import Engine

from .helpers import DAY, HOUR, T0, engine, forecast, run


def test_fills_at_the_next_open_plus_slippage_and_fees_add_up_by_hand():
    eng = engine()
    buy = {"AAAUSDT": forecast("AAAUSDT", "BUY")}
    hold = {"AAAUSDT": forecast("AAAUSDT", "HOLD")}
    s0 = eng.on_candle(T0, {"AAAUSDT": 99.0}, {"AAAUSDT": 100.0}, buy)
    assert s0.fills == [] and s0.point.equity == 10_000.0
    # Sized at the close on the equity less what the order will cost (fee on the slipped price, slippage).
    q = 0.5 * (10_000 - 5_000 * (1e-3 * 1.0002 + 2e-4)) / 100.0
    assert s0.orders[0].quantity == pytest.approx(q, rel=1e-12)
    s1 = eng.on_candle(T0 + HOUR, {"AAAUSDT": 101.0}, {"AAAUSDT": 102.0}, hold)
    (f1,) = s1.fills
    assert (f1.time, f1.side, f1.reason) == (T0 + HOUR, "buy", "signal")
    assert f1.price == pytest.approx(101.0 * 1.0002, rel=1e-12)
    assert f1.fee == pytest.approx(q * 101.0 * 1.0002 * 0.001, rel=1e-12)
    cash = 10_000 - q * 101.0 * 1.0002 - q * 101.0 * 1.0002 * 0.001
    assert s1.point.cash == pytest.approx(cash, rel=1e-12)
    assert s1.point.equity == pytest.approx(cash + q * 102.0, rel=1e-12)
    s2 = eng.on_candle(T0 + 2 * HOUR, {"AAAUSDT": 103.0}, {"AAAUSDT": 90.0}, hold)
    (f2,) = s2.fills
    sell = 103.0 * 0.9998
    assert (f2.side, f2.price) == ("sell", pytest.approx(sell, rel=1e-12))
    assert f2.fee == pytest.approx(q * sell * 0.001, rel=1e-12)
    assert f2.pnl == pytest.approx(q * (sell - 101.0 * 1.0002) - f1.fee - f2.fee, rel=1e-9)
    final = cash + q * sell - q * sell * 0.001
    assert s2.point.equity == pytest.approx(final, rel=1e-12) and eng.state.book.positions == {}
    assert eng.state.book.fees_paid == pytest.approx(f1.fee + f2.fee, rel=1e-12)
    assert s2.point.costs == pytest.approx(f1.fee + f2.fee + q * 101.0 * 2e-4 + q * 103.0 * 2e-4, rel=1e-12)


def _falling(n: int, drop: float = 0.01) -> list[dict[str, float]]:
    return [{"AAAUSDT": 100.0 * (1 - drop) ** (k + 1)} for k in range(n)]


def test_a_losing_streak_stops_new_orders_at_the_daily_loss_limit_until_the_next_utc_day():
    eng = engine(limits={"max_daily_loss": 0.05, "max_drawdown": 0.9})
    # BUY at even candles, HOLD at odd ones: a position opened and closed every two hours, losing each time.
    closes = _falling(40)
    steps, _ = run(eng, closes, lambda k: {"AAAUSDT": forecast("AAAUSDT", "BUY" if k % 2 == 0 else "HOLD")},
                   first_open={"AAAUSDT": 100.0})
    locks = [e for s in steps for e in s.events if e.limit == "daily_loss" and "no new positions" in e.detail]
    assert len(locks) == 1
    locked_at, next_day = locks[0].time, T0 + DAY
    assert locked_at < next_day
    buys = [f.time for s in steps for f in s.fills if f.side == "buy"]
    assert [t for t in buys if locked_at < t < next_day] == []  # nothing opened for the rest of the day
    assert any(t >= next_day for t in buys)  # and opening again once the UTC day turned
    refused = [e for s in steps for e in s.events if e.limit == "daily_loss" and e.detail.startswith("new")]
    assert refused and all(locked_at <= e.time < next_day for e in refused)
    # The loss really was over the limit when it locked, and below it at every earlier close.
    before = [s.point for s in steps if s.point.time < locked_at]
    assert all(p.equity > 10_000 * 0.95 for p in before)


def test_the_drawdown_limit_halts_closes_and_says_why_until_resumed():
    eng = engine(limits={"max_daily_loss": 1.0, "max_drawdown": 0.1})
    closes = _falling(30, drop=0.02)
    steps, _ = run(eng, closes, lambda k: {"AAAUSDT": forecast("AAAUSDT", "BUY")}, first_open={"AAAUSDT": 100.0})
    halts = [e for s in steps for e in s.events if e.limit == "drawdown"]
    assert len(halts) == 1 and "halted" in halts[0].detail
    assert eng.state.limits.halted is not None and "drawdown" in eng.state.limits.halted
    after = [f for s in steps for f in s.fills if f.time >= halts[0].time]  # the next open is that close
    assert [f.reason for f in after] == ["halted"] and after[0].side == "sell"
    assert eng.state.book.positions == {}
    # Still halted on a recovery; resuming lets it trade again.
    t = T0 + 30 * HOUR
    eng.on_candle(t, {"AAAUSDT": 60.0}, {"AAAUSDT": 70.0}, {"AAAUSDT": forecast("AAAUSDT", "BUY")})
    assert eng.state.pending == []
    assert eng.resume(t + HOUR).limit == "resumed"
    step = eng.on_candle(t + HOUR, {"AAAUSDT": 70.0}, {"AAAUSDT": 70.0}, {"AAAUSDT": forecast("AAAUSDT", "BUY")})
    assert [o.quantity > 0 for o in step.orders] == [True]


def _book_at(eng: Engine, opens: dict[str, float]) -> tuple[dict[str, float], float]:
    """Each position's value and the equity at the open it just filled at."""
    book = eng.state.book
    values = {s: p.quantity * opens.get(s, p.last_price) for s, p in book.positions.items()}
    return values, book.cash + sum(values.values())


def test_no_position_exceeds_its_cap_even_when_every_coin_signals(rng):
    coins = [f"C{i}USDT" for i in range(6)]
    eng = engine(universe=coins, sizing={"fraction": 0.3},
                 limits={"max_position": 0.3, "max_gross": 1.0, "max_positions": 5})
    paths = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, (60, len(coins))), axis=0))
    closes = [dict(zip(coins, row)) for row in paths]
    steps, opens = run(eng, closes, lambda k: {s: forecast(s, "BUY", p=0.55 + 0.01 * i) for i, s in enumerate(coins)})
    engine_check = Engine(eng.config)
    for k, (close, open_) in enumerate(zip(closes, opens)):
        step = engine_check.on_candle(T0 + k * HOUR, open_, close,
                                      {s: forecast(s, "BUY", p=0.55 + 0.01 * i) for i, s in enumerate(coins)})
        values, equity = _book_at(engine_check, open_)
        assert all(abs(v) <= 0.3 * equity * (1 + 1e-6) for v in values.values()), (k, values, equity)
        assert sum(abs(v) for v in values.values()) <= 1.0 * equity * (1 + 1e-6)
        assert len(values) <= 5
        assert step.point == steps[k].point  # deterministic: the same feed, the same book
    # 0.3 + 0.3 + 0.3 + the 0.1 the gross cap leaves at first; then what losses free, up to max_positions.
    assert [o.reason for o in steps[0].orders] == ["signal"] * 4
    assert len(eng.state.book.positions) == 5
    limits_hit = {e.limit for s in steps for e in s.events}
    assert {"max_gross", "max_positions", "max_position"} <= limits_hit


def test_exposure_caps_hold_when_ranks_change_and_topk_replaces_at_most_n_drop(rng):
    coins = [f"C{i}USDT" for i in range(8)]
    eng = engine(kind="topk", universe=coins, k=3, n_drop=1, short=True, sizing={"fraction": 0.25},
                 limits={"max_position": 0.25, "max_gross": 1.0, "max_net": 0.2})
    closes = [dict(zip(coins, row)) for row in 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (50, 8)), axis=0))]
    ranks = rng.uniform(0.3, 0.7, (50, 8))
    previous_long: set[str] = set()
    previous = closes[0]
    for k, close in enumerate(closes):
        opens = {s: previous[s] for s in coins}
        eng.on_candle(T0 + k * HOUR, opens, close, {s: forecast(s, "HOLD", p=ranks[k, i]) for i, s in enumerate(coins)})
        values, equity = _book_at(eng, opens)
        assert all(abs(v) <= 0.25 * equity * (1 + 1e-6) for v in values.values())
        assert sum(abs(v) for v in values.values()) <= equity * (1 + 1e-6)
        assert abs(sum(values.values())) <= 0.2 * equity * (1 + 1e-6)
        longs = {s for s, v in values.items() if v > 0}
        # At most n_drop held coins replaced; a book short of k (a cap refused an open) is topped up.
        assert len(longs) <= 3 and len(previous_long - longs) <= 1
        assert len(longs - previous_long) <= 1 + 3 - len(previous_long)
        previous_long, previous = longs, close
    assert len([v for v in values.values() if v < 0]) >= 1  # it does short the worst ranked


def test_a_losing_exit_cools_the_coin_down():
    eng = engine(limits={"cooldown_candles": 3})
    closes = _falling(12)
    signals = lambda k: {"AAAUSDT": forecast("AAAUSDT", "HOLD" if k == 1 else "BUY")}  # noqa: E731
    steps, _ = run(eng, closes, signals, first_open={"AAAUSDT": 100.0})
    fills = [(f.time, f.side) for s in steps for f in s.fills]
    exit_time = T0 + 2 * HOUR  # decided flat at candle 1's close, filled at candle 2's open, at a loss
    assert fills[:2] == [(T0 + HOUR, "buy"), (exit_time, "sell")]
    assert any(e.limit == "cooldown" for s in steps for e in s.events)
    # Flat for the exit's candle and three more, then long again.
    assert fills[2] == (exit_time + 4 * HOUR, "buy")


def test_a_snapshot_resumes_exactly_where_the_engine_stopped(rng):
    coins = ["AUSDT", "BUSDT", "CUSDT"]
    overrides = {"universe": coins, "sizing": {"fraction": 0.3}, "short": True,
                 "limits": {"max_position": 0.4, "cooldown_candles": 2, "max_daily_loss": 0.03}}
    closes = [dict(zip(coins, row)) for row in 100 * np.exp(np.cumsum(rng.normal(0, 0.02, (60, 3)), axis=0))]
    choice = rng.integers(0, 3, (60, 3))

    def signals(k):
        return {s: forecast(s, ("BUY", "SELL", "HOLD")[choice[k, i]]) for i, s in enumerate(coins)}

    straight, _ = run(engine(**overrides), closes, signals)
    first = engine(**overrides)
    steps_a, _ = run(first, closes[:30], signals)
    saved = first.snapshot().model_dump_json()
    second = Engine.resume_from(first.config, saved)
    previous = closes[29]
    steps_b = []
    for k in range(30, 60):
        opens = {s: previous[s] for s in coins}
        steps_b.append(second.on_candle(T0 + k * HOUR, opens, closes[k], signals(k)))
        previous = closes[k]
    assert [s.model_dump() for s in steps_a + steps_b] == [s.model_dump() for s in straight]
    assert sum(len(s.fills) for s in straight) > 10
    with pytest.raises(ValueError, match="not after"):
        second.on_candle(T0, {}, {}, {})


def test_vol_target_sizes_from_the_expected_move_within_the_cap():
    eng = engine(universe=["AUSDT", "BUSDT", "CUSDT"],
                 sizing={"method": "vol_target", "fraction": None, "target_bps": 20},
                 limits={"max_position": 0.4}, costs={"fee_bps": 0.0, "slippage_bps": 0.0})
    forecasts = {"AUSDT": forecast("AUSDT", move=100.0),  # 20 / 100: a fifth of equity
                 "BUSDT": forecast("BUSDT", move=25.0),  # 20 / 25 = 0.8: cut to the 0.4 cap
                 "CUSDT": forecast("CUSDT", move=0.0)}  # no expected move: no position
    step = eng.on_candle(T0, {"AUSDT": 10.0, "BUSDT": 20.0, "CUSDT": 5.0},
                         {"AUSDT": 10.0, "BUSDT": 20.0, "CUSDT": 5.0}, forecasts)
    sized = {o.symbol: o.quantity for o in step.orders}
    assert sized == {"AUSDT": pytest.approx(0.2 * 10_000 / 10.0), "BUSDT": pytest.approx(0.4 * 10_000 / 20.0)}
