"""The exchange's extra kline columns (quote volume, trades, taker-buy volumes) survive every path a
candle takes, and their absence stays absence: CSV (both layouts), the exchange, the store (including
one written before the columns existed), client candles and resampling."""

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from coinpredict.data.candles import EXTRA_COLUMNS, Candles, resample
from coinpredict.data.client_candles import InvalidCandles, parse_candles
from coinpredict.data.ingest import ingest_folder
from coinpredict.data.sources.csvdir import CsvFolderSource, read_candle_csv
from coinpredict.data.sources.exchange import klines_to_candles
from coinpredict.data.store import VERSION, CandleStore

H = 3_600_000
T0 = 1735689600000  # 2025-01-01 00:00 UTC
HEADER6 = "timestamp,open,high,low,close,volume"
HEADER10 = HEADER6 + ",quote_volume,trades,taker_buy_volume,taker_buy_quote_volume"


def _rows(n: int, extra: bool) -> list[str]:
    out = []
    for i in range(n):
        stamp = f"2025-01-01 {i:02d}:00:00"
        line = f"{stamp},{10 + i},{11 + i},{9 + i},{10.5 + i},{100 + i}"
        out.append(line + (f",{1000 + i},{50 + i},{40 + i},{400 + i}" if extra else ""))
    return out


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_project_layout_keeps_the_columns_and_a_six_column_file_is_unchanged(tmp_path):
    wide, _ = read_candle_csv(_write(tmp_path / "1h" / "A.csv", HEADER10, _rows(8, True)), "1h")
    narrow, report = read_candle_csv(_write(tmp_path / "1h" / "B.csv", HEADER6, _rows(8, False)), "1h")
    assert list(wide.extra) == list(EXTRA_COLUMNS)
    np.testing.assert_array_equal(wide.extra["trades"], 50 + np.arange(8))
    np.testing.assert_array_equal(wide.extra["taker_buy_quote_volume"], 400 + np.arange(8))
    assert narrow.extra == {} and report.extra_columns == [] and report.extra_marked_missing == 0
    for name in ("t", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(wide, name), getattr(narrow, name))
    assert set(narrow.to_frame().columns) == {"t", "open", "high", "low", "close", "volume"}


def test_a_bad_extra_value_is_missing_and_its_candle_kept(tmp_path):
    rows = _rows(5, True)
    rows[1] = "2025-01-01 01:00:00,11,12,10,11.5,101,-5,51,41,401"  # negative quote volume
    rows[2] = "2025-01-01 02:00:00,12,13,11,12.5,102,1002,x,500,402"  # unreadable trades, taker > volume
    rows[3] = "2025-01-01 03:00:00,13,14,12,13.5,103,1003,53,103.00000001,"  # taker = volume (rounding), empty
    candles, report = read_candle_csv(_write(tmp_path / "1h" / "A.csv", HEADER10, rows), "1h")
    assert len(candles) == 5 and report.rejected == []
    qv, n, tbv, tbqv = (candles.extra[k] for k in EXTRA_COLUMNS)
    assert np.isnan(qv[1]) and np.isnan(n[2]) and np.isnan(tbv[2]) and np.isnan(tbqv[3])
    assert tbv[3] == pytest.approx(103.0) and n[1] == 51 and tbqv[1] == 401  # 401 > a missing total: kept
    assert report.extra_marked_missing == 3  # the empty cell was missing already, not marked
    assert report.summary()["extra_columns"] == list(EXTRA_COLUMNS)


def test_kline_export_keeps_its_columns_when_it_has_them(tmp_path):
    full = [f"{T0 + i * H},1,2,0.5,1.5,10,{T0 + (i + 1) * H - 1},15,3,5,7,0" for i in range(3)]
    short = [f"{T0 + i * H},1,2,0.5,1.5,10" for i in range(3)]
    a, _ = read_candle_csv(_write(tmp_path / "1h" / "A.csv", full[0], full[1:]), "1h")
    b, _ = read_candle_csv(_write(tmp_path / "1h" / "B.csv", short[0], short[1:]), "1h")
    assert {k: v.tolist() for k, v in a.extra.items()} == {
        "quote_volume": [15.0] * 3, "trades": [3.0] * 3, "taker_buy_volume": [5.0] * 3,
        "taker_buy_quote_volume": [7.0] * 3}
    assert b.extra == {} and len(b) == 3


def test_csv_to_store_to_read_keeps_them_and_six_columns_stay_without(tmp_path):
    _write(tmp_path / "data" / "1h" / "AUSDT.csv", HEADER10, _rows(20, True))
    _write(tmp_path / "data" / "1h" / "BUSDT.csv", HEADER6, _rows(20, False))
    store = CandleStore(tmp_path / "s.sqlite")
    assert ingest_folder(store, tmp_path / "data")["inserted"] == 40
    source = CsvFolderSource(tmp_path / "data")
    a, b = store.read("AUSDT", "1h"), store.read("BUSDT", "1h", last=5)
    expected = source.fetch("AUSDT", "1h")
    assert list(a.extra) == list(EXTRA_COLUMNS)
    for name in EXTRA_COLUMNS:
        np.testing.assert_array_equal(a.extra[name], expected.extra[name])
    np.testing.assert_array_equal(store.read("AUSDT", "1h", last=3).extra["trades"], [67, 68, 69])
    assert b.extra == {} and len(b) == 5


