"""recurring reminders: an RFC 5545 rule and the time zone its occurrences are read in

Revision ID: 0016_agenda
Revises: 0015_business
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_agenda"
down_revision: str | None = "0015_business"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crm_reminders") as batch:
        batch.add_column(sa.Column("rrule", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crm_reminders") as batch:
        batch.drop_column("timezone")
        batch.drop_column("rrule")
