"""Run the Alembic history (shipped inside the package) against the application database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from whatsapp_ai.core.db import Database

SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged history, optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision of the history."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(db: Database, revision: str = "head") -> None:
    """Migrate the database to ``revision``."""
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(db: Database, revision: str) -> None:
    """Migrate the database down to ``revision``."""
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def current_revision(db: Database) -> str | None:
    """The revision the database is at (None when never migrated)."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


# Rows are visible to the transaction's tenant, or to the trusted system scope.
_TENANT_CONDITION = (
    "current_setting('app.system', true) = 'on'"
    " OR {column} = current_setting('app.tenant_id', true)"
)


def enable_row_security(tables: dict[str, str]) -> None:
    """In a migration: bind each table (→ the column naming its tenant) to the scope's tenant.

    PostgreSQL only; SQLite (one process, embedded) has no row-level security.
    """
    from alembic import op

    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in tables.items():
        condition = _TENANT_CONDITION.format(column=column)
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        # FORCE: the table owner is bound too, so only superusers and BYPASSRLS roles escape.
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING ({condition}) "
            f"WITH CHECK ({condition})"
        )


def disable_row_security(tables: dict[str, str]) -> None:
    """In a migration: undo :func:`enable_row_security`."""
    from alembic import op

    if op.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
