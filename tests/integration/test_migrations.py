"""One migration history for both databases, in step with the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from whatsapp_ai.bootstrap import Container
from whatsapp_ai.core.db import Base
from whatsapp_ai.core.migrate import current_revision, downgrade, head_revision, upgrade
from whatsapp_ai.models import import_all_models


def _diff(sync_connection: Any) -> list[Any]:
    import_all_models()
    context = MigrationContext.configure(
        sync_connection, opts={"compare_type": True, "target_metadata": Base.metadata}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_database_is_at_head(container: Container) -> None:
    assert await current_revision(container.db) == head_revision()


async def test_models_and_migrations_agree(container: Container) -> None:
    async with container.db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_downgrade_to_base_and_back(container: Container) -> None:
    await downgrade(container.db, "base")
    async with container.db.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    assert set(tables) <= {"alembic_version"}
    await upgrade(container.db)
    assert await current_revision(container.db) == head_revision()
    async with container.db.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    import_all_models()
    assert set(Base.metadata.tables) <= set(tables)
