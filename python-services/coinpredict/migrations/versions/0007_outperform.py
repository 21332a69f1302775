"""The prediction ledger keeps the relative target: the answer's ``probability_outperform`` and, once the
market's candles of the horizon have closed, whether the coin's log return beat the market's mean over
them (``outcome_outperform``). Rows written before, and answers of models trained without the target,
stay null.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("predictions") as batch:  # SQLite alters a table by batch only
        batch.add_column(sa.Column("probability_outperform", sa.Float(), nullable=True))
        batch.add_column(sa.Column("outcome_outperform", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("outcome_outperform")
        batch.drop_column("probability_outperform")
