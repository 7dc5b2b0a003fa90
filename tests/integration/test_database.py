"""Database engine settings on each backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import make_settings
from whatsapp_ai.bootstrap import Container, bootstrap


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sqlite_pragmas_and_extension_capable_driver(container: Container) -> None:
    async with container.db.read() as session:
        assert (await session.scalar(text("PRAGMA journal_mode"))) == "wal"
        assert (await session.scalar(text("PRAGMA foreign_keys"))) == 1
        assert (await session.scalar(text("PRAGMA busy_timeout"))) == 5000
        fts5 = await session.scalar(
            text(
                "SELECT count(*) FROM pragma_compile_options WHERE compile_options = 'ENABLE_FTS5'"
            )
        )
        assert fts5 == 1
    async with container.db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection._connection  # type: ignore[union-attr]
        # sqlean's sqlite3 can load extensions (sqlite-vec); pyenv's stdlib sqlite3 cannot.
        assert type(driver).__module__.startswith("sqlean")
        assert hasattr(driver, "enable_load_extension")


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_postgres_has_pgvector(container: Container) -> None:
    async with container.db.transaction() as session:
        await session.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
        distance = await session.scalar(text("SELECT '[1,0]'::vector <=> '[0,1]'::vector"))
    assert distance == pytest.approx(1.0)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_postgres_without_prepared_statements(db_url: str, tmp_path: Path) -> None:
    container = bootstrap(make_settings(db_url, tmp_path, database={"prepared_statements": False}))
    try:
        for _ in range(3):
            async with container.db.read() as session:
                assert await session.scalar(text("SELECT count(*) FROM jobs")) == 0
        async with container.db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            cache_size = raw.driver_connection._stmt_cache.get_max_size()  # type: ignore[union-attr]
        assert cache_size == 0
    finally:
        await container.close()
