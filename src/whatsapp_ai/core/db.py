"""Database: SQLAlchemy 2 async engine for SQLite (embedded) and PostgreSQL (scale-out)."""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite
import sqlean
from sqlalchemy import JSON, ColumnElement, DateTime, MetaData, String, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql.schema import Table
from sqlalchemy.types import TypeDecorator

from whatsapp_ai.core.config import DatabaseSettings

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


SYSTEM = "system"
_scope: ContextVar[str | None] = ContextVar("whatsapp_ai_db_scope", default=None)


@contextmanager
def tenant_scope(tenant_id: str) -> Iterator[None]:
    """Transactions opened inside see only this tenant's rows (PostgreSQL row-level security)."""
    token = _scope.set(tenant_id)
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def system_scope() -> Iterator[None]:
    """For the trusted cross-tenant paths: key and session lookup, webhook routing, batches."""
    token = _scope.set(SYSTEM)
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def unscoped() -> Iterator[None]:
    """Start without a scope and drop whatever scope the block enters (one per request)."""
    token = _scope.set(None)
    try:
        yield
    finally:
        _scope.reset(token)


def enter_tenant(tenant_id: str) -> None:
    """Scope the rest of the current task (a request, once its credential is known)."""
    _scope.set(tenant_id)


def enter_system() -> None:
    """Let the rest of the current task cross tenants (sign-in, sign-up, CLI, job routing)."""
    _scope.set(SYSTEM)


class Base(DeclarativeBase):
    """Declarative base of every table; one metadata for the one migration history."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TenantScoped:
    """Marks tables owned by a tenant: inside a tenant scope, every ORM query of them is
    filtered by that tenant, even one written without the filter (all backends)."""


@event.listens_for(Session, "do_orm_execute")
def _add_tenant_criteria(state: ORMExecuteState) -> None:
    scope = _scope.get()
    if (
        scope is None
        or scope == SYSTEM
        or not (state.is_select or state.is_update or state.is_delete)
    ):
        return
    owned = [m.class_ for m in state.all_mappers if issubclass(m.class_, TenantScoped)]
    if owned:
        state.statement = state.statement.options(
            *(
                with_loader_criteria(
                    entity, lambda cls: cls.tenant_id == scope, include_aliases=True
                )
                for entity in owned
            )
        )


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both backends (SQLite keeps no zone, so store naive UTC there)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use core.clock")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")
IdType = String(26)


def _sqlean_aiosqlite_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """aiosqlite over sqlean (SQLite that can load extensions, with FTS5), errors included."""

    def connect(database: str, **kwargs: Any) -> aiosqlite.Connection:
        return aiosqlite.Connection(lambda: sqlean.connect(database, **kwargs), 64)

    shim = types.SimpleNamespace(
        connect=connect,
        Connection=aiosqlite.Connection,
        __version__=getattr(aiosqlite, "__version__", "0"),
    )
    for name in (
        "DatabaseError",
        "Error",
        "IntegrityError",
        "NotSupportedError",
        "OperationalError",
        "ProgrammingError",
        "sqlite_version",
        "sqlite_version_info",
    ):
        setattr(shim, name, getattr(sqlean, name))
    return AsyncAdapt_aiosqlite_dbapi(shim, sqlean)  # type: ignore[arg-type]


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN can be IMMEDIATE: a deferred
        # transaction that later writes fails with SQLITE_BUSY instead of waiting.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = "DEFERRED" if conn.get_execution_options().get("read_only") else "IMMEDIATE"
        conn.exec_driver_sql(f"BEGIN {mode}")


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """An async engine for the configured URL."""
    url = make_url(settings.url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            module=_sqlean_aiosqlite_dbapi(),
            echo=settings.echo,
            pool_size=settings.pool_size,
            max_overflow=0,
            pool_pre_ping=False,
        )
        _configure_sqlite(engine, settings.busy_timeout_ms)
        return engine
    connect_args: dict[str, Any] = {"server_settings": {"timezone": "UTC"}}
    if not settings.prepared_statements:
        # PgBouncer / Supabase poolers in transaction mode cannot keep prepared statements.
        connect_args["statement_cache_size"] = 0
        connect_args["prepared_statement_cache_size"] = 0
    return create_async_engine(
        url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


class Database:
    """Engine plus session factories; the caller owns each transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # A session used after its block would check out a connection nobody returns (the
        # garbage collector finds it later): closing is final, so such a use fails at once.
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, close_resets_only=False)
        self._read_sessions = async_sessionmaker(
            engine.execution_options(read_only=True),
            expire_on_commit=False,
            close_resets_only=False,
        )
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None

    async def _scoped(self, session: AsyncSession) -> None:
        # Row-level security reads these per-transaction settings (is_local = true).
        scope = _scope.get()
        await session.execute(
            text(
                "SELECT set_config('app.tenant_id', :tenant, true),"
                " set_config('app.system', :system, true)"
            ),
            {
                "tenant": "" if scope in (None, SYSTEM) else scope,
                "system": "on" if scope == SYSTEM else "off",
            },
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one write transaction: committed on exit, rolled back on error."""
        if self._write_lock is None:
            async with self._sessions() as session, session.begin():
                await self._scoped(session)
                yield session
            return
        # SQLite has one writer at a time. Queueing writers of this process on an asyncio lock
        # is far faster than letting them poll SQLite's busy handler (which sleeps up to 100 ms).
        async with self._write_lock, self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only (on SQLite, does not take the write lock)."""
        async with self._read_sessions() as session, session.begin():
            if self._write_lock is None:
                await self._scoped(session)
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


_ON_COMMIT = "whatsapp_ai.on_commit"


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's current transaction has committed."""
    session.info.setdefault(_ON_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_ON_COMMIT, ()):
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop(_ON_COMMIT, None)


async def insert_ignore[M: Base](
    session: AsyncSession,
    model: type[M],
    values: Mapping[str, Any],
    *,
    conflict: Sequence[str] | None = None,
    where: ColumnElement[bool] | None = None,
) -> M | None:
    """INSERT ... ON CONFLICT DO NOTHING; the new row, None when it conflicted.

    ``conflict`` names the unique index's columns (``where`` its predicate, for a partial
    index); without it any unique index counts.
    """
    insert: Callable[[type[M]], Any]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(model).values(**values)
    if conflict is None:
        stmt = stmt.on_conflict_do_nothing()
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict), index_where=where)
    found: M | None = (await session.scalars(stmt.returning(model))).one_or_none()
    return found


