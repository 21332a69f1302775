"""One way to open the service's database (job records, the prediction ledger): SQLAlchemy, so the
embedded SQLite default and a PostgreSQL ``DATABASE_URL`` behave the same."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import sqlalchemy as sa

BUSY_TIMEOUT_S = 30


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout so web workers and the queue's worker
    can read while one writes."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(conn, _record):
        cur = conn.cursor()
        use_wal(cur)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return engine


def use_wal(cursor: sqlite3.Cursor) -> None:
    """Put the file in WAL mode (it stays so). Switching needs the file to itself, and SQLite answers
    "database is locked" at once instead of waiting when another process holds it: the web workers and
    the worker start together on a new file, so the switch is retried, and skipped once it is done."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)

