"""One contract for both candle stores: the embedded SQLite file and the deployment's PostgreSQL store
answer every call the same (replace on upsert, missing extra values read back missing, bounds of a read,
read_many, symbols, summary, series records), each write is all or nothing, and both give identical
results for the same writes. On a real PostgreSQL server."""

from __future__ import annotations

import time

import numpy as np
import pytest

from coinpredict.config import Settings
from coinpredict.data.candles import EXTRA_COLUMNS, Candles
from coinpredict.data.store import CandleStore
from coinpredict.data.store_pg import PostgresCandleStore
from coinpredict.data.stores import candle_store_backend, open_candle_store

H = 3_600_000
T0 = 1_700_000_000_000 // H * H


def _candles(n, start=0, symbol="XUSDT", timeframe="1h", price=100.0, extra=None, source="test"):
    t = T0 + start * H + H * np.arange(n, dtype=np.int64)
    c = price + np.arange(n, dtype=float)
    return Candles.from_arrays(symbol, timeframe, t, c, c + 1, c - 1, c, np.ones(n), extra=extra, source=source)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        opened = CandleStore(tmp_path / "s.sqlite")
    else:
        opened = PostgresCandleStore(request.getfixturevalue("empty_candle_database"))
    yield opened
    opened.close()


def test_upsert_replaces_whole_rows_and_reads_with_last_start_and_end(store):
    assert store.upsert(_candles(100, extra={"trades": np.full(100, 5.0)})) == 100
    store.upsert(_candles(10, start=95, price=500.0))  # overlaps 5: replaced (without trades), not duplicated
    assert store.count() == 105 and store.last_time("XUSDT", "1h") == T0 + 104 * H
    assert store.last_time("NOPE", "1h") is None and store.last_time("XUSDT", "4h") is None
    last = store.read("XUSDT", "1h", last=7)
    assert last.t.tolist() == [T0 + i * H for i in range(98, 105)]
    assert last.close.tolist() == [503.0, 504.0, 505.0, 506.0, 507.0, 508.0, 509.0]
    assert last.extra == {}  # the replacing rows had no trades: the column is absent from what was read
    np.testing.assert_array_equal(store.read("XUSDT", "1h", last=12).extra["trades"], [5.0, 5.0] + [np.nan] * 10)
    window = store.read("XUSDT", "1h", start_ms=T0 + 10 * H, end_ms=T0 + 20 * H)
    assert window.t.tolist() == [T0 + i * H for i in range(10, 20)] and window.open.tolist() == list(range(110, 120))
    np.testing.assert_array_equal(window.high, window.close + 1)
    assert store.read("XUSDT", "1h", last=3, end_ms=T0 + 20 * H).t.tolist() == [T0 + i * H for i in (17, 18, 19)]
    assert store.read("XUSDT", "1h", last=3, start_ms=T0 + 103 * H).t.tolist() == [T0 + 103 * H, T0 + 104 * H]
    assert len(store.read("XUSDT", "1h")) == 105 and store.read("XUSDT", "1h").t.dtype == np.int64
    empty = store.read("NOPE", "1h", last=10)
    assert len(empty) == 0 and empty.extra == {} and empty.source == "store" and empty.close.dtype == np.float64


def test_missing_extra_values_read_back_missing_and_unwritten_columns_absent(store):
    tbv = np.array([1.0, np.nan, 3.0, -2.0])  # NaN and a negative: missing
    store.upsert(_candles(4, extra={"taker_buy_volume": tbv, "trades": np.full(4, np.nan)}))
    back = store.read("XUSDT", "1h")
    assert list(back.extra) == ["taker_buy_volume"]  # every value missing: as if the source never had it
    np.testing.assert_array_equal(back.extra["taker_buy_volume"], [1.0, np.nan, 3.0, np.nan])
    full = {k: np.full(3, 4.0) for k in EXTRA_COLUMNS}
    store.upsert(_candles(3, start=4, extra=full))
    both = store.read("XUSDT", "1h", last=5)
    np.testing.assert_array_equal(both.extra["quote_volume"], [np.nan, np.nan, 4.0, 4.0, 4.0])
    assert list(both.extra) == list(EXTRA_COLUMNS)


