"""assistant settings and traces

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import whatsapp_ai.core.db
from whatsapp_ai.core.migrate import disable_row_security, enable_row_security

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {"assistant_settings": "tenant_id", "assistant_traces": "tenant_id"}


def upgrade() -> None:
    op.create_table(
        "assistant_settings",
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column(
            "enabled_agents",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("providers_secret", sa.Text(), nullable=True),
        sa.Column("redact_pii", sa.Boolean(), nullable=False),
        sa.Column("trace_retention_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", whatsapp_ai.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_assistant_settings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_assistant_settings")),
    )
    op.create_table(
        "assistant_traces",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("conversation_id", sa.String(length=26), nullable=False),
        sa.Column("contact_id", sa.String(length=26), nullable=False),
        sa.Column("message_id", sa.String(length=26), nullable=False),
        sa.Column("model", sa.String(length=120), nullable=False),
        sa.Column(
            "intents",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("created_at", whatsapp_ai.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_assistant_traces_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_assistant_traces_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_assistant_traces_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_traces")),
        sa.UniqueConstraint("message_id", name=op.f("uq_assistant_traces_message_id")),
    )
    with op.batch_alter_table("assistant_traces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assistant_traces_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            "ix_assistant_traces_tenant_time", ["tenant_id", "created_at"], unique=False
        )
    enable_row_security(TABLES)


def downgrade() -> None:
    disable_row_security(TABLES)
    with op.batch_alter_table("assistant_traces", schema=None) as batch_op:
        batch_op.drop_index("ix_assistant_traces_tenant_time")
        batch_op.drop_index(batch_op.f("ix_assistant_traces_conversation_id"))

    op.drop_table("assistant_traces")
    op.drop_table("assistant_settings")