async def insert_many_ignore(
    session: AsyncSession,
    model: type[Base],
    rows: list[dict[str, Any]],
    *,
    conflict: list[str],
    returning: str = "id",
) -> list[Any]:
    """Multi-row INSERT ... ON CONFLICT DO NOTHING; the ``returning`` values of new rows."""
    if not rows:
        return []
    table = cast(Table, model.__table__)
    insert: Callable[[Table], Any]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(table).on_conflict_do_nothing(index_elements=conflict).returning(table.c[returning])
    )
    # executemany with RETURNING: SQLAlchemy sends one multi-row INSERT ("insertmanyvalues")
    # from a cached compiled statement; conflicting rows return nothing.
    return [value for value in (await session.execute(stmt, rows)).scalars() if value is not None]


def as_dict(row: Any, *fields: str) -> dict[str, Any]:
    """Chosen attributes of a row, for exports."""
    return {name: getattr(row, name) for name in fields}


def is_unavailable(error: BaseException) -> bool:
    """True when an error means the database cannot be reached (answer 503, let clients retry)."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    # PostgreSQL's own word for it: connection exceptions (08…), a server shutting down or not
    # accepting connections yet (57P01-57P03), or out of resources (53…).
    state = str(getattr(getattr(error, "orig", None), "sqlstate", "") or "")
    if state.startswith(("08", "57P", "53")):
        return True
    if isinstance(error, exc.OperationalError | exc.InterfaceError | exc.TimeoutError):
        return True
    return isinstance(error, OSError | ConnectionError)


Bulk = Callable[[AsyncSession, list[Any]], Awaitable[list[Any]]]


class WriteBatcher:
    """Group commit: concurrent small writes of the same kind share one transaction.

    Writers register a bulk function (session, items) -> results once; ``submit`` hands it one
    item and returns that item's result after the batch has committed, so "stored before
    acknowledged" still holds. If a batch fails, each item is retried alone so one bad write
    never fails the others.
    """

    def __init__(self, db: Database, *, max_batch: int = 128) -> None:
        self._db = db
        self._max_batch = max_batch
        self._bulks: dict[str, Bulk] = {}
        self._pending: list[tuple[str, Any, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def register(self, name: str, bulk: Bulk) -> None:
        """Declare how a batch of ``name`` items is written."""
        self._bulks[name] = bulk

    async def submit(self, name: str, item: Any) -> Any:
        """Write ``item`` in the next batch; its result once committed."""
        if name not in self._bulks:
            raise KeyError(f"no bulk writer registered for {name!r}")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((name, item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        return await future

    async def _flush_all(self) -> None:
        # Batches mix tenants; every item carries its tenant id explicitly.
        _scope.set(SYSTEM)
        while self._pending:
            batch = self._pending[: self._max_batch]
            self._pending = self._pending[self._max_batch :]
            try:
                await self._write(batch)
            except Exception as exc:
                if is_unavailable(exc):
                    # Retrying item by item would only multiply the wait for every caller.
                    for _name, _item, future in batch:
                        _settle(future, error=exc)
                    continue
                for entry in batch:
                    try:
                        await self._write([entry])
                    except Exception as exc:
                        _settle(entry[2], error=exc)

    async def _write(self, batch: list[tuple[str, Any, asyncio.Future[Any]]]) -> None:
        groups: dict[str, list[tuple[Any, asyncio.Future[Any]]]] = {}
        for name, item, future in batch:
            groups.setdefault(name, []).append((item, future))
        settled: list[tuple[asyncio.Future[Any], Any]] = []
        async with self._db.transaction() as session:
            for name, entries in groups.items():
                results = await self._bulks[name](session, [item for item, _ in entries])
                settled += [
                    (future, result) for (_, future), result in zip(entries, results, strict=True)
                ]
        for future, result in settled:
            _settle(future, result=result)


def _settle(
    future: asyncio.Future[Any], *, result: Any = None, error: BaseException | None = None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
