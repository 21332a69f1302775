"""Live paper trading: the ledger keeps each answer's expected move (bps, as the answer gave it, and the move
model version that gave it, null for the rule), so the
worker's live runner can trade a recorded forecast exactly as served (its edge and a ``vol_target`` size
read it); a strategy's close keeps the forecasts it traded on (model versions included), so a replay can
be checked against the backtest with the same versions, and a close skipped for stale data has no
equity point.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("predictions") as batch:  # SQLite alters a table by batch only
        batch.add_column(sa.Column("expected_move_bps", sa.Float(), nullable=True))
        batch.add_column(sa.Column("move_version", sa.String(80), nullable=True))
    with op.batch_alter_table("strategy_closes") as batch:
        batch.add_column(sa.Column("forecasts", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("strategy_closes") as batch:
        batch.drop_column("forecasts")
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("move_version")
        batch.drop_column("expected_move_bps")
