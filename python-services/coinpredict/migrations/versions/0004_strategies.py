"""Strategies (paper trading): the strategies, their config versions, and their books (one row per
close with the engine's state, the fills, the equity points). (strategy, version, close time) is unique:
the live runner's exactly-once key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _owner() -> sa.Column:
    return sa.Column("strategy_id", sa.String(32), sa.ForeignKey("strategies.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "strategies",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("halt_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("book_revision", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "strategy_versions",
        _owner(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("strategy_id", "version"),
    )
    op.create_table(
        "strategy_closes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _owner(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("close_time", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("strategy_id", "version", "close_time", name="one_close_per_version"),
    )
    op.create_index("strategy_closes_latest", "strategy_closes", ["strategy_id", "close_time"])
    op.create_table(
        "strategy_trades",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _owner(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("fee", sa.Float(), nullable=False),
        sa.Column("slippage", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("pnl", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("strategy_trades_by_time", "strategy_trades", ["strategy_id", "time"])
    op.create_table(
        "strategy_equity",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _owner(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("equity", sa.Float(), nullable=False),
        sa.Column("cash", sa.Float(), nullable=False),
        sa.Column("exposure", sa.Float(), nullable=False),
        sa.Column("net_exposure", sa.Float(), nullable=False),
        sa.Column("costs", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("strategy_equity_by_time", "strategy_equity", ["strategy_id", "time"])


def downgrade() -> None:
    for table in ("strategy_equity", "strategy_trades", "strategy_closes", "strategy_versions", "strategies"):
        op.drop_table(table)
