"""One way to open the service's database (job records, the prediction ledger): SQLAlchemy, so the
embedded SQLite default and a PostgreSQL ``DATABASE_URL`` behave the same."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout so web workers and the queue's worker
    can read while one writes."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(conn, _record):
        cur = conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return engine
