"""billing: plans and features as data (Free, Pro, Enterprise), subscription anchor and grace,
plan-change audit, usage counters, reservations and alerts

Revision ID: 0018_billing_plans
Revises: 0017_ai_budget
Create Date: 2026-12-04
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import whatsapp_ai.core.db
from whatsapp_ai.core.migrate import disable_row_security, enable_row_security

revision: str = "0018_billing_plans"
down_revision: str | None = "0017_ai_budget"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {
    "billing_plan_changes": "tenant_id",
    "billing_usage": "tenant_id",
    "billing_reservations": "tenant_id",
    "billing_alerts": "tenant_id",
}
When = whatsapp_ai.core.db.UTCDateTime

# The plans the platform starts with. Flags listed are on; quotas and limits give an amount
# (None: unlimited). Platform admins change them later through the API or the CLI.
PLANS: list[dict[str, object]] = [
    {
        "code": "free",
        "name": "Free",
        "price_cents": 0,
        "allows_overage": False,
        "flags": ["agent.finance", "agent.agenda", "agent.profile", "human_handoff"],
        "amounts": {
            "messages": 500,
            "ai_tokens": 100_000,
            "transcription_minutes": 0,
            "contacts": 100,
            "knowledge_documents": 0,
            "knowledge_mb": 0,
            "voice_note_seconds": 0,
            "console_seats": 2,
        },
    },
    {
        "code": "pro",
        "name": "Pro",
        "price_cents": 4900,
        "allows_overage": False,
        "flags": [
            "agent.finance",
            "agent.agenda",
            "agent.knowledge",
            "agent.sales",
            "agent.profile",
            "voice_notes",
            "human_handoff",
            "knowledge_base",
        ],
        "amounts": {
            "messages": 10_000,
            "ai_tokens": 2_000_000,
            "transcription_minutes": 600,
            "contacts": 5_000,
            "knowledge_documents": 200,
            "knowledge_mb": 500,
            "voice_note_seconds": 300,
            "console_seats": 10,
        },
    },
    {
        "code": "enterprise",
        "name": "Enterprise",
        "price_cents": 49_900,
        "allows_overage": True,
        "flags": [
            "agent.finance",
            "agent.agenda",
            "agent.knowledge",
            "agent.sales",
            "agent.profile",
            "voice_notes",
            "human_handoff",
            "knowledge_base",
            "own_models",
        ],
        "amounts": {
            "messages": 200_000,
            "ai_tokens": 50_000_000,
            "transcription_minutes": 10_000,
            "contacts": None,
            "knowledge_documents": 5_000,
            "knowledge_mb": 20_000,
            "voice_note_seconds": 900,
            "console_seats": None,
        },
    },
]


def upgrade() -> None:
    plans = op.create_table(
        "plans",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("allows_overage", sa.Boolean(), nullable=False),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.Column("updated_at", When(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_plans")),
    )
    features = op.create_table(
        "plan_features",
        sa.Column("plan_code", sa.String(length=32), nullable=False),
        sa.Column("feature", sa.String(length=48), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_code"],
            ["plans.code"],
            name=op.f("fk_plan_features_plan_code_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_code", "feature", name=op.f("pk_plan_features")),
    )
    op.create_table(
        "billing_plan_changes",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("from_plan", sa.String(length=32), nullable=True),
        sa.Column("to_plan", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("at", When(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_billing_plan_changes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_plan_changes")),
    )
    op.create_index(
        op.f("ix_billing_plan_changes_tenant_id"), "billing_plan_changes", ["tenant_id"]
    )
    op.create_table(
        "billing_usage",
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("feature", sa.String(length=48), nullable=False),
        sa.Column("period_start", When(timezone=True), nullable=False),
        sa.Column("period_end", When(timezone=True), nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("overage", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", When(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_billing_usage_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "feature", "period_start", name=op.f("pk_billing_usage")
        ),
    )
    op.create_table(
        "billing_reservations",
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("feature", sa.String(length=48), nullable=False),
        sa.Column("period_start", When(timezone=True), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("settled", sa.BigInteger(), nullable=True),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.Column("updated_at", When(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_billing_reservations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_billing_reservations")),
    )
    op.create_table(
        "billing_alerts",
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("feature", sa.String(length=48), nullable=False),
        sa.Column("period_start", When(timezone=True), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.Column("quota", sa.BigInteger(), nullable=False),
        sa.Column("at", When(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_billing_alerts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "feature", "period_start", "threshold", name=op.f("pk_billing_alerts")
        ),
    )
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("billing_anchor", When(timezone=True), nullable=True))
        batch.add_column(sa.Column("grace_until", When(timezone=True), nullable=True))
        batch.add_column(sa.Column("alert_webhook_url", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("alert_webhook_secret", sa.Text(), nullable=True))
    op.execute("UPDATE subscriptions SET billing_anchor = started_at")
    with op.batch_alter_table("subscriptions") as batch:
        batch.alter_column("billing_anchor", existing_type=When(timezone=True), nullable=False)
    enable_row_security(TABLES)

    now = datetime.now(UTC)
    op.bulk_insert(
        plans,
        [
            {
                "code": plan["code"],
                "name": plan["name"],
                "price_cents": plan["price_cents"],
                "currency": "usd",
                "period": "month",
                "allows_overage": plan["allows_overage"],
                "created_at": now,
                "updated_at": now,
            }
            for plan in PLANS
        ],
    )
    rows: list[dict[str, object]] = []
    for plan in PLANS:
        for flag in plan["flags"]:  # type: ignore[attr-defined]
            rows.append(
                {"plan_code": plan["code"], "feature": flag, "enabled": True, "amount": None}
            )
        for key, amount in plan["amounts"].items():  # type: ignore[attr-defined]
            rows.append(
                {"plan_code": plan["code"], "feature": key, "enabled": True, "amount": amount}
            )
    op.bulk_insert(features, rows)


def downgrade() -> None:
    disable_row_security(TABLES)
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("alert_webhook_secret")
        batch.drop_column("alert_webhook_url")
        batch.drop_column("grace_until")
        batch.drop_column("billing_anchor")
    op.drop_table("billing_alerts")
    op.drop_table("billing_reservations")
    op.drop_table("billing_usage")
    op.drop_index(op.f("ix_billing_plan_changes_tenant_id"), table_name="billing_plan_changes")
    op.drop_table("billing_plan_changes")
    op.drop_table("plan_features")
    op.drop_table("plans")
