"""``GET /strategies/<id>/equity?benchmarks=true``: buy-and-hold of the strategy's universe and the
equal-weight market over the same closes, from the first point's equity, out of the candles the service
holds; checked against the folder's CSV files read here on their own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coinpredict.api.state import KEY
from coinpredict.common.times import iso
from coinpredict.errors import Unavailable
from coinpredict.strategy.config import TopUniverse
from tests.conftest import SYNTHETIC_END_MS, SYNTHETIC_SYMBOLS

from .helpers import strategy
from .seed import HOUR, seed_book

HEADERS = {"X-API-Key": "s3cret"}


@pytest.fixture
def app(synthetic_dir, tmp_path):
    from coinpredict import create_app

    return create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": tmp_path / "models",
                       "offline": True, "api_key": "s3cret", "database_url": f"sqlite:///{tmp_path / 's.sqlite'}",
                       "queue_path": tmp_path / "q.sqlite"})


def open_ms(frame: pd.DataFrame) -> np.ndarray:
    return pd.to_datetime(frame["timestamp"]).to_numpy().astype("datetime64[ms]").astype(np.int64)


def closes_by_close_time(synthetic_dir) -> pd.DataFrame:
    """Each coin's close, indexed by the time its candle closed (ms)."""
    out = {}
    for symbol in SYNTHETIC_SYMBOLS:
        frame = pd.read_csv(synthetic_dir / "1h" / f"{symbol}.csv")
        t = open_ms(frame) + HOUR
        out[symbol] = pd.Series(frame["close"].to_numpy(), index=t)
    return pd.DataFrame(out)


def make(app, **overrides) -> str:
    r = app.test_client().post("/strategies", json=strategy(**overrides), headers=HEADERS)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def test_the_benchmarks_follow_the_universe_and_the_market_from_the_first_points_equity(app, synthetic_dir):
    sid = make(app, universe=SYNTHETIC_SYMBOLS[:2])
    steps = seed_book(app.extensions[KEY].strategies, sid, synthetic_dir, 30, SYNTHETIC_END_MS - 5 * HOUR)
    client = app.test_client()
    plain = client.get(f"/strategies/{sid}/equity").get_json()
    assert "benchmarks" not in plain  # only when asked: it reads every coin's candles
    since = iso(steps[10].point.time)
    got = client.get(f"/strategies/{sid}/equity?benchmarks=true&since={since}").get_json()
    times = [s.point.time for s in steps[10:]]
    assert [p["time"] for p in got["points"]] == [iso(t) for t in times]
    closes = closes_by_close_time(synthetic_dir).loc[times]
    start = steps[10].point.equity
    held = closes[SYNTHETIC_SYMBOLS[:2]]
    expected_hold = start * (held / held.iloc[0]).mean(axis=1).to_numpy()
    expected_market = start * np.concatenate([[1.0], np.cumprod(1 + (closes / closes.shift(1) - 1)
                                                               .iloc[1:].mean(axis=1).to_numpy())])
    bench = got["benchmarks"]
    assert bench["universe"] == SYNTHETIC_SYMBOLS[:2]
    assert bench["buy_and_hold"] == pytest.approx(expected_hold, rel=1e-12)
    assert bench["market"] == pytest.approx(expected_market, rel=1e-12)
    assert bench["buy_and_hold"][0] == bench["market"][0] == pytest.approx(got["points"][0]["equity"])
    assert len(set(np.round(bench["market"], 6))) > 1  # the coins moved: not a flat line


def test_a_top_n_universe_holds_the_most_traded_coins_before_the_first_point(app, synthetic_dir):
    sid = make(app, universe={"top": 1})
    store = app.extensions[KEY].strategies
    store.new_version(sid, store.require(sid).config.model_copy(update={"universe": SYNTHETIC_SYMBOLS}))
    steps = seed_book(store, sid, synthetic_dir, 5, SYNTHETIC_END_MS)
    store.new_version(sid, store.require(sid).config.model_copy(update={"universe": TopUniverse(top=1)}))
    first = steps[0].point.time
    volume = {}
    for symbol in SYNTHETIC_SYMBOLS:
        frame = pd.read_csv(synthetic_dir / "1h" / f"{symbol}.csv")
        closed = open_ms(frame) + HOUR
        window = (closed <= first) & (closed > first - 30 * 24 * HOUR)
        volume[symbol] = float((frame["close"] * frame["volume"])[window].sum())
    got = app.test_client().get(f"/strategies/{sid}/equity?benchmarks=1").get_json()["benchmarks"]
    assert got["universe"] == [max(volume, key=volume.get)]
    assert len(got["buy_and_hold"]) == len(got["market"]) == 5


def test_no_points_or_no_candles_answer_empty_or_null_curves(app, synthetic_dir):
    sid = make(app, universe=SYNTHETIC_SYMBOLS[:2])
    client = app.test_client()
    got = client.get(f"/strategies/{sid}/equity?benchmarks=true").get_json()
    assert got["count"] == 0 and got["benchmarks"] == {"universe": SYNTHETIC_SYMBOLS[:2], "buy_and_hold": [],
                                                       "market": []}
    store = app.extensions[KEY].strategies
    steps = seed_book(store, sid, synthetic_dir, 3, SYNTHETIC_END_MS)
    later = steps[-1].point.time + 1000 * HOUR  # closes after the folder's last candle: nothing to value them at
    for k, step in enumerate(steps):
        point = step.point.model_copy(update={"time": later + k * HOUR})
        store.record_close(sid, 1, point.time, store.latest_close(sid).state, [], point, [])
    got = client.get(f"/strategies/{sid}/equity?benchmarks=true&since={iso(later)}").get_json()
    assert got["count"] == 3 and got["benchmarks"]["buy_and_hold"] is None and got["benchmarks"]["market"] is None
    assert client.get(f"/strategies/{sid}/equity?benchmarks=maybe").status_code == 400


def test_a_candle_source_that_fails_leaves_the_curves_null_and_the_points_answered(app, synthetic_dir, monkeypatch):
    sid = make(app, universe=SYNTHETIC_SYMBOLS[:2])
    seed_book(app.extensions[KEY].strategies, sid, synthetic_dir, 3, SYNTHETIC_END_MS)

    def unavailable(*_args, **_kwargs):
        raise Unavailable("the candle store is busy")

    monkeypatch.setattr(app.extensions[KEY].market, "held_series", unavailable)
    r = app.test_client().get(f"/strategies/{sid}/equity?benchmarks=true")
    assert r.status_code == 200 and r.get_json()["count"] == 3
    assert r.get_json()["benchmarks"] == {"universe": SYNTHETIC_SYMBOLS[:2], "buy_and_hold": None, "market": None}
