"""The service database's schema (job records, the prediction ledger) brought to the newest migration
when a store opens it. The migrations are alembic's, shipped in the package (``coinpredict/migrations``);
this runs them from code, with no alembic.ini needed at the working directory.

Web workers and the worker start together on the same database, so the upgrade holds a lock that only
one process at a time gets: PostgreSQL's advisory lock (released with the transaction), or for SQLite
an exclusive ``flock`` on a file beside the database. The others wait, then find the schema done."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

# alembic is imported only where a migration runs: a process opening an up-to-date database (every web
# worker after the first start) never loads it, about 27 MB of resident memory each.
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
# The newest revision in migrations/versions: a new revision updates it (a test compares it with alembic's).
HEAD_REVISION = "0008"
# pg_advisory_xact_lock's key: any constant the service's other locks do not use.
PG_LOCK_KEY = 0x636F696E6D6967  # "coinmig"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """A Config built in code; ``connection`` (already locked) is the one env.py migrates."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    """alembic's own head: the test that ``HEAD_REVISION`` is up to date compares with it."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: sa.Connection) -> str | None:
    """The revision the database is at; None for a new one or one made before migrations. Plain SQL on
    alembic's one-row table, so that looking costs no alembic import."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade_to_head(engine: sa.Engine) -> None:
    """Bring the database to the head revision: a new one is created by the migrations, one made by
    ``create_all`` before migrations is adopted by the first (it keeps what exists and its rows). Looks
    without the lock first, so the usual start on an up-to-date database waits for nobody."""
    with engine.connect() as conn:
        if current_revision(conn) == HEAD_REVISION:
            return
    from alembic import command

    with migration_lock(engine) as conn:
        command.upgrade(alembic_config(conn), "head")


@contextmanager
def migration_lock(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection in a transaction that only one process at a time holds, committed at the end."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_LOCK_KEY)))
            yield conn
        return
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":  # one process sees an in-memory database: nothing to race
        with engine.begin() as conn:
            yield conn
        return
    with open(f"{path}.migrate-lock", "a") as lock:  # left in place: removing it would race the next
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with engine.begin() as conn:
                yield conn
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
