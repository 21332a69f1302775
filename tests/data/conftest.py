"""A PostgreSQL database of its own for the candle store tests of a module, on the session's server
(created once per module, its candle tables emptied before each test that asks, dropped after)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa


@pytest.fixture(scope="module")
def candle_database(postgres):
    server = sa.make_url(postgres)
    name = f"candles_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:  # FORCE: the stores' pooled connections are still open
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture()
def empty_candle_database(candle_database):
    """The module's database with no candle and no series in it (made by the migrations on first use)."""
    from coinpredict.data.store_pg import PostgresCandleStore

    store = PostgresCandleStore(candle_database)
    store.count()  # brings the schema to the newest migration
    with store.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE candles, series"))
    return candle_database
