"""row-level security on every tenant table (PostgreSQL)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

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
# Rows are visible to the transaction's tenant, or to the trusted system scope.
CONDITION = (
    "current_setting('app.system', true) = 'on'"
    " OR {column} = current_setting('app.tenant_id', true)"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite (one process, embedded) has no row-level security
    for table, column in TENANT_TABLES.items():
        condition = CONDITION.format(column=column)
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        # FORCE: the table owner is bound too, so only superusers and BYPASSRLS roles escape.
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING ({condition}) "
            f"WITH CHECK ({condition})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
