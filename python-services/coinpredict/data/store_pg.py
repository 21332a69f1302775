"""The candle store on PostgreSQL (``DATABASE_URL``): one store for every machine of a deployment, so a
candle the leading worker fetched is read by every web machine and never fetched a second time.

The same interface and results as the embedded SQLite store (``data.store``; the contract test runs
both): tables ``candles`` and ``series`` with the same keys and columns, made by the service's
migrations (revision 0006) like every other table of that database. Writes are one transaction each
(one bulk ``INSERT ... ON CONFLICT DO UPDATE``, the SQLite store's replace); every process keeps one
connection pool, shared by its stores. A read comes back packed, one binary float array per symbol that
numpy takes as it is; ``read_many`` (the top-100 path) asks for all its symbols in one query.

An unreachable server is ``StoreUnavailable`` (503 ``data_unavailable`` with ``Retry-After``): an answer
that needs candles says so, the worker's live round logs it and the next round retries. Nothing
connects before the first use, so a process starts while the server is down."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import sqlalchemy as sa

from ..common.migrate import upgrade_to_head
from ..errors import Unavailable
from .candles import EXTRA_COLUMNS, Candles
from .store import READ_EXPRESSIONS, READ_WIDTH, candles_from_array, nullable

CONNECT_TIMEOUT_S = 5  # an unreachable server fails a call this fast, not after the OS's minutes
RETRY_AFTER_S = 30

metadata = sa.MetaData()  # a change to these tables needs a migration (coinpredict/migrations)
candles_table = sa.Table(
    "candles", metadata,
    sa.Column("symbol", sa.String(40), primary_key=True),
    sa.Column("timeframe", sa.String(8), primary_key=True),
    sa.Column("t", sa.BigInteger, primary_key=True, autoincrement=False),  # open time, epoch ms
    *[sa.Column(name, sa.Float, nullable=False) for name in ("open", "high", "low", "close", "volume")],
    *[sa.Column(name, sa.Float) for name in EXTRA_COLUMNS],  # NULL: missing
)
series_table = sa.Table(
    "series", metadata,
    sa.Column("symbol", sa.String(40), primary_key=True),
    sa.Column("timeframe", sa.String(8), primary_key=True),
    sa.Column("source", sa.Text),
    sa.Column("signature", sa.Text),
    sa.Column("refreshed_at", sa.Float),
)
_VALUES = ("open", "high", "low", "close", "volume", *EXTRA_COLUMNS)
# One statement per write, whatever its length: the columns travel as arrays (the SQLite store's
# INSERT OR REPLACE: a row already there is replaced whole, its missing extra values NULL).
_UPSERT = (f"INSERT INTO candles (symbol, timeframe, t, {', '.join(_VALUES)}) "
           f"SELECT %(symbol)s, %(tf)s, u.* FROM unnest(%(t)b::bigint[], "
           f"{', '.join(f'%({k})b::float8[]' for k in _VALUES)}) AS u "
           f"ON CONFLICT (symbol, timeframe, t) DO UPDATE SET {', '.join(f'{k} = EXCLUDED.{k}' for k in _VALUES)}")
_SERIES_UPSERT = ("INSERT INTO series (symbol, timeframe, source, signature, refreshed_at) "
                  "VALUES (%(symbol)s, %(tf)s, %(source)s, %(signature)s, %(at)s) ON CONFLICT (symbol, timeframe) "
                  "DO UPDATE SET source = EXCLUDED.source, signature = EXCLUDED.signature, "
                  "refreshed_at = EXCLUDED.refreshed_at")

# A read comes back as one value per symbol: its rows as a 2-D float8 array (a missing extra value is -1,
# as ``READ_EXPRESSIONS`` has it) in PostgreSQL's binary array format (``array_send``), which numpy reads
# as it is: no Python object per value. Put in time order here (``float_matrix``), not by a sort there.
_PACK = f"array_send(array_agg(ARRAY[t::float8, {', '.join(READ_EXPRESSIONS[1:])}]))"
# Many symbols in one query: each one's newest ``last`` rows by the primary key.
_READ_MANY = (f"SELECT s.symbol, {_PACK} FROM unnest(%(symbols)s::text[]) AS s(symbol) CROSS JOIN LATERAL "
              f"(SELECT * FROM candles WHERE symbol = s.symbol AND timeframe = %(tf)s ORDER BY t DESC "
              f"LIMIT %(last)s) c GROUP BY s.symbol")
_FLOAT8_OID = 701
_ELEMENT = np.dtype([("length", ">i4"), ("value", ">f8")])


def float_matrix(data: bytes | None, width: int) -> np.ndarray:
    """A 2-D float8 array in PostgreSQL's binary array format (``array_send``: dimensions, NULL flag and
    element type, each dimension's size and lower bound, then each element's length and big-endian value)
    as an (n, width) float64 array of rows in the order of their first value (the open time); None (no
    rows) is empty. Anything else is refused, never misread."""
    if data is None:
        return np.empty((0, width))
    head = np.frombuffer(data, dtype=">i4", count=7) if len(data) >= 28 else None
    if head is None or tuple(head[[0, 1, 2, 5]]) != (2, 0, _FLOAT8_OID, width) or \
            (len(data) - 28) % _ELEMENT.itemsize:
        raise RuntimeError("unexpected candle array from the database")
    elements = np.frombuffer(data, dtype=_ELEMENT, offset=28)
    if len(elements) != head[3] * width or (elements["length"] != 8).any():
        raise RuntimeError("unexpected candle array from the database")
    rows = elements["value"].astype(np.float64).reshape(-1, width)
    return rows[np.argsort(rows[:, 0], kind="stable")]


class StoreUnavailable(Unavailable):
    """The candle store's server cannot be reached now."""

    code = "data_unavailable"


