"""The candle store in the service database: ``candles`` (one row per symbol, timeframe and open time)
and ``series`` (each series' source, signature and last refresh), the keys and columns of the embedded
SQLite store. Read and written only where the candles live in the database (``CANDLE_STORE``: PostgreSQL
by default when ``DATABASE_URL`` is); elsewhere the tables stay empty.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

EXTRA_COLUMNS = ("quote_volume", "trades", "taker_buy_volume", "taker_buy_quote_volume")


def upgrade() -> None:
    op.create_table(
        "candles",
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("t", sa.BigInteger(), autoincrement=False, nullable=False),
        *[sa.Column(name, sa.Float(), nullable=False) for name in ("open", "high", "low", "close", "volume")],
        *[sa.Column(name, sa.Float(), nullable=True) for name in EXTRA_COLUMNS],
        sa.PrimaryKeyConstraint("symbol", "timeframe", "t"),
    )
    op.create_table(
        "series",
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("refreshed_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("symbol", "timeframe"),
    )


def downgrade() -> None:
    op.drop_table("series")
    op.drop_table("candles")
