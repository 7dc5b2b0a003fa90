"""personal crm

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

from whatsapp_ai.core.db import UTCDateTime
from whatsapp_ai.core.migrate import disable_row_security, enable_row_security

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TENANT_TABLES = {
    "crm_people": "tenant_id",
    "crm_interactions": "tenant_id",
    "crm_reminders": "tenant_id",
    "crm_meetings": "tenant_id",
}


def _id(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=26), nullable=nullable)


def _at(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def _owner(table: str) -> list[SchemaItem]:
    """The columns and constraints every CRM table shares: id, tenant, keeping contact,
    retry key (unique per tenant) and creation time."""
    return [
        _id("id"),
        _id("tenant_id"),
        _id("contact_id"),
        sa.Column("source_key", sa.String(length=120), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{table}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f(f"fk_{table}_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "tenant_id", "source_key", name=op.f(f"uq_{table}_tenant_id_source_key")
        ),
    ]


def _person(table: str, *, ondelete: str) -> list[SchemaItem]:
    return [
        _id("person_id", nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["crm_people.id"],
            name=op.f(f"fk_{table}_person_id_crm_people"),
            ondelete=ondelete,
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "crm_people",
        *_owner("crm_people"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        _at("updated_at"),
        sa.UniqueConstraint(
            "tenant_id",
            "contact_id",
            "name_key",
            name=op.f("uq_crm_people_tenant_id_contact_id_name_key"),
        ),
    )

    op.create_table(
        "crm_interactions",
        *_owner("crm_interactions"),
        *_person("crm_interactions", ondelete="CASCADE"),
        _at("happened_at"),
        sa.Column("summary", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_crm_interactions_contact",
        "crm_interactions",
        ["tenant_id", "contact_id", "happened_at"],
    )
    op.create_index("ix_crm_interactions_person", "crm_interactions", ["person_id", "happened_at"])

    op.create_table(
        "crm_reminders",
        *_owner("crm_reminders"),
        *_person("crm_reminders", ondelete="SET NULL"),
        sa.Column("text", sa.String(length=1000), nullable=False),
        _at("due_at"),
        sa.Column("status", sa.String(length=16), nullable=False),
        _at("sent_at", nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        _at("updated_at"),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'done', 'cancelled')",
            name=op.f("ck_crm_reminders_status"),
        ),
    )
    op.create_index(
        "ix_crm_reminders_contact", "crm_reminders", ["tenant_id", "contact_id", "due_at"]
    )
    op.create_index("ix_crm_reminders_due", "crm_reminders", ["status", "due_at"])
    op.create_index("ix_crm_reminders_person", "crm_reminders", ["person_id"])

    op.create_table(
        "crm_meetings",
        *_owner("crm_meetings"),
        *_person("crm_meetings", ondelete="SET NULL"),
        sa.Column("title", sa.String(length=200), nullable=False),
        _at("starts_at"),
        _at("ends_at", nullable=True),
        sa.Column("location", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        _at("updated_at"),
        sa.CheckConstraint(
            "status IN ('scheduled', 'cancelled', 'done')", name=op.f("ck_crm_meetings_status")
        ),
    )
    op.create_index(
        "ix_crm_meetings_contact", "crm_meetings", ["tenant_id", "contact_id", "starts_at"]
    )
    op.create_index("ix_crm_meetings_person", "crm_meetings", ["person_id"])

    enable_row_security(NEW_TENANT_TABLES)


def downgrade() -> None:
    disable_row_security(NEW_TENANT_TABLES)
    op.drop_index("ix_crm_meetings_person", table_name="crm_meetings")
    op.drop_index("ix_crm_meetings_contact", table_name="crm_meetings")
    op.drop_table("crm_meetings")
    op.drop_index("ix_crm_reminders_person", table_name="crm_reminders")
    op.drop_index("ix_crm_reminders_due", table_name="crm_reminders")
    op.drop_index("ix_crm_reminders_contact", table_name="crm_reminders")
    op.drop_table("crm_reminders")
    op.drop_index("ix_crm_interactions_person", table_name="crm_interactions")
    op.drop_index("ix_crm_interactions_contact", table_name="crm_interactions")
    op.drop_table("crm_interactions")
    op.drop_table("crm_people")