def test_series_records_signatures_touch_and_the_source_of_reads(store):
    assert store.series_info("XUSDT", "1h") is None
    before = time.time()
    store.upsert(_candles(3, source="exchange"), signature="sig-1")
    info = store.series_info("XUSDT", "1h")
    assert (info["source"], info["signature"]) == ("exchange", "sig-1") and info["refreshed_at"] >= before - 1
    assert store.read("XUSDT", "1h").source == "exchange"
    store.upsert(_candles(1, start=3, source="exchange"))  # no signature: the record's is replaced
    assert store.series_info("XUSDT", "1h")["signature"] is None
    store.touch("YUSDT", "1h", "csv", "mtime:size")
    assert store.series_info("YUSDT", "1h")["signature"] == "mtime:size" and store.symbols("1h") == ["XUSDT", "YUSDT"]
    assert store.read("YUSDT", "1h").source == "csv" and store.count() == 4
    store.touch("YUSDT", "1h", "csv")
    assert store.series_info("YUSDT", "1h")["signature"] is None
    assert store.symbols("4h") == []


def test_read_many_symbols_and_summary(store):
    store.upsert(_candles(50, symbol="AUSDT", extra={"trades": np.arange(50.0)}))
    store.upsert(_candles(20, start=30, symbol="BUSDT", price=7.0))
    store.upsert(_candles(5, symbol="AUSDT", timeframe="4h"))
    many = store.read_many(["BUSDT", "AUSDT", "CUSDT"], "1h", 10)
    assert list(many) == ["BUSDT", "AUSDT", "CUSDT"] and len(many["CUSDT"]) == 0
    for symbol in ("AUSDT", "BUSDT"):
        one = store.read(symbol, "1h", last=10)
        got = many[symbol]
        assert got.t.tolist() == one.t.tolist() == [T0 + i * H for i in range(40, 50)]
        assert got.close.tolist() == one.close.tolist() and got.source == one.source == "test"
        assert {k: v.tolist() for k, v in got.extra.items()} == {k: v.tolist() for k, v in one.extra.items()}
    assert many["AUSDT"].extra["trades"].tolist() == list(range(40, 50)) and many["BUSDT"].extra == {}
    assert store.symbols("1h") == ["AUSDT", "BUSDT"] and store.symbols("4h") == ["AUSDT"]
    assert store.summary("1h", EXTRA_COLUMNS) == [("AUSDT", T0, T0 + 49 * H, ("trades",)),
                                                  ("BUSDT", T0 + 30 * H, T0 + 49 * H, ())]
    assert store.summary("1h") == [("AUSDT", T0, T0 + 49 * H, ()), ("BUSDT", T0 + 30 * H, T0 + 49 * H, ())]
    assert store.summary("1h", ("trades", "not_a_column")) == [("AUSDT", T0, T0 + 49 * H, ("trades",)),
                                                               ("BUSDT", T0 + 30 * H, T0 + 49 * H, ())]
    assert store.summary("1d") == [] and store.read_many([], "1h", 5) == {}
    store.touch("DUSDT", "1h", "exchange")  # a series with no candle is not summarised
    assert [row[0] for row in store.summary("1h", EXTRA_COLUMNS)] == ["AUSDT", "BUSDT"]


def test_a_failed_write_leaves_the_previous_state(store):
    store.upsert(_candles(50), signature="kept")
    bad = _candles(10, start=50)
    bad.close = bad.close.astype(object)
    bad.close[5] = None  # NOT NULL violation half-way through the batch
    with pytest.raises(Exception):  # noqa: B017 - each database names its integrity error its own way
        store.upsert(bad, signature="lost")
    assert store.count() == 50 and store.series_info("XUSDT", "1h")["signature"] == "kept"


def test_a_time_given_twice_in_one_write_keeps_the_later_and_a_nan_price_is_refused(store):
    twice = _candles(4)
    twice.t[2] = twice.t[1]  # the candle at T0 + H twice: the later one (close 102) is kept
    assert store.upsert(twice) == 4
    back = store.read("XUSDT", "1h")
    assert back.t.tolist() == [T0, T0 + H, T0 + 3 * H] and back.close.tolist() == [100.0, 102.0, 103.0]
    holed = _candles(3, start=10)
    holed.open[1] = np.nan
    with pytest.raises(Exception):  # noqa: B017 - each database names its integrity error its own way
        store.upsert(holed)
    assert store.count() == 3


