"""row-level security on every tenant table (PostgreSQL)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from whatsapp_ai.core.migrate import disable_row_security, enable_row_security

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Table → the column naming its tenant.
TENANT_TABLES = {
    "tenants": "id",
    "api_keys": "tenant_id",
    "users": "tenant_id",
    "contacts": "tenant_id",
    "conversations": "tenant_id",
    "messages": "tenant_id",
    "inbound_events": "tenant_id",
    "media": "tenant_id",
    "sandbox_outbox": "tenant_id",
    "twilio_accounts": "tenant_id",
    "twilio_outbound": "tenant_id",
    "erasure_records": "tenant_id",
    "subscriptions": "tenant_id",
}


def upgrade() -> None:
    enable_row_security(TENANT_TABLES)


def downgrade() -> None:
    disable_row_security(TENANT_TABLES)
