"""A scheduled retraining is queued once: the jobs table gets ``schedule_key`` (a scheduled job's
timeframe and end; empty for every other job) under a unique index, so two workers scheduling the same
due time insert one record between them. Existing rows keep an empty key.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("schedule_key", sa.String(80), nullable=True))
    op.create_index("one_job_per_schedule", "jobs", ["schedule_key"], unique=True)


def downgrade() -> None:
    op.drop_index("one_job_per_schedule", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:  # SQLite drops a column only by rebuilding the table
        batch.drop_column("schedule_key")