def test_missing_values_are_stored_as_null_and_read_back_missing(tmp_path):
    t = T0 + H * np.arange(4)
    tbv = np.array([1.0, np.nan, 3.0, 4.0])
    candles = Candles.from_arrays("XUSDT", "1h", t, *[np.full(4, 2.0)] * 4, np.full(4, 9.0),
                                  extra={"taker_buy_volume": tbv}, source="test")
    store = CandleStore(tmp_path / "s.sqlite")
    store.upsert(candles)
    nulls = sqlite3.connect(tmp_path / "s.sqlite").execute(
        "SELECT COUNT(*) FROM candles WHERE taker_buy_volume IS NULL").fetchone()[0]
    assert nulls == 1
    back = store.read("XUSDT", "1h")
    assert list(back.extra) == ["taker_buy_volume"]  # the columns never written are absent, not NaN
    np.testing.assert_array_equal(back.extra["taker_buy_volume"], tbv)


OLD_SCHEMA = """
CREATE TABLE candles (
    symbol TEXT NOT NULL, timeframe TEXT NOT NULL, t INTEGER NOT NULL,
    open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL, volume REAL NOT NULL,
    PRIMARY KEY (symbol, timeframe, t)
) WITHOUT ROWID;
CREATE TABLE series (
    symbol TEXT NOT NULL, timeframe TEXT NOT NULL, source TEXT, signature TEXT,
    refreshed_at REAL, PRIMARY KEY (symbol, timeframe)
);
"""


