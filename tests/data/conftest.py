"""A PostgreSQL database of its own for the candle store tests of a module, on the session's server
(created once per module, its candle tables emptied before each test that asks, dropped after)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.jobs.servers import fresh_database


@pytest.fixture(scope="module")
def candle_database(postgres):
    with fresh_database(postgres, "candles") as url:
        yield url


@pytest.fixture()
def empty_candle_database(candle_database):
    """The module's database with no candle and no series in it (made by the migrations on first use)."""
    from coinpredict.data.store_pg import PostgresCandleStore

    store = PostgresCandleStore(candle_database)
    store.count()  # brings the schema to the newest migration
    with store.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE candles, series"))
    return candle_database
