"""Embedded candle store (SQLite in WAL mode): keyed by (symbol, timeframe, open time).

WAL lets any number of readers go on while one writer commits; every write is one transaction, so a
crash mid-write leaves the previous state intact. One connection per thread.

Versioned by ``PRAGMA user_version``: 0 is the OHLCV-only layout, 1 adds the nullable ``EXTRA_COLUMNS``
(rows written before stay readable, their extra values NULL = missing). Opening a store migrates it in
one transaction, so a second process opening it at the same time finds it done.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import numpy as np

from .candles import COLUMNS, EXTRA_COLUMNS, Candles

SCHEMA = """
CREATE TABLE IF NOT EXISTS candles (
    symbol TEXT NOT NULL, timeframe TEXT NOT NULL, t INTEGER NOT NULL,
    open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL, volume REAL NOT NULL,
    quote_volume REAL, trades REAL, taker_buy_volume REAL, taker_buy_quote_volume REAL,
    PRIMARY KEY (symbol, timeframe, t)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series (
    symbol TEXT NOT NULL, timeframe TEXT NOT NULL, source TEXT, signature TEXT,
    refreshed_at REAL, PRIMARY KEY (symbol, timeframe)
);
"""
VERSION = 1
ALL_COLUMNS = ("symbol", "timeframe", "t", "open", "high", "low", "close", "volume", *EXTRA_COLUMNS)
INSERT = f"INSERT OR REPLACE INTO candles ({','.join(ALL_COLUMNS)}) VALUES ({','.join('?' * len(ALL_COLUMNS))})"


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema to ``VERSION`` (a fresh store is created at it)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for stmt in SCHEMA.split(";"):
            if stmt.strip():
                conn.execute(stmt)
        have = {row[1] for row in conn.execute("PRAGMA table_info(candles)")}
        for name in EXTRA_COLUMNS:
            if name not in have:
                conn.execute(f"ALTER TABLE candles ADD COLUMN {name} REAL")
        conn.execute(f"PRAGMA user_version={VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


# Extra values are never negative (``candles.clean_extra``; a negative one is written as NULL), so reads
# turn NULL into -1 in SQL: all-float rows convert to an array several times faster than rows with None.
_NULL = -1.0
# What a read selects, in this order, on SQLite and PostgreSQL alike (``candles_from_array`` takes it).
READ_EXPRESSIONS = ("t", *COLUMNS, *(f"COALESCE({k}, {_NULL})" for k in EXTRA_COLUMNS))
READ_COLUMNS = ", ".join(READ_EXPRESSIONS)
READ_WIDTH = len(READ_EXPRESSIONS)


def nullable(values, n: int) -> list:
    """A column for the database: None where the value is missing (NaN or negative) or the column is absent."""
    if values is None:
        return [None] * n
    return [x if x >= 0 else None for x in values.tolist()]  # NaN >= 0 is False


def candles_from_array(symbol: str, timeframe: str, arr: np.ndarray, source: str | None) -> Candles:
    """Candles from rows of ``READ_COLUMNS`` (a float array, oldest first); an extra column that is NULL on
    every row is left out (the source never had it)."""
    more = arr[:, 6:]
    known = more != _NULL
    extra = {k: np.where(known[:, i], more[:, i], np.nan) for i, k in enumerate(EXTRA_COLUMNS) if known[:, i].any()}
    return Candles.from_arrays(symbol, timeframe, arr[:, 0].astype(np.int64), *arr[:, 1:6].T,
                               source=source or "store", extra=extra)


class CandleStore:
    shared = False  # a file of one machine: other machines' processes never read what this one writes
    def __init__(self, path: Path | str):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        with self._write_lock:
            _migrate(self._conn())

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA cache_size=-65536")
            self._local.conn = conn
        return conn

    def upsert(self, candles: Candles, *, signature: str | None = None) -> int:
        """Insert or replace candles (extra columns NULL where missing) and record the series' refresh,
        all in one transaction."""
        n = len(candles)
        extra = [nullable(candles.extra.get(k), n) for k in EXTRA_COLUMNS]
        rows = list(zip(
            [candles.symbol] * n, [candles.timeframe] * n, candles.t.tolist(),
            candles.open.tolist(), candles.high.tolist(), candles.low.tolist(), candles.close.tolist(),
            candles.volume.tolist(), *extra,
        ))
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(INSERT, rows)
                conn.execute(
                    "INSERT OR REPLACE INTO series VALUES (?,?,?,?,?)",
                    (candles.symbol, candles.timeframe, candles.source, signature, time.time()),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return len(rows)

    def touch(self, symbol: str, timeframe: str, source: str, signature: str | None = None) -> None:
        conn = self._conn()
        with self._write_lock:
            conn.execute("INSERT OR REPLACE INTO series VALUES (?,?,?,?,?)",
                         (symbol, timeframe, source, signature, time.time()))

    def series_info(self, symbol: str, timeframe: str) -> dict | None:
        row = self._conn().execute(
            "SELECT source, signature, refreshed_at FROM series WHERE symbol=? AND timeframe=?", (symbol, timeframe)
        ).fetchone()
        return None if row is None else {"source": row[0], "signature": row[1], "refreshed_at": row[2]}

    def last_time(self, symbol: str, timeframe: str) -> int | None:
        row = self._conn().execute(
            "SELECT MAX(t) FROM candles WHERE symbol=? AND timeframe=?", (symbol, timeframe)
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def read(self, symbol: str, timeframe: str, *, last: int | None = None, start_ms: int | None = None,
             end_ms: int | None = None) -> Candles:
        """Candles in [start_ms, end_ms), or the ``last`` n of them, oldest first; an extra column that
        is NULL on every row read is left out (the source never had it)."""
        sql = f"SELECT {READ_COLUMNS} FROM candles WHERE symbol=? AND timeframe=?"
        args: list = [symbol, timeframe]
        if start_ms is not None:
            sql += " AND t >= ?"
            args.append(int(start_ms))
        if end_ms is not None:
            sql += " AND t < ?"
            args.append(int(end_ms))
        if last is not None:
            sql += " ORDER BY t DESC LIMIT ?"
            args.append(int(last))
        else:
            sql += " ORDER BY t"
        rows = self._conn().execute(sql, args).fetchall()
        arr = np.array(rows, dtype=np.float64).reshape(-1, READ_WIDTH)
        if last is not None:
            arr = arr[::-1]
        info = self.series_info(symbol, timeframe)
        return candles_from_array(symbol, timeframe, arr, (info or {}).get("source"))

    def read_many(self, symbols: list[str], timeframe: str, last: int) -> dict[str, Candles]:
        return {s: self.read(s, timeframe, last=last) for s in symbols}

    def symbols(self, timeframe: str) -> list[str]:
        rows = self._conn().execute("SELECT symbol FROM series WHERE timeframe=? ORDER BY symbol", (timeframe,))
        return [r[0] for r in rows]

    def summary(self, timeframe: str, extra_columns: tuple[str, ...] = ()) -> list[tuple[str, int, int, tuple]]:
        """(symbol, first open time, last open time, the ``extra_columns`` it holds values for) per stored
        symbol, in one aggregate; an extra column the table lacks is absent."""
        present = {row[1] for row in self._conn().execute("PRAGMA table_info(candles)")}
        extras = [c for c in extra_columns if c in present]
        counts = "".join(f", COUNT({c})" for c in extras)
        rows = self._conn().execute(f"SELECT symbol, MIN(t), MAX(t){counts} FROM candles WHERE timeframe=? "
                                    f"GROUP BY symbol ORDER BY symbol", (timeframe,)).fetchall()
        return [(r[0], int(r[1]), int(r[2]), tuple(c for c, n in zip(extras, r[3:]) if n)) for r in rows]

    def count(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM candles").fetchone()[0])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
