"""The tables as ``create_all`` made them before migrations: job records and the prediction ledger.

A database made then has some or all of them and no alembic_version: this revision adopts it, making
only what is missing (the predictions table where only jobs existed; the one-running index, added after
the jobs table), and keeps every row.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _existing() -> dict[str, set[str]]:
    """{table: its index names} already in the database (none when printing SQL offline)."""
    if context.is_offline_mode():
        return {}
    inspector = sa.inspect(op.get_bind())
    return {t: {ix["name"] for ix in inspector.get_indexes(t)} for t in inspector.get_table_names()}


def _jobs() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("stage", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("heartbeat_at", sa.Float(), nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("log_tail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def _jobs_indexes() -> dict[str, dict]:
    running = sa.text("status = 'running'")
    return {
        "ix_jobs_status": {"columns": ["status"]},
        "ix_jobs_timeframe": {"columns": ["timeframe"]},
        "one_running_per_timeframe": {"columns": ["timeframe"], "unique": True,
                                      "sqlite_where": running, "postgresql_where": running},
    }


def _predictions() -> None:
    op.create_table(
        "predictions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("model_version", sa.String(80), nullable=False),
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.BigInteger(), nullable=False),
        sa.Column("probability_up", sa.Float(), nullable=False),
        sa.Column("signal", sa.String(8), nullable=False),
        sa.Column("recorded_at", sa.Float(), nullable=False),
        sa.Column("outcome_up", sa.Boolean(), nullable=True),
        sa.Column("return_bps", sa.Float(), nullable=True),
        sa.Column("scored_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model", "model_version", "symbol", "timeframe", "horizon", "as_of", name="one_forecast"),
    )


def _predictions_indexes() -> dict[str, dict]:
    return {
        "by_model": {"columns": ["model", "timeframe", "as_of"]},
        "by_recorded": {"columns": ["recorded_at"]},
        "unscored": {"columns": ["scored_at", "timeframe", "symbol"]},
    }


def upgrade() -> None:
    existing = _existing()
    for table, create, indexes in (("jobs", _jobs, _jobs_indexes), ("predictions", _predictions, _predictions_indexes)):
        if table not in existing:
            create()
        for name, spec in indexes().items():
            if name not in existing.get(table, set()):
                op.create_index(name, table, spec.pop("columns"), **spec)


def downgrade() -> None:
    op.drop_table("predictions")
    op.drop_table("jobs")
