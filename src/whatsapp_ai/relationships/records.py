"""What every CRM record shares: its contact, its write-once by source key, its locks and
state changes, and the checks of its texts and times.

A write that an assistant turn makes carries a ``source_key`` (``f"{inbound_message_id}:{n}"``):
a turn retried after a crash gets back what it created the first time instead of creating it
twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from whatsapp_ai.core.db import Base, insert_ignore
from whatsapp_ai.identity import service as identity
from whatsapp_ai.relationships.errors import (
    BadTimeError,
    DuplicateError,
    InvalidChangeError,
    InvalidInputError,
    NotFoundError,
    PastTimeError,
)
from whatsapp_ai.relationships.models import Interaction, Meeting, Person, Reminder

# Clocks of callers and servers differ a little: "now" may arrive a few seconds late.
SKEW = timedelta(minutes=1)
SOURCE_KEY_MAX = 120

type Owned = Interaction | Reminder | Meeting


async def ensure_contact(session: AsyncSession, *, tenant_id: str, contact_id: str) -> None:
    """Raise NotFoundError unless the contact belongs to the tenant."""
    if await identity.get_contact(session, tenant_id=tenant_id, contact_id=contact_id) is None:
        raise NotFoundError("contact not found")


async def add_once[M: Owned](
    session: AsyncSession, model: type[M], values: dict[str, Any]
) -> tuple[M, bool]:
    """Insert a contact's row once per source key; (row, created)."""
    tenant_id, contact_id = values["tenant_id"], values["contact_id"]
    source_key = values["source_key"]
    if source_key is not None:
        replayed = await by_source_key(session, model, tenant_id, contact_id, source_key)
        if replayed is not None:
            return replayed, False
    await ensure_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    if values["person_id"] is not None:
        await person_of(session, tenant_id, contact_id, values["person_id"])
    created = await insert_ignore(session, model, values)
    if created is not None:
        return created, True
    # Another transaction stored the same key between our look-up and our insert.
    replayed = await by_source_key(session, model, tenant_id, contact_id, source_key or "")
    assert replayed is not None
    return replayed, False


async def by_source_key[M: Base](
    session: AsyncSession, model: type[M], tenant_id: str, contact_id: str, source_key: str
) -> M | None:
    """The row stored under ``source_key`` (a retried write), if it is this contact's."""
    table = cast(Any, model)
    found = cast(
        M | None,
        await session.scalar(
            select(model).where(table.tenant_id == tenant_id, table.source_key == source_key)
        ),
    )
    if found is not None and cast(Any, found).contact_id != contact_id:
        raise DuplicateError(f"source_key {source_key!r} was used for another contact")
    return found


async def person_of(
    session: AsyncSession, tenant_id: str, contact_id: str, person_id: str
) -> Person:
    """One of the contact's people; NotFoundError for anyone else's."""
    person = await session.scalar(
        select(Person).where(
            Person.tenant_id == tenant_id,
            Person.contact_id == contact_id,
            Person.id == person_id,
        )
    )
    if person is None:
        raise NotFoundError("person not found among the contact's people")
    return person


async def lock[M: Base](
    session: AsyncSession, model: type[M], tenant_id: str, row_id: str, what: str
) -> M:
    """The tenant's row, locked until the transaction ends (PostgreSQL); else NotFoundError."""
    table = cast(Any, model)
    found = cast(
        M | None,
        await session.scalar(
            select(model).where(table.tenant_id == tenant_id, table.id == row_id).with_for_update()
        ),
    )
    if found is None:
        raise NotFoundError(f"{what} not found")
    return found


async def set_status[M: (Reminder, Meeting)](
    session: AsyncSession,
    model: type[M],
    tenant_id: str,
    row_id: str,
    status: str,
    now: datetime,
    *,
    allowed: tuple[str, ...],
) -> M:
    """Move a reminder or meeting to ``status`` from one of ``allowed`` (there already: kept)."""
    what = "reminder" if model is Reminder else "meeting"
    row = await lock(session, model, tenant_id, row_id, what)
    if row.status == status:
        return row
    if row.status not in allowed:
        raise InvalidChangeError(f"the {what} is {row.status}; it cannot become {status}")
    row.status = status
    row.updated_at = now
    await session.flush()
    return row


def required(value: object, field: str, limit: int) -> str:
    """A text that must say something, trimmed (names and titles: inner spaces collapsed)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{field} cannot be empty", field=field)
    clean = " ".join(value.split()) if field in ("name", "title") else value.strip()
    if len(clean) > limit:
        raise InvalidInputError(f"{field} is longer than {limit} characters", field=field)
    return clean


def optional(value: object, field: str, limit: int) -> str | None:
    """A text that may be absent; blank counts as absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return required(value, field, limit)


def checked_key(source_key: str | None) -> str | None:
    """The source key, if it has a length the column keeps."""
    if source_key is None:
        return None
    if not source_key or len(source_key) > SOURCE_KEY_MAX:
        raise InvalidInputError(
            f"source_key must have 1 to {SOURCE_KEY_MAX} characters", field="source_key"
        )
    return source_key


def show(moment: datetime) -> str:
    """A time as the CRM's messages write it."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def not_past(moment: datetime, now: datetime, what: str, *, field: str) -> None:
    """Refuse a naive time, or one already gone."""
    if moment.tzinfo is None:
        raise BadTimeError("times need a time zone (e.g. 2026-03-01T09:00:00-03:00)", field=field)
    if moment < now - SKEW:
        raise PastTimeError(f"{what} in the past ({show(moment)}); give a later time", field=field)


def ends_after(starts_at: datetime, ends_at: datetime | None) -> None:
    """Refuse a meeting that ends before it starts."""
    if ends_at is not None and ends_at <= starts_at:
        raise BadTimeError("a meeting must end after it starts", field="ends_at")


def window(
    column: InstrumentedAttribute[datetime], start: datetime | None, end: datetime | None
) -> list[ColumnElement[bool]]:
    """Conditions for ``column`` in [start, end); either side may be open."""
    if start is not None and end is not None and start >= end:
        raise InvalidInputError("'from' must be before 'to'", field="from")
    return [
        *([column >= start] if start is not None else []),
        *([column < end] if end is not None else []),
    ]


def count(result: object) -> int:
    """The rows a DELETE removed."""
    return int(getattr(result, "rowcount", 0) or 0)
