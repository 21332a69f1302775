import multiprocessing as mp
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from coinpredict.data.candles import Candles
from coinpredict.data.ingest import ingest_folder
from coinpredict.data.store import CandleStore

H = 3_600_000


def _candles(n, start=0, symbol="XUSDT"):
    t = start + H * np.arange(n, dtype=np.int64)
    c = 100 + np.arange(n, dtype=float)
    return Candles.from_arrays(symbol, "1h", t, c, c + 1, c - 1, c, np.ones(n), source="test")


def test_upsert_read_last_and_ranges(tmp_path):
    store = CandleStore(tmp_path / "s.sqlite")
    store.upsert(_candles(100))
    store.upsert(_candles(10, start=95 * H))  # overlaps: replaced, not duplicated
    assert store.count() == 105
    last = store.read("XUSDT", "1h", last=7)
    assert len(last) == 7 and last.t[-1] == 104 * H and np.all(np.diff(last.t) > 0)
    assert len(store.read("XUSDT", "1h", start_ms=10 * H, end_ms=20 * H)) == 10
    assert store.last_time("XUSDT", "1h") == 104 * H
    assert store.last_time("NOPE", "1h") is None


def test_failed_write_leaves_the_previous_state(tmp_path):
    store = CandleStore(tmp_path / "s.sqlite")
    store.upsert(_candles(50))
    bad = _candles(10, start=50 * H)
    bad.close = bad.close.astype(object)
    bad.close[5] = None  # NOT NULL violation half-way through the batch
    with pytest.raises(sqlite3.IntegrityError):
        store.upsert(bad)
    assert store.count() == 50


def _writer(path, n):
    store = CandleStore(path)
    for i in range(n):
        store.upsert(_candles(500, start=i * 500 * H, symbol="WUSDT"))


def _crashing_writer(path):
    import os

    store = CandleStore(path)
    conn = store._conn()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO candles (symbol, timeframe, t, open, high, low, close, volume) "
                     "VALUES ('ZUSDT','1h',?,1,1,1,1,1)", [(i,) for i in range(10_000)])
    os._exit(1)  # the process dies mid-transaction


def test_readers_go_on_while_a_writer_writes(tmp_path):
    path = tmp_path / "s.sqlite"
    CandleStore(path).upsert(_candles(300))
    proc = mp.get_context("spawn").Process(target=_writer, args=(str(path), 20))
    proc.start()
    errors = []

    def read_loop():
        store = CandleStore(path)
        try:
            while proc.is_alive():
                got = store.read("XUSDT", "1h", last=300)
                assert len(got) == 300
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=read_loop) for _ in range(3)]
    for t in threads:
        t.start()
    proc.join(60)
    for t in threads:
        t.join(10)
    assert proc.exitcode == 0 and not errors
    assert len(CandleStore(path).read("WUSDT", "1h")) == 10_000


def test_a_crash_mid_write_loses_only_the_uncommitted_write(tmp_path):
    path = tmp_path / "s.sqlite"
    CandleStore(path).upsert(_candles(100))
    proc = mp.get_context("spawn").Process(target=_crashing_writer, args=(str(path),))
    proc.start()
    proc.join(60)
    store = CandleStore(path)
    assert store.count() == 100
    assert store._conn().execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_ingest_is_incremental(tmp_path, synthetic_dir):
    store = CandleStore(tmp_path / "s.sqlite")
    first = ingest_folder(store, synthetic_dir)
    assert first["inserted"] == 3 * 2500 and first["skipped"] == 0
    again = ingest_folder(store, synthetic_dir)
    assert again["inserted"] == 0 and again["skipped"] == first["files"]
    path = next(Path(synthetic_dir, "1h").glob("*.csv"))
    extra = tmp_path / "copy"
    (extra / "1h").mkdir(parents=True)
    lines = path.read_text().splitlines()
    (extra / "1h" / path.name).write_text("\n".join(lines[:-10]) + "\n")
    store2 = CandleStore(tmp_path / "s2.sqlite")
    ingest_folder(store2, extra)
    (extra / "1h" / path.name).write_text("\n".join(lines) + "\n")
    grown = ingest_folder(store2, extra)
    assert grown["inserted"] == 10