_engines: dict[tuple[str, int], sa.Engine] = {}
_engines_lock = threading.Lock()
_ready: set[tuple[str, int]] = set()


def engine_for(url: str) -> sa.Engine:
    """This process's pool for ``url`` (keyed by pid too: a forked child never shares its parent's sockets)."""
    key = (url, os.getpid())
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = sa.create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=16,
                                      connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
            _engines[key] = engine
        return engine


class PostgresCandleStore:
    shared = True  # every machine of the deployment reads what any one of them writes

    def __init__(self, url: str):
        self.url = url

    @property
    def engine(self) -> sa.Engine:
        """This process's pool: looked up on each use, so a store made before a fork connects afresh after."""
        return engine_for(self.url)

    @contextmanager
    def _connect(self, *, write: bool = False) -> Iterator[sa.Connection]:
        """A pooled connection (a transaction committed at the end when ``write``); an unreachable server
        is ``StoreUnavailable``. The schema is brought to the newest migration on the first use."""
        try:
            engine = self.engine
            if (self.url, os.getpid()) not in _ready:
                upgrade_to_head(engine)
                _ready.add((self.url, os.getpid()))
            with engine.begin() if write else engine.connect() as conn:
                yield conn
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            if exc.connection_invalidated or _is_connection_error(exc):
                raise StoreUnavailable("the candle store's database cannot be reached",
                                       retry_after=RETRY_AFTER_S) from exc
            raise

    def _rows(self, sql: str, params: dict) -> list[tuple]:
        """Rows straight from the driver's cursor: plain tuples, no per-row objects to build."""
        with self._connect() as conn:
            cursor = conn.connection.cursor()
            try:
                cursor.execute(sql, params)
                return cursor.fetchall()
            finally:
                cursor.close()

    def upsert(self, candles: Candles, *, signature: str | None = None) -> int:
        """Insert or replace candles (extra columns NULL where missing) and record the series' refresh,
        all in one transaction."""
        n = len(candles)
        t = candles.t
        keep = _last_of_each(t)  # a time given twice is written once, the later one (as SQLite replaces)
        values = {k: _not_nan(getattr(candles, k)[keep]) for k in ("open", "high", "low", "close", "volume")}
        extra = {k: nullable(None if candles.extra.get(k) is None else candles.extra[k][keep], len(keep))
                 for k in EXTRA_COLUMNS}
        with self._connect(write=True) as conn:
            if n:
                conn.exec_driver_sql(_UPSERT, {"symbol": candles.symbol, "tf": candles.timeframe,
                                               "t": t[keep].tolist(), **values, **extra})
            conn.exec_driver_sql(_SERIES_UPSERT, self._series(candles.symbol, candles.timeframe, candles.source,
                                                              signature))
        return n

    @staticmethod
    def _series(symbol: str, timeframe: str, source: str, signature: str | None) -> dict:
        return {"symbol": symbol, "tf": timeframe, "source": source, "signature": signature, "at": time.time()}

    def touch(self, symbol: str, timeframe: str, source: str, signature: str | None = None) -> None:
        with self._connect(write=True) as conn:
            conn.exec_driver_sql(_SERIES_UPSERT, self._series(symbol, timeframe, source, signature))

    def series_info(self, symbol: str, timeframe: str) -> dict | None:
        rows = self._rows("SELECT source, signature, refreshed_at FROM series WHERE symbol=%(s)s AND timeframe=%(tf)s",
                          {"s": symbol, "tf": timeframe})
        return None if not rows else {"source": rows[0][0], "signature": rows[0][1], "refreshed_at": rows[0][2]}

    def last_time(self, symbol: str, timeframe: str) -> int | None:
        rows = self._rows("SELECT MAX(t) FROM candles WHERE symbol=%(s)s AND timeframe=%(tf)s",
                          {"s": symbol, "tf": timeframe})
        return None if rows[0][0] is None else int(rows[0][0])

    def read(self, symbol: str, timeframe: str, *, last: int | None = None, start_ms: int | None = None,
             end_ms: int | None = None) -> Candles:
        """Candles in [start_ms, end_ms), or the ``last`` n of them, oldest first; an extra column that
        is NULL on every row read is left out (the source never had it)."""
        sql = "SELECT * FROM candles WHERE symbol=%(s)s AND timeframe=%(tf)s"
        params: dict = {"s": symbol, "tf": timeframe}
        if start_ms is not None:
            sql += " AND t >= %(start)s"
            params["start"] = int(start_ms)
        if end_ms is not None:
            sql += " AND t < %(end)s"
            params["end"] = int(end_ms)
        if last is not None:
            sql += " ORDER BY t DESC LIMIT %(last)s"
            params["last"] = int(last)
        [(packed,)] = self._rows(f"SELECT {_PACK} FROM ({sql}) c", params)
        info = self.series_info(symbol, timeframe)
        return candles_from_array(symbol, timeframe, float_matrix(packed, READ_WIDTH), (info or {}).get("source"))

    def read_many(self, symbols: list[str], timeframe: str, last: int) -> dict[str, Candles]:
        """Each symbol's last ``last`` candles, in two queries for all of them (candles, then sources)."""
        wanted = list(dict.fromkeys(symbols))
        packed = dict(self._rows(_READ_MANY, {"symbols": wanted, "tf": timeframe, "last": int(last)}))
        sources = dict(self._rows("SELECT symbol, source FROM series WHERE timeframe=%(tf)s AND "
                                  "symbol = ANY(%(symbols)s::text[])", {"symbols": wanted, "tf": timeframe}))
        return {s: candles_from_array(s, timeframe, float_matrix(packed.get(s), READ_WIDTH), sources.get(s))
                for s in wanted}

    def symbols(self, timeframe: str) -> list[str]:
        rows = self._rows("SELECT symbol FROM series WHERE timeframe=%(tf)s ORDER BY symbol", {"tf": timeframe})
        return [r[0] for r in rows]

    def summary(self, timeframe: str, extra_columns: tuple[str, ...] = ()) -> list[tuple[str, int, int, tuple]]:
        """(symbol, first open time, last open time, the ``extra_columns`` it holds values for) per stored
        symbol; a column the table lacks is absent. Per symbol of ``series`` (every write records its
        series): two probes of the primary key, not a scan of every candle of the timeframe (the refresher
        and /health ask every few seconds)."""
        extras = [c for c in extra_columns if c in EXTRA_COLUMNS]
        held = "".join(f", EXISTS (SELECT 1 FROM candles c WHERE c.symbol = s.symbol AND c.timeframe = s.timeframe "
                       f"AND c.{c} IS NOT NULL)" for c in extras)
        rows = self._rows(f"SELECT s.symbol, b.first, b.last{held} FROM series s CROSS JOIN LATERAL "
                          f"(SELECT MIN(t) AS first, MAX(t) AS last FROM candles c WHERE c.symbol = s.symbol AND "
                          f"c.timeframe = s.timeframe) b WHERE s.timeframe = %(tf)s AND b.first IS NOT NULL "
                          f"ORDER BY s.symbol", {"tf": timeframe})
        return [(r[0], int(r[1]), int(r[2]), tuple(c for c, n in zip(extras, r[3:]) if n)) for r in rows]

    def count(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM candles", {})[0][0])

    def close(self) -> None:
        """Nothing to close: the connections belong to the process's pool, which other stores share."""


def _is_connection_error(exc: sa.exc.DBAPIError) -> bool:
    """Whether the driver's error is about reaching the server (refused, reset, shut down), by its SQLSTATE
    class 08 (connection exception) or 57P (operator intervention: shutdown, restart)."""
    state = getattr(exc.orig, "sqlstate", None) or ""
    return state.startswith("08") or state.startswith("57P") or not state


def _last_of_each(t: np.ndarray) -> np.ndarray:
    """Indices of ``t`` keeping the last of each repeated value, in order (all of them when none repeats)."""
    if len(t) < 2 or (np.diff(t) > 0).all():
        return np.arange(len(t))
    _, first_from_end = np.unique(t[::-1], return_index=True)
    return np.sort(len(t) - 1 - first_from_end)


def _not_nan(values: np.ndarray) -> list:
    """A price column as a list; NaN as None, refused by the NOT NULL column as SQLite refuses it."""
    out = values.tolist()
    if np.isnan(np.asarray(values, dtype=np.float64)).any():
        out = [None if x != x else x for x in out]
    return out
