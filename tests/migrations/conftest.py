"""A new, empty database per test: a file for SQLite, a database of its own on the session's PostgreSQL
server (created here, dropped after)."""

from __future__ import annotations

import pytest

from tests.jobs.servers import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'coinpredict.sqlite'}"
        return
    with fresh_database(request.getfixturevalue("postgres"), "migrations") as url:
        yield url
