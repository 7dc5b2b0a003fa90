"""assistant profile: the kind of assistant a tenant runs, its name and description

Revision ID: 0015_business
Revises: 0014_dialogue
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_business"
down_revision: str | None = "0014_dialogue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assistant_settings") as batch:
        batch.add_column(
            sa.Column("profile", sa.String(length=16), nullable=False, server_default="personal")
        )
        batch.add_column(sa.Column("assistant_name", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("description", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assistant_settings") as batch:
        batch.drop_column("description")
        batch.drop_column("assistant_name")
        batch.drop_column("profile")
