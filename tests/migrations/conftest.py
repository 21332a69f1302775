"""A new, empty database per test: a file for SQLite, a database of its own on the session's PostgreSQL
server (created here, dropped after)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'coinpredict.sqlite'}"
        return
    server = sa.make_url(request.getfixturevalue("postgres"))
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:  # FORCE: the stores' pooled connections may still be open
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
