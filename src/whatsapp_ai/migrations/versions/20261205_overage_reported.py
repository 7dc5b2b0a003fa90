"""billing: how much of a period's overage was reported to Stripe

Revision ID: 0021_overage_reported
Revises: 0020_job_replays
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_overage_reported"
down_revision: str | None = "0020_job_replays"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("billing_usage") as batch:
        batch.add_column(
            sa.Column("overage_reported", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("billing_usage") as batch:
        batch.drop_column("overage_reported")
