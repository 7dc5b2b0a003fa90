"""knowledge documents

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import whatsapp_ai.core.db
from whatsapp_ai.core.migrate import disable_row_security, enable_row_security

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TENANT_TABLES = {"knowledge_documents": "tenant_id", "knowledge_chunks": "tenant_id"}


def upgrade() -> None:
    op.create_table(
        "knowledge_documents",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("created_at", whatsapp_ai.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", whatsapp_ai.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('ready', 'failed')", name=op.f("ck_knowledge_documents_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_knowledge_documents_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_documents")),
    )
    with op.batch_alter_table("knowledge_documents", schema=None) as batch_op:
        batch_op.create_index("ux_knowledge_documents_sha256", ["tenant_id", "sha256"], unique=True)

    op.create_table(
        "knowledge_chunks",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("document_id", sa.String(length=26), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("heading", sa.String(length=300), nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", whatsapp_ai.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["knowledge_documents.id"],
            name=op.f("fk_knowledge_chunks_document_id_knowledge_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_knowledge_chunks_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_chunks")),
    )
    with op.batch_alter_table("knowledge_chunks", schema=None) as batch_op:
        batch_op.create_index("ix_knowledge_chunks_tenant", ["tenant_id"], unique=False)
        batch_op.create_index(
            "ux_knowledge_chunks_position", ["document_id", "position"], unique=True
        )

    enable_row_security(NEW_TENANT_TABLES)


def downgrade() -> None:
    disable_row_security(NEW_TENANT_TABLES)
    with op.batch_alter_table("knowledge_chunks", schema=None) as batch_op:
        batch_op.drop_index("ux_knowledge_chunks_position")
        batch_op.drop_index("ix_knowledge_chunks_tenant")

    op.drop_table("knowledge_chunks")
    with op.batch_alter_table("knowledge_documents", schema=None) as batch_op:
        batch_op.drop_index("ux_knowledge_documents_sha256")

    op.drop_table("knowledge_documents")