def test_a_store_from_before_the_columns_is_migrated_and_its_rows_read(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(OLD_SCHEMA)
    conn.executemany("INSERT INTO candles VALUES ('XUSDT','1h',?,2,3,1,2.5,7)", [(T0 + i * H,) for i in range(10)])
    conn.execute("INSERT INTO series VALUES ('XUSDT','1h','exchange',NULL,0)")
    conn.commit()
    conn.close()

    store = CandleStore(path)
    old = store.read("XUSDT", "1h")
    assert len(old) == 10 and old.extra == {} and old.source == "exchange"
    np.testing.assert_array_equal(old.close, np.full(10, 2.5))
    t = T0 + H * np.arange(10, 13)
    new = Candles.from_arrays("XUSDT", "1h", t, *[np.full(3, 2.0)] * 4, np.full(3, 9.0), source="exchange",
                              extra={k: np.full(3, 4.0) for k in EXTRA_COLUMNS})
    store.upsert(new)
    both = store.read("XUSDT", "1h", last=5)
    np.testing.assert_array_equal(both.extra["trades"], [np.nan, np.nan, 4.0, 4.0, 4.0])  # old rows: missing
    store.close()
    again = CandleStore(path)  # a second open finds the migration done
    assert len(again.read("XUSDT", "1h")) == 13
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == VERSION


def test_resampling_sums_them_and_a_missing_part_makes_the_sum_missing():
    t = T0 + H * np.arange(8)
    ones = np.ones(8)
    trades = np.arange(8, dtype=float)
    tbv = ones.copy()
    tbv[5] = np.nan
    hourly = Candles.from_arrays("XUSDT", "1h", t, ones, ones * 2, ones / 2, ones, ones * 3,
                                 extra={"trades": trades, "taker_buy_volume": tbv})
    four = resample(hourly, "4h")
    assert four.extra["trades"].tolist() == [6.0, 22.0] and four.volume.tolist() == [12.0, 12.0]
    assert four.extra["taker_buy_volume"][0] == 4.0 and np.isnan(four.extra["taker_buy_volume"][1])
    plain = Candles.from_arrays("XUSDT", "1h", t, ones, ones * 2, ones / 2, ones, ones)
    assert resample(plain, "4h").extra == {} and resample(hourly.slice(0, 0), "4h").extra.keys() == {
        "trades", "taker_buy_volume"}


def test_a_csv_folder_resamples_them(tmp_path):
    _write(tmp_path / "1h" / "AUSDT.csv", HEADER10, _rows(24, True))
    daily = CsvFolderSource(tmp_path).fetch("AUSDT", "4h")
    assert len(daily) == 6 and daily.extra["trades"][0] == 50 + 51 + 52 + 53


def test_slicing_keeps_them():
    t = T0 + H * np.arange(6)
    c = Candles.from_arrays("X", "1h", t, *[np.ones(6)] * 5, extra={"quote_volume": np.arange(6.0)})
    assert c.last(2).extra["quote_volume"].tolist() == [4.0, 5.0]
    assert c.until(int(t[3])).extra["quote_volume"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError):
        Candles.from_arrays("X", "1h", t, *[np.ones(6)] * 5, extra={"quote_volume": np.ones(2)})


def test_exchange_klines_keep_them():
    rows = [[T0 + i * H, "1", "2", "0.5", "1.5", "10", T0 + (i + 1) * H - 1, "15", 3, "5", "7", "0"]
            for i in range(3)]
    rows[1][9] = "11"  # taker buy above the volume: missing, the candle stays
    candles = klines_to_candles("XUSDT", "1h", rows, now_ms=T0 + 3 * H)
    assert len(candles) == 3 and candles.extra["quote_volume"].tolist() == [15.0] * 3
    assert np.isnan(candles.extra["taker_buy_volume"][1]) and candles.extra["trades"].tolist() == [3.0] * 3
    assert klines_to_candles("XUSDT", "1h", [r[:6] for r in rows]).extra == {}


def _client(n: int, extra: bool, as_rows: bool) -> list:
    out = []
    for i in range(n):
        o, h, lo, c, v = 10.0 + i, 11.0 + i, 9.0 + i, 10.5 + i, 100.0 + i
        if as_rows:
            out.append([T0 + i * H, o, h, lo, c, v] + ([T0 + (i + 1) * H - 1, str(1000 + i), 50 + i, 40.0, None, "0"]
                                                       if extra else []))
        else:
            out.append({"t": T0 + i * H, "o": o, "h": h, "l": lo, "c": c, "v": v,
                        **({"qv": 1000 + i, "trades": 50 + i, "tbv": 40.0} if extra else {})})
    return out


@pytest.mark.parametrize("as_rows", [False, True])
def test_client_candles_with_and_without_them_give_the_same_ohlcv(as_rows):
    wide = parse_candles(_client(6, True, as_rows), "XUSDT", "1h")
    plain = parse_candles(_client(6, False, as_rows), "XUSDT", "1h")
    for name in ("t", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(wide, name), getattr(plain, name))
    assert plain.extra == {}
    assert wide.extra["quote_volume"].tolist() == [1000.0 + i for i in range(6)]
    assert wide.extra["trades"].tolist() == [50.0 + i for i in range(6)]
    assert wide.extra["taker_buy_volume"].tolist() == [40.0] * 6
    if as_rows:  # a null cell is a missing value
        assert np.isnan(wide.extra["taker_buy_quote_volume"]).all()
    else:  # a field no candle sends is absent
        assert "taker_buy_quote_volume" not in wide.extra


def test_client_extra_values_never_refuse_candles_but_ohlcv_rules_still_do():
    rows = _client(4, True, as_rows=False)
    rows[1]["qv"] = -3
    rows[2]["tbv"] = 1e9  # above the volume
    del rows[3]["trades"]
    candles = parse_candles(rows, "XUSDT", "1h")
    assert np.isnan(candles.extra["quote_volume"][1]) and np.isnan(candles.extra["taker_buy_volume"][2])
    assert np.isnan(candles.extra["trades"][3]) and candles.extra["trades"][0] == 50
    rows[0]["h"] = 1.0  # high below open: refused as before
    with pytest.raises(InvalidCandles, match="high below"):
        parse_candles(rows, "XUSDT", "1h")


def test_real_files_btc_has_the_columns_and_ltc_does_not(shared_ohlcv):
    btc, report = read_candle_csv(shared_ohlcv / "1h" / "BTCUSDT.csv", "1h")
    ltc, _ = read_candle_csv(shared_ohlcv / "1h" / "LTCUSDT.csv", "1h")
    assert list(btc.extra) == list(EXTRA_COLUMNS) and ltc.extra == {}
    tbv, qv = btc.extra["taker_buy_volume"], btc.extra["quote_volume"]
    ok = np.isfinite(tbv) & np.isfinite(qv)
    assert ok.mean() > 0.999 and report.extra_marked_missing < 10
    assert (tbv[ok] <= btc.volume[ok] * (1 + 1e-6)).all()
    vwap = qv[ok & (btc.volume > 0)] / btc.volume[ok & (btc.volume > 0)]
    low, high = btc.low[ok & (btc.volume > 0)], btc.high[ok & (btc.volume > 0)]
    assert ((vwap >= low * 0.999) & (vwap <= high * 1.001)).mean() > 0.999  # quote volume / volume is a price


def test_ingest_fills_in_the_columns_a_file_gained_and_otherwise_adds_only_new_candles(tmp_path):
    path = _write(tmp_path / "data" / "1h" / "AUSDT.csv", HEADER6, _rows(10, False))
    store = CandleStore(tmp_path / "s.sqlite")
    assert ingest_folder(store, tmp_path / "data")["inserted"] == 10
    assert store.read("AUSDT", "1h").extra == {}
    _write(path, HEADER10, _rows(12, True))  # the same candles, now with the extra columns, and two more
    assert ingest_folder(store, tmp_path / "data")["inserted"] == 12
    np.testing.assert_array_equal(store.read("AUSDT", "1h").extra["trades"], 50 + np.arange(12))
    _write(path, HEADER10, _rows(13, True))
    assert ingest_folder(store, tmp_path / "data")["inserted"] == 1
