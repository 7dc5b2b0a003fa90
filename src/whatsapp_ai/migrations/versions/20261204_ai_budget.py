"""assistant settings: the tenant's monthly AI budget in USD

Revision ID: 0017_ai_budget
Revises: 0016_agenda
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_ai_budget"
down_revision: str | None = "0016_agenda"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assistant_settings") as batch:
        batch.add_column(sa.Column("monthly_ai_budget_usd", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assistant_settings") as batch:
        batch.drop_column("monthly_ai_budget_usd")
