"""The market's listing: first and last candle, columns and freshness, from each kind of source."""

from __future__ import annotations

import os
import time

import pytest

from coinpredict.config import Settings
from coinpredict.data.candles import COLUMNS
from coinpredict.data.listing import EXTRA_COLUMNS, CsvListing, file_columns
from coinpredict.data.market import MarketData
from coinpredict.data.providers import LiveProvider, SyntheticProvider
from coinpredict.data.sources.csvdir import CsvFolderSource
from coinpredict.data.sources.synthetic import SyntheticSource
from coinpredict.data.store import CandleStore
from coinpredict.data.timeframes import TIMEFRAME_MS
from tests.conftest import SYNTHETIC_END_MS, write_ohlcv_csv

HOUR = TIMEFRAME_MS["1h"]


def _candles(symbol: str, n: int, timeframe: str = "1h"):
    return SyntheticSource([symbol], seed=3, clock=lambda: SYNTHETIC_END_MS / 1000).fetch(symbol, timeframe).last(n)


def test_file_columns_reads_the_header_or_the_kline_width(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("timestamp,open,high,low,close,volume\n2025-01-01 00:00:00,1,1,1,1,1\n")
    extra = tmp_path / "extra.csv"
    extra.write_text("timestamp,open,high,low,close,volume,quote_volume,trades,taker_buy_volume,"
                     "taker_buy_quote_volume\n")
    kline12 = tmp_path / "kline12.csv"
    kline12.write_text("1735689600000,1,1,1,1,1,1735693199999,5,7,3,2,0\n")
    kline6 = tmp_path / "kline6.csv"
    kline6.write_text("1735689600000,1,1,1,1,1\n")
    assert file_columns(plain) == COLUMNS == file_columns(kline6)
    assert file_columns(extra) == COLUMNS + EXTRA_COLUMNS == file_columns(kline12)


class CountingSource(CsvFolderSource):
    """The real folder source, counting the series it is asked for."""

    def __init__(self, root):
        super().__init__(root)
        self.fetched = 0

    def fetch(self, *args, **kwargs):
        self.fetched += 1
        return super().fetch(*args, **kwargs)


def test_csv_listing_reads_each_file_once_until_it_changes(tmp_path):
    path = tmp_path / "1h" / "AAAUSDT.csv"
    write_ohlcv_csv(path, _candles("AAAUSDT", 300))
    write_ohlcv_csv(tmp_path / "1h" / "BBBUSDT.csv", _candles("BBBUSDT", 200))
    source = CountingSource(tmp_path)
    listing = CsvListing(source)
    first = listing.summaries("1h")
    assert [s.symbol for s in first] == ["AAAUSDT", "BBBUSDT"] and source.fetched == 2
    assert first[0].last_ms == SYNTHETIC_END_MS - HOUR and first[0].first_ms == SYNTHETIC_END_MS - 300 * HOUR
    assert listing.summaries("1h") == first and source.fetched == 2  # nothing changed: nothing read
    write_ohlcv_csv(path, _candles("AAAUSDT", 100))
    os.utime(path, (time.time() + 5, time.time() + 5))
    again = listing.summaries("1h")
    assert source.fetched == 3 and again[0].first_ms == SYNTHETIC_END_MS - 100 * HOUR and again[1] == first[1]


def test_csv_listing_resamples_what_the_folder_lacks(tmp_path):
    write_ohlcv_csv(tmp_path / "1h" / "AAAUSDT.csv", _candles("AAAUSDT", 1000))
    [summary] = CsvListing(CsvFolderSource(tmp_path)).summaries("4h")
    resampled = CsvFolderSource(tmp_path).fetch("AAAUSDT", "4h")
    assert (summary.first_ms, summary.last_ms) == (int(resampled.t[0]), int(resampled.t[-1]))
    assert summary.first_ms % TIMEFRAME_MS["4h"] == 0 and summary.last_ms + TIMEFRAME_MS["4h"] <= SYNTHETIC_END_MS


def test_store_summary_is_one_aggregate_and_names_the_extra_columns_it_holds(tmp_path):
    store = CandleStore(tmp_path / "candles.sqlite")
    store.upsert(_candles("AAAUSDT", 50))
    store.upsert(_candles("BBBUSDT", 20))
    store.upsert(_candles("AAAUSDT", 10, "4h"))
    rows = store.summary("1h", EXTRA_COLUMNS)
    assert rows == [("AAAUSDT", SYNTHETIC_END_MS - 50 * HOUR, SYNTHETIC_END_MS - HOUR, ()),
                    ("BBBUSDT", SYNTHETIC_END_MS - 20 * HOUR, SYNTHETIC_END_MS - HOUR, ())]
    conn = store._conn()  # a store whose table carries an extra column, filled for one symbol only
    if "trades" not in {row[1] for row in conn.execute("PRAGMA table_info(candles)")}:
        conn.execute("ALTER TABLE candles ADD COLUMN trades REAL")
    conn.execute("UPDATE candles SET trades = 1 WHERE symbol = 'BBBUSDT'")
    assert [r[3] for r in store.summary("1h", EXTRA_COLUMNS)] == [(), ("trades",)]
    store.close()


@pytest.mark.parametrize("offset_candles, stale", [(1.5, False), (10, True)])
def test_live_listing_says_how_old_the_last_candle_is(tmp_path, offset_candles, stale):
    store = CandleStore(tmp_path / "candles.sqlite")
    store.upsert(_candles("AAAUSDT", 30))
    now = SYNTHETIC_END_MS / 1000 + offset_candles * 3600
    market = MarketData(Settings(store_path=tmp_path / "candles.sqlite", offline=True), clock=lambda: now)
    assert isinstance(market.provider, LiveProvider)
    [row] = market.summaries("1h")
    assert row["last_candle_age_s"] == pytest.approx(offset_candles * 3600) and row["data_stale"] is stale
    assert row["columns"] == list(COLUMNS) and market.summaries("4h") == []


def test_synthetic_listing_is_its_universe_up_to_the_last_closed_candle(tmp_path):
    now = SYNTHETIC_END_MS / 1000 + 1800
    market = MarketData(Settings(store_path=tmp_path / "empty.sqlite", synthetic=True), clock=lambda: now)
    assert isinstance(market.provider, SyntheticProvider)
    rows = market.summaries("1h")
    assert [r["symbol"] for r in rows] == market.provider.source.universe
    fetched = market.provider.source.fetch("BTCUSDT", "1h")
    assert (rows[0]["first_ms"], rows[0]["last_ms"]) == (int(fetched.t[0]), int(fetched.t[-1]))
    assert rows[0]["last_candle_age_s"] == 1800 and rows[0]["data_stale"] is False
