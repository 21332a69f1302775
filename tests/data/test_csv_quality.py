from pathlib import Path

import numpy as np
import pytest

from coinpredict.data.sources.csvdir import CsvFolderSource, read_candle_csv
from coinpredict.errors import DataError

GOOD = """timestamp,open,high,low,close,volume
2025-01-01 00:00:00,10,11,9,10.5,100
2025-01-01 01:00:00,10.5,11,10,10.8,0
2025-01-01 01:00:00,10.5,11,10,10.8,0
2025-01-01 02:00:00,10.8,10.0,10,10.9,50
2025-01-01 03:00:00,10.9,11.2,10.7,nan,50
2025-01-01 04:00:00,10.9,11.2,10.7,-1,50
not a time,10.9,11.2,10.7,11,50
2025-01-01 07:00:00,11,11.5,10.9,11.2,70
"""


def test_bad_rows_are_rejected_and_named_duplicates_dropped_gaps_reported(tmp_path: Path):
    path = tmp_path / "1h" / "XUSDT.csv"
    path.parent.mkdir()
    path.write_text(GOOD)
    candles, report = read_candle_csv(path, "1h")
    assert list(np.diff(candles.t) // 3_600_000) == [1, 6]
    assert report.duplicates == 1
    reasons = dict(report.rejected)
    assert reasons == {3: "impossible OHLC: high below open/close", 4: "missing, NaN or non-numeric price",
                       5: "non-positive price", 6: "unparsable time"}
    assert report.zero_volume == 1  # kept: no trades is a real candle
    assert report.gaps == [{"after": int(candles.t[1]), "before": int(candles.t[2]), "missing": 5}]
    assert str(path) in report.summary()["rejected_examples"][0]


def test_wrong_columns_raise_naming_the_file(tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text("when,price\n2025-01-01,1\n")
    with pytest.raises(DataError, match="bad.csv"):
        read_candle_csv(path, "1h")


def test_raw_exchange_kline_export_is_read(tmp_path: Path):
    path = tmp_path / "1h" / "YUSDT.csv"
    path.parent.mkdir()
    rows = [f"{1735689600000 + i * 3600000},1,2,0.5,1.5,10,{1735693199999 + i * 3600000},15,3,5,7,0" for i in range(3)]
    path.write_text("\n".join(rows) + "\n")
    candles, report = read_candle_csv(path, "1h")
    assert len(candles) == 3 and candles.t[0] == 1735689600000 and report.rejected == []


def test_folder_source_lists_symbols_and_slices_by_time(tmp_path: Path):
    path = tmp_path / "1h" / "XUSDT.csv"
    path.parent.mkdir()
    path.write_text(GOOD)
    src = CsvFolderSource(tmp_path)
    assert src.symbols("1h") == ["XUSDT"]
    full = src.fetch("XUSDT", "1h")
    assert len(src.fetch("XUSDT", "1h", start_ms=int(full.t[1]))) == len(full) - 1
    with pytest.raises(DataError):
        src.fetch("NOPEUSDT", "1h")
    assert src.symbols("4h") == ["XUSDT"]  # no 4h file: resampled from 1h
    four = src.fetch("XUSDT", "4h")
    assert list(four.t) == [int(full.t[0]), int(full.t[0]) + 4 * 3_600_000]
    assert four.close[0] == full.close[full.t < full.t[0] + 4 * 3_600_000][-1]


def test_real_files_load_with_their_known_defects(shared_ohlcv):
    candles, report = read_candle_csv(shared_ohlcv / "1h" / "ADAUSDT.csv", "1h")
    assert len(candles) > 50_000
    assert report.gaps, "the real data has exchange outages"
    assert np.all(np.diff(candles.t) > 0)
