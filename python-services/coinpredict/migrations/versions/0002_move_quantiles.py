"""The prediction ledger keeps each served answer's move: the return quantiles over the horizon (bps)
and whether the move model or the rule gave them, so the coin page can draw past forecasts' bands
against the prices that came. Rows written before stay null; members' rows of an ensemble answer too
(the quantiles are centred on the answer's own probability).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

QUANTILE_COLUMNS = ("q05_bps", "q25_bps", "q50_bps", "q75_bps", "q95_bps")


def upgrade() -> None:
    with op.batch_alter_table("predictions") as batch:  # SQLite alters a table by batch only
        for name in QUANTILE_COLUMNS:
            batch.add_column(sa.Column(name, sa.Float(), nullable=True))
        batch.add_column(sa.Column("move_source", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("move_source")
        for name in reversed(QUANTILE_COLUMNS):
            batch.drop_column(name)
