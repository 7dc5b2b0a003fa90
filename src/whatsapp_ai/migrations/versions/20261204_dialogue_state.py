"""conversation dialogue state and finance entry descriptions

Revision ID: 0014_dialogue
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import whatsapp_ai.core.db
from whatsapp_ai.core.migrate import disable_row_security, enable_row_security

revision: str = "0014_dialogue"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {"assistant_dialogue": "tenant_id"}


def upgrade() -> None:
    op.create_table(
        "assistant_dialogue",
        sa.Column("conversation_id", sa.String(length=26), nullable=False),
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column(
            "slots",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("pending_intent", sa.String(length=64), nullable=True),
        sa.Column("pending_text", sa.Text(), nullable=True),
        sa.Column("updated_at", whatsapp_ai.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_assistant_dialogue_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_assistant_dialogue_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_assistant_dialogue")),
    )
    with op.batch_alter_table("finance_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.String(length=200), nullable=True))
    enable_row_security(TABLES)


def downgrade() -> None:
    disable_row_security(TABLES)
    with op.batch_alter_table("finance_entries", schema=None) as batch_op:
        batch_op.drop_column("description")
    op.drop_table("assistant_dialogue")