def test_both_stores_answer_the_same_writes_identically(tmp_path, empty_candle_database):
    stores = [CandleStore(tmp_path / "s.sqlite"), PostgresCandleStore(empty_candle_database)]
    rng = np.random.default_rng(3)
    for k, symbol in enumerate(("AUSDT", "BUSDT", "CUSDT")):
        extra = {"quote_volume": np.where(rng.random(300) < 0.1, np.nan, rng.random(300) * 1e6)} if k else None
        written = _candles(300, start=k * 17, symbol=symbol, price=1.0 + k + rng.random(), extra=extra)
        for store in stores:
            store.upsert(written, signature=symbol)
    sqlite_store, pg_store = stores

    def same(a: Candles, b: Candles) -> None:
        assert (a.symbol, a.timeframe, a.source, list(a.extra)) == (b.symbol, b.timeframe, b.source, list(b.extra))
        for name in ("t", "open", "high", "low", "close", "volume"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        for name in a.extra:
            np.testing.assert_array_equal(a.extra[name], b.extra[name])

    for args in ({}, {"last": 40}, {"start_ms": T0 + 20 * H}, {"end_ms": T0 + 100 * H, "last": 30},
                 {"start_ms": T0 + 5 * H, "end_ms": T0 + 9 * H}):
        for symbol in ("AUSDT", "BUSDT", "CUSDT", "DUSDT"):
            same(sqlite_store.read(symbol, "1h", **args), pg_store.read(symbol, "1h", **args))
    a, b = sqlite_store.read_many(["CUSDT", "AUSDT"], "1h", 64), pg_store.read_many(["CUSDT", "AUSDT"], "1h", 64)
    assert list(a) == list(b)
    for symbol in a:
        same(a[symbol], b[symbol])
    assert sqlite_store.summary("1h", EXTRA_COLUMNS) == pg_store.summary("1h", EXTRA_COLUMNS)
    assert sqlite_store.symbols("1h") == pg_store.symbols("1h") and sqlite_store.count() == pg_store.count()


def test_the_factory_picks_postgresql_with_a_postgresql_database_unless_told_sqlite(tmp_path):
    pg = "postgresql+psycopg://u@127.0.0.1:9/db"
    assert candle_store_backend(Settings(database_url=pg)) == "postgresql"
    assert candle_store_backend(Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")) == "sqlite"
    assert candle_store_backend(Settings(database_url=pg, candle_store="sqlite")) == "sqlite"
    with pytest.raises(ValueError, match="not PostgreSQL"):
        candle_store_backend(Settings(database_url="sqlite://", candle_store="postgresql"))
    local = open_candle_store(Settings(database_url=pg, candle_store="sqlite", store_path=tmp_path / "c.sqlite"))
    assert isinstance(local, CandleStore) and (tmp_path / "c.sqlite").exists()
    assert isinstance(open_candle_store(Settings(database_url=pg)), PostgresCandleStore)  # connects on first use


def test_candle_store_setting_from_the_environment(monkeypatch):
    monkeypatch.setenv("CANDLE_STORE", " SQLite ")
    assert Settings.from_env().candle_store == "sqlite"
    monkeypatch.setenv("CANDLE_STORE", "redis")
    with pytest.raises(ValueError, match="CANDLE_STORE"):
        Settings.from_env()


def test_a_packed_array_not_of_the_asked_shape_is_refused_never_misread(empty_candle_database):
    from coinpredict.data.store_pg import float_matrix

    store = PostgresCandleStore(empty_candle_database)
    [(good, flat, holed, ints)] = store._rows(
        "SELECT array_send(ARRAY[[2.0, 1.0], [1.0, 5.0]]::float8[]), array_send(ARRAY[1.0, 2.0]::float8[]), "
        "array_send(ARRAY[[1.0, NULL]]::float8[]), array_send(ARRAY[[1, 2]]::int8[])", {})
    np.testing.assert_array_equal(float_matrix(good, 2), [[1.0, 5.0], [2.0, 1.0]])  # in time order
    assert float_matrix(None, 3).shape == (0, 3)
    for bad, width in ((good, 3), (flat, 2), (holed, 2), (ints, 2), (good[:-4], 2)):
        with pytest.raises(RuntimeError):
            float_matrix(bad, width)
