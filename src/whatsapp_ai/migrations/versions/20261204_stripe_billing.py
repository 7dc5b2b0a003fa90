"""Stripe: events received per endpoint, tenants' Stripe customers, the sales webhook secret
and refunded orders

Revision ID: 0019_stripe
Revises: 0018_billing_plans
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import whatsapp_ai.core.db
from whatsapp_ai.core.migrate import disable_row_security, enable_row_security

revision: str = "0019_stripe"
down_revision: str | None = "0018_billing_plans"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {"billing_stripe_customers": "tenant_id"}


def _moment(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, whatsapp_ai.core.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "stripe_events",
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=True),
        sa.Column("tenant_id", sa.String(length=26), nullable=True),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        _moment("created"),
        _moment("signed_at"),
        _moment("received_at"),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        _moment("handled_at", nullable=True),
        sa.PrimaryKeyConstraint("endpoint", "event_id", name=op.f("pk_stripe_events")),
    )
    with op.batch_alter_table("stripe_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stripe_events_tenant_id"), ["tenant_id"], unique=False)
    op.create_table(
        "billing_stripe_customers",
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("subscription_id", sa.String(length=255), nullable=True),
        sa.Column("item_id", sa.String(length=255), nullable=True),
        sa.Column("price_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_status", sa.String(length=32), nullable=True),
        _moment("trial_end", nullable=True),
        _moment("created_at"),
        _moment("updated_at"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_billing_stripe_customers_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_billing_stripe_customers")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_billing_stripe_customers_customer_id")),
    )
    with op.batch_alter_table("sales_stripe_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_secret", sa.Text(), nullable=True))
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.add_column(_moment("refunded_at", nullable=True))
    enable_row_security(TABLES)


def downgrade() -> None:
    disable_row_security(TABLES)
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_column("refunded_at")
    with op.batch_alter_table("sales_stripe_accounts", schema=None) as batch_op:
        batch_op.drop_column("webhook_secret")
    op.drop_table("billing_stripe_customers")
    with op.batch_alter_table("stripe_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stripe_events_tenant_id"))
    op.drop_table("stripe_events")
