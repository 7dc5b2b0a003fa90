"""Shared fixtures: a migrated database per test on real SQLite and real PostgreSQL."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.config import DatabaseSettings, Settings
from whatsapp_ai.core.db import Database, create_engine
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.migrate import upgrade
from whatsapp_ai.identity import service as identity

pytest_plugins = ["tests.twilio_support", "tests.desk_support"]

BACKENDS = ["sqlite", "postgres"]
TEMPLATE_DB = "wai_template"
APP_ROLE = "wai_app"


def run_coro(coro: Any) -> Any:
    """Run a coroutine to completion on a private loop (safe inside a running test loop)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _admin(server_url: str, *statements: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        for statement in statements:
            await admin.execute(statement)
    finally:
        await admin.close()


def _asyncpg_dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server URL (database 'postgres'): TEST_DATABASE_URL or pgserver's PG 18."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield given
        return
    import pgserver

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pgserver.get_server(tmp_path_factory.mktemp("pg") / "data", cleanup_mode="delete")
    uri = server.get_uri()
    yield uri.replace("postgresql://postgres:@/", "postgresql+asyncpg://postgres@/", 1)
    server.cleanup()


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template(postgres_url: str) -> str:
    """A migrated template database to clone for each test."""

    async def build() -> None:
        await _admin(
            postgres_url,
            f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"',
            f'CREATE DATABASE "{TEMPLATE_DB}"',
        )
        await migrate_url(_with_database(postgres_url, TEMPLATE_DB))
        # The role the application should run as: bound by row-level security.
        await _admin(
            _with_database(postgres_url, TEMPLATE_DB),
            f"""DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                    CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS;
                END IF;
            END $$""",
            f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}",
        )

    run_coro(build())
    return TEMPLATE_DB


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file to copy for each test."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"

    run_coro(migrate_url(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Which database the test runs on."""
    return str(request.param)


async def migrate_url(url: str) -> None:
    """Create the schema at ``url`` through the real migration history."""
    db = Database(create_engine(DatabaseSettings(url=url)))
    await upgrade(db)
    await db.dispose()


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "test.db"
        shutil.copyfile(template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    server_url: str = request.getfixturevalue("postgres_url")
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"t_{new_id().lower()}"
    run_coro(_admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    yield _with_database(server_url, name)
    run_coro(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def as_app_role(url: str) -> str:
    """The same PostgreSQL database, connected as the row-level-security-bound app role."""
    return make_url(url).set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


def make_settings(db_url: str, tmp_path: Path, **groups: dict[str, Any]) -> Settings:
    """Test settings: the given database, a private data dir, fast queue timings, and each
    message answered on its own (tests of bursts set a window)."""
    base: dict[str, dict[str, Any]] = {
        "app": {"env": "test", "data_dir": str(tmp_path / "data")},
        "database": {"url": db_url, "pool_size": 5},
        "conversation": {"burst_window_ms": 0},
        # Voice notes get the fixed reply unless a test asks for Whisper (tests/integration/
        # test_voice_notes.py).
        "ai": {"speech": "off"},
        "queue": {
            "poll_interval_s": 0.05,
            "backoff_base_s": 0.01,
            "backoff_max_s": 0.05,
            "delivery_backoff_base_s": 0.01,
            "delivery_backoff_max_s": 0.05,
            "visibility_timeout_s": 30,
        },
    }
    for group, values in groups.items():
        base.setdefault(group, {}).update(values)
    return Settings.model_validate(base)


@pytest.fixture
async def container(db_url: str, tmp_path: Path) -> AsyncIterator[Container]:
    """The platform's dependencies on the test database, with default adapters."""
    built = bootstrap(make_settings(db_url, tmp_path))
    yield built
    await built.close()


@pytest.fixture
async def tenant(container: Container) -> dict[str, str]:
    """A tenant with an API key: {'id', 'key'}."""
    async with container.db.transaction() as session:
        created = await identity.create_tenant(
            session,
            name="Padaria Teste",
            slug=f"t-{new_id().lower()[-10:]}",
            now=container.clock.now(),
        )
        _key, secret = await identity.create_api_key(
            session, tenant_id=created.id, name="test", now=container.clock.now()
        )
    return {"id": created.id, "key": secret}


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the application (in process, real ASGI stack)."""
    app = create_app(container)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def auth(key: str) -> dict[str, str]:
    """Authorization header for an API key."""
    return {"Authorization": f"Bearer {key}"}


async def drain(container: Container, timeout: float = 10.0) -> None:
    """Run jobs until none is queued or running (snoozed turns come back within a second)."""
    worker = container.worker()
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await worker.run_until_idle()
        stats = await container.queue.stats()
        if stats.by_status["queued"] == 0 and stats.by_status["running"] == 0:
            return
        assert asyncio.get_running_loop().time() < deadline, f"jobs left: {stats.by_status}"
        await asyncio.sleep(0.1)
