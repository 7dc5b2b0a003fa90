"""The one paginator, on real SQLite and PostgreSQL: every row once, in order, no empty last
page, ties broken by id, cursors that cannot be forged into another list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from whatsapp_ai.core.config import DatabaseSettings
from whatsapp_ai.core.db import Database, create_engine, system_scope
from whatsapp_ai.core.errors import InvalidInputError
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.paging import Order, Page, _pack, by, encode, paginate
from whatsapp_ai.core.queue.sql import JobRow

START = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(create_engine(DatabaseSettings(url=db_url)))
    with system_scope():
        yield database
    await database.dispose()


async def _store(db: Database, minutes: list[int]) -> list[JobRow]:
    rows = [
        JobRow(
            id=new_id(),
            kind=f"k{n}",
            payload={},
            status="queued",
            attempts=0,
            max_attempts=1,
            run_at=START + timedelta(minutes=minute),
            created_at=START,
        )
        for n, minute in enumerate(minutes)
    ]
    async with db.transaction() as session:
        await session.execute(delete(JobRow))
        session.add_all(rows)
    return rows


async def _walk(db: Database, order: tuple[Order, ...], limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        async with db.read() as session:
            found = await paginate(session, select(JobRow), order=order, cursor=cursor, limit=limit)
        pages.append([row.id for row in found.items])
        cursor = found.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 100, "paging does not end"


@pytest.mark.parametrize("descending", [False, True])
async def test_every_row_once_in_order_with_ties(db: Database, descending: bool) -> None:
    rows = await _store(db, [5, 1, 3, 3, 3, 0, 9, 3, 1, 7])  # ties on run_at
    order = by(JobRow.run_at, JobRow.id, descending=descending)
    pages = await _walk(db, order, limit=3)
    expected = [r.id for r in sorted(rows, key=lambda r: (r.run_at, r.id), reverse=descending)]
    assert [row_id for page in pages for row_id in page] == expected
    assert [len(page) for page in pages] == [3, 3, 3, 1]


async def test_a_full_last_page_is_not_followed_by_an_empty_one(db: Database) -> None:
    await _store(db, [1, 2, 3, 4, 5, 6])
    pages = await _walk(db, by(JobRow.run_at, JobRow.id), limit=3)
    assert [len(page) for page in pages] == [3, 3]


async def test_an_empty_list_is_one_empty_page(db: Database) -> None:
    await _store(db, [])
    assert await _walk(db, by(JobRow.id), limit=5) == [[]]


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        "bm90IGpzb24=",  # "not json"
        encode(["x"], by(JobRow.id)),  # a cursor of another ordering
        _pack([["run_at", "id"], [{"dt": "yesterday"}, "01H"]]),
        _pack([["run_at", "id"], ["2026-03-04", "01H"]]),  # text where a time belongs
    ],
)
async def test_a_foreign_or_broken_cursor_is_refused_on_the_cursor_field(
    db: Database, cursor: str
) -> None:
    await _store(db, [1, 2])
    with pytest.raises(InvalidInputError) as raised:
        async with db.read() as session:
            await paginate(
                session,
                select(JobRow),
                order=by(JobRow.run_at, JobRow.id),
                cursor=cursor,
                limit=1,
            )
    assert raised.value.field == "cursor"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
# Each example replaces the table's rows, so sharing the database between examples is safe.
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    minutes=st.lists(st.integers(min_value=0, max_value=4), max_size=12),
    limit=st.integers(min_value=1, max_value=5),
)
async def test_paging_equals_sorting_for_any_rows_and_limit(
    db: Database, minutes: list[int], limit: int
) -> None:
    rows = await _store(db, minutes)
    pages = await _walk(db, by(JobRow.run_at, JobRow.id, descending=True), limit=limit)
    flat = [row_id for page in pages for row_id in page]
    assert flat == [r.id for r in sorted(rows, key=lambda r: (r.run_at, r.id), reverse=True)]
    assert all(len(page) == limit for page in pages[:-1])
    assert pages[-1] or not rows


def test_page_schema_builds_from_a_slice() -> None:
    from pydantic import BaseModel

    from whatsapp_ai.core.paging import Slice

    class Item(BaseModel):
        n: int

    page = Page[Item].of(Slice(items=[{"n": 1}, {"n": 2}], next_cursor="c"), Item.model_validate)
    assert page.model_dump() == {"items": [{"n": 1}, {"n": 2}], "next_cursor": "c"}
