"""Personal CRM service: each contact's people, interactions, reminders and meetings, the
scheduler's delivery of due reminders, and the contact's export and erasure.

The caller owns the transaction. Writes that an assistant turn makes take a ``source_key``
(``f"{inbound_message_id}:{n}"``): a turn retried after a crash gets back what it created the
first time instead of creating it twice.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, case, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from whatsapp_ai.core.db import Base, as_dict
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.privacy import ContactRef, Erased
from whatsapp_ai.identity import service as identity
from whatsapp_ai.relationships.errors import (
    BadTimeError,
    DuplicateError,
    InvalidChangeError,
    InvalidInputError,
    NotFoundError,
)
from whatsapp_ai.relationships.models import Interaction, Meeting, Person, Reminder

# Clocks of callers and servers differ a little: "now" may arrive a few seconds late.
SKEW = timedelta(minutes=1)
NAME_MAX = 200
TEXT_MAX = 1000
SUMMARY_MAX = 4000
NOTES_MAX = 4000
TITLE_MAX = 200
LOCATION_MAX = 300
PHONE_MAX = 32
EMAIL_MAX = 254
SOURCE_KEY_MAX = 120
PERSON_FIELDS = frozenset({"name", "phone", "email", "notes", "birthday"})
MEETING_FIELDS = frozenset({"title", "starts_at", "ends_at", "location", "person_id"})
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Page[T]:
    """One page of a list, and the cursor of the next (None on the last page)."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Upcoming:
    """What is ahead for a contact: pending reminders and scheduled meetings, soonest first."""

    reminders: list[Reminder]
    meetings: list[Meeting]


def fold_name(name: str) -> str:
    """A name as it is matched: case and accents ignored, punctuation and spaces collapsed
    ("  João-Silva " → "joao silva")."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return _NOT_WORD.sub(" ", bare).strip()


# --- contacts -------------------------------------------------------------------------------


async def ensure_contact(session: AsyncSession, *, tenant_id: str, contact_id: str) -> None:
    """Raise NotFoundError unless the contact belongs to the tenant."""
    if await identity.get_contact(session, tenant_id=tenant_id, contact_id=contact_id) is None:
        raise NotFoundError("contact not found")


# --- people ---------------------------------------------------------------------------------


async def get_person(
    session: AsyncSession, *, tenant_id: str, person_id: str, contact_id: str | None = None
) -> Person | None:
    """A person of the tenant (of ``contact_id``'s list, when given)."""
    query = select(Person).where(Person.tenant_id == tenant_id, Person.id == person_id)
    if contact_id is not None:
        query = query.where(Person.contact_id == contact_id)
    return await session.scalar(query)


async def find_people(
    session: AsyncSession, *, tenant_id: str, contact_id: str, query: str, limit: int = 10
) -> list[Person]:
    """The contact's people whose name, or a word of it, starts with ``query`` (accents and
    case ignored); an exact name first, then by name."""
    key = fold_name(query)
    if not key:
        return []
    rows = await session.scalars(
        select(Person)
        .where(Person.tenant_id == tenant_id, Person.contact_id == contact_id, _matches(key))
        .order_by(case((Person.name_key == key, 0), else_=1), Person.name_key, Person.id)
        .limit(limit)
    )
    return list(rows)


def _matches(key: str) -> ColumnElement[bool]:
    return or_(
        Person.name_key.startswith(key, autoescape=True),
        Person.name_key.contains(f" {key}", autoescape=True),
    )


async def list_people(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str | None = None,
    query: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page[Person]:
    """The tenant's people (of one contact, matching ``query`` by name prefix), by name."""
    stmt = select(Person).where(Person.tenant_id == tenant_id)
    if contact_id is not None:
        stmt = stmt.where(Person.contact_id == contact_id)
    if query is not None:
        key = fold_name(query)
        if not key:
            raise InvalidInputError("the search needs a letter or a digit")
        stmt = stmt.where(_matches(key))
    if after is not None:
        stmt = stmt.where(_after(Person.name_key, _decode(after), Person.id))
    rows = list(await session.scalars(stmt.order_by(Person.name_key, Person.id).limit(limit + 1)))
    return _page(rows, limit, lambda person: person.name_key)


async def find_or_create_person(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    name: str,
    now: datetime,
    phone: str | None = None,
    email: str | None = None,
    notes: str | None = None,
    birthday: date | None = None,
    source_key: str | None = None,
) -> tuple[Person, bool]:
    """The contact's person with this name (accents and case ignored), or a new one with
    the details given; (person, created). Details of an existing person are left as they are."""
    clean = _required(name, "name", NAME_MAX)
    key = fold_name(clean)
    if not key:
        raise InvalidInputError("a person's name needs a letter or a digit")
    await ensure_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    values = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "name": clean,
        "name_key": key[:NAME_MAX],
        "phone": _optional(phone, "phone", PHONE_MAX),
        "email": _optional(email, "email", EMAIL_MAX),
        "notes": _optional(notes, "notes", NOTES_MAX),
        "birthday": birthday,
        "source_key": _key(source_key),
        "created_at": now,
        "updated_at": now,
    }
    created = await _insert_once(session, Person, values)
    if created is not None:
        return created, True
    if source_key is not None:
        replayed = await _by_source_key(session, Person, tenant_id, contact_id, source_key)
        if replayed is not None:
            return replayed, False
    found = await session.scalar(
        select(Person).where(
            Person.tenant_id == tenant_id,
            Person.contact_id == contact_id,
            Person.name_key == values["name_key"],
        )
    )
    assert found is not None  # the insert conflicted with it
    return found, False


async def update_person(
    session: AsyncSession,
    *,
    tenant_id: str,
    person_id: str,
    changes: Mapping[str, Any],
    now: datetime,
) -> Person:
    """Change a person's name or details; None clears a detail. A new name must not be
    another person's of the same contact."""
    unknown = set(changes) - PERSON_FIELDS
    if unknown:
        raise InvalidInputError(f"a person has no {', '.join(sorted(unknown))}")
    person = await _lock(session, Person, tenant_id, person_id, "person")
    if "name" in changes:
        clean = _required(changes["name"], "name", NAME_MAX)
        key = fold_name(clean)
        if not key:
            raise InvalidInputError("a person's name needs a letter or a digit")
        if key != person.name_key:
            await _no_namesake(session, person, key[:NAME_MAX])
        person.name = clean
        person.name_key = key[:NAME_MAX]
    for name, limit in (("phone", PHONE_MAX), ("email", EMAIL_MAX), ("notes", NOTES_MAX)):
        if name in changes:
            setattr(person, name, _optional(changes[name], name, limit))
    if "birthday" in changes:
        person.birthday = changes["birthday"]
    person.updated_at = now
    try:
        await session.flush()
    except IntegrityError as exc:  # a namesake created meanwhile
        raise DuplicateError(f"the contact already has a person named {person.name!r}") from exc
    return person


async def _no_namesake(session: AsyncSession, person: Person, key: str) -> None:
    other = await session.scalar(
        select(Person.name).where(
            Person.tenant_id == person.tenant_id,
            Person.contact_id == person.contact_id,
            Person.name_key == key,
            Person.id != person.id,
        )
    )
    if other is not None:
        raise DuplicateError(f"the contact already has a person named {other!r}")


async def delete_person(session: AsyncSession, *, tenant_id: str, person_id: str) -> bool:
    """Delete a person and their interactions (reminders and meetings stay, without them)."""
    result = await session.execute(
        delete(Person).where(Person.tenant_id == tenant_id, Person.id == person_id)
    )
    return _count(result) > 0


# --- interactions ---------------------------------------------------------------------------


async def add_interaction(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    summary: str,
    now: datetime,
    happened_at: datetime | None = None,
    person_id: str | None = None,
    source_key: str | None = None,
) -> tuple[Interaction, bool]:
    """Record something that happened (now, unless ``happened_at``); (interaction, created)."""
    when = happened_at or now
    if when > now + SKEW:
        raise BadTimeError(f"an interaction cannot happen in the future ({_show(when)})")
    values = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "person_id": person_id,
        "happened_at": when,
        "summary": _required(summary, "summary", SUMMARY_MAX),
        "source_key": _key(source_key),
        "created_at": now,
    }
    return await _add(session, Interaction, values)


async def list_interactions(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str | None = None,
    person_id: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page[Interaction]:
    """The tenant's interactions (of one contact, with one person), most recent first."""
    stmt = select(Interaction).where(Interaction.tenant_id == tenant_id)
    if contact_id is not None:
        stmt = stmt.where(Interaction.contact_id == contact_id)
    if person_id is not None:
        stmt = stmt.where(Interaction.person_id == person_id)
    if after is not None:
        moment, row_id = _time_cursor(after)
        stmt = stmt.where(
            _after(Interaction.happened_at, (moment, row_id), Interaction.id, descending=True)
        )
    rows = list(
        await session.scalars(
            stmt.order_by(Interaction.happened_at.desc(), Interaction.id.desc()).limit(limit + 1)
        )
    )
    return _page(rows, limit, lambda row: row.happened_at)


# --- reminders ------------------------------------------------------------------------------


async def add_reminder(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    text: str,
    due_at: datetime,
    now: datetime,
    person_id: str | None = None,
    source_key: str | None = None,
) -> tuple[Reminder, bool]:
    """Schedule a reminder for the contact; (reminder, created)."""
    _not_past(due_at, now, "the reminder would be due")
    values = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "person_id": person_id,
        "text": _required(text, "text", TEXT_MAX),
        "due_at": due_at,
        "status": "pending",
        "sent_at": None,
        "attempts": 0,
        "source_key": _key(source_key),
        "created_at": now,
        "updated_at": now,
    }
    return await _add(session, Reminder, values)


async def get_reminder(
    session: AsyncSession, *, tenant_id: str, reminder_id: str
) -> Reminder | None:
    """A reminder of the tenant."""
    return await session.scalar(
        select(Reminder).where(Reminder.tenant_id == tenant_id, Reminder.id == reminder_id)
    )


async def list_reminders(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str | None = None,
    statuses: Sequence[str] = (),
    due_from: datetime | None = None,
    due_to: datetime | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page[Reminder]:
    """The tenant's reminders (of one contact, in these states, due in [from, to)), soonest
    first."""
    stmt = select(Reminder).where(Reminder.tenant_id == tenant_id)
    if contact_id is not None:
        stmt = stmt.where(Reminder.contact_id == contact_id)
    if statuses:
        stmt = stmt.where(Reminder.status.in_(statuses))
    stmt = stmt.where(*_window(Reminder.due_at, due_from, due_to))
    if after is not None:
        stmt = stmt.where(_after(Reminder.due_at, _time_cursor(after), Reminder.id))
    rows = list(await session.scalars(stmt.order_by(Reminder.due_at, Reminder.id).limit(limit + 1)))
    return _page(rows, limit, lambda row: row.due_at)


async def edit_reminder(
    session: AsyncSession, *, tenant_id: str, reminder_id: str, text: str, now: datetime
) -> Reminder:
    """Change what the reminder says."""
    reminder = await _lock(session, Reminder, tenant_id, reminder_id, "reminder")
    reminder.text = _required(text, "text", TEXT_MAX)
    reminder.updated_at = now
    await session.flush()
    return reminder


async def reschedule_reminder(
    session: AsyncSession, *, tenant_id: str, reminder_id: str, due_at: datetime, now: datetime
) -> Reminder:
    """Move a pending reminder, or send a sent one again, at ``due_at``."""
    _not_past(due_at, now, "the reminder would be due")
    reminder = await _lock(session, Reminder, tenant_id, reminder_id, "reminder")
    if reminder.status not in ("pending", "sent"):
        raise InvalidChangeError(f"the reminder is {reminder.status}; add a new one instead")
    reminder.due_at = due_at
    reminder.status = "pending"
    reminder.sent_at = None
    reminder.attempts = 0
    reminder.updated_at = now
    await session.flush()
    return reminder


async def complete_reminder(
    session: AsyncSession, *, tenant_id: str, reminder_id: str, now: datetime
) -> Reminder:
    """Mark a reminder done (done already: unchanged)."""
    return await _set_status(
        session, Reminder, tenant_id, reminder_id, "done", now, allowed=("pending", "sent")
    )


async def cancel_reminder(
    session: AsyncSession, *, tenant_id: str, reminder_id: str, now: datetime
) -> Reminder:
    """Cancel a reminder that is not done (cancelled already: unchanged)."""
    return await _set_status(
        session, Reminder, tenant_id, reminder_id, "cancelled", now, allowed=("pending", "sent")
    )


async def delete_reminder(session: AsyncSession, *, tenant_id: str, reminder_id: str) -> bool:
    """Delete a reminder."""
    result = await session.execute(
        delete(Reminder).where(Reminder.tenant_id == tenant_id, Reminder.id == reminder_id)
    )
    return _count(result) > 0


# --- delivery of due reminders (the scheduler) -----------------------------------------------


async def due_reminders(
    session: AsyncSession, *, now: datetime, limit: int = 200
) -> list[tuple[str, str]]:
    """(tenant_id, reminder_id) of pending reminders due by ``now``, oldest first, across
    tenants: run it in the system scope, then claim each in its tenant's scope."""
    rows = await session.execute(
        select(Reminder.tenant_id, Reminder.id)
        .where(Reminder.status == "pending", Reminder.due_at <= now)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )
    return [(tenant_id, reminder_id) for tenant_id, reminder_id in rows.all()]


async def claim_due(
    session: AsyncSession, *, tenant_id: str, reminder_id: str, now: datetime
) -> Reminder | None:
    """The reminder, locked until the transaction ends, if it is still pending and due;
    None when it is not, or when another transaction holds it (that one delivers it).
    Send it and :func:`mark_sent` in the same transaction."""
    reminder = await session.scalar(
        select(Reminder)
        .where(
            Reminder.tenant_id == tenant_id,
            Reminder.id == reminder_id,
            Reminder.status == "pending",
            Reminder.due_at <= now,
        )
        .with_for_update(skip_locked=True)
    )
    if reminder is None:
        return None
    reminder.attempts += 1
    reminder.updated_at = now
    await session.flush()
    return reminder


async def mark_sent(session: AsyncSession, *, reminder: Reminder, now: datetime) -> None:
    """Record that a claimed reminder went out to the contact."""
    reminder.status = "sent"
    reminder.sent_at = now
    reminder.updated_at = now
    await session.flush()


# --- meetings -------------------------------------------------------------------------------


async def add_meeting(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    title: str,
    starts_at: datetime,
    now: datetime,
    ends_at: datetime | None = None,
    location: str | None = None,
    person_id: str | None = None,
    source_key: str | None = None,
) -> tuple[Meeting, bool]:
    """Put a meeting in the contact's agenda; (meeting, created). It cannot start in the
    past, nor end before it starts."""
    _not_past(starts_at, now, "the meeting would start")
    _ends_after(starts_at, ends_at)
    values = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "person_id": person_id,
        "title": _required(title, "title", TITLE_MAX),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "location": _optional(location, "location", LOCATION_MAX),
        "status": "scheduled",
        "source_key": _key(source_key),
        "created_at": now,
        "updated_at": now,
    }
    return await _add(session, Meeting, values)


async def get_meeting(session: AsyncSession, *, tenant_id: str, meeting_id: str) -> Meeting | None:
    """A meeting of the tenant."""
    return await session.scalar(
        select(Meeting).where(Meeting.tenant_id == tenant_id, Meeting.id == meeting_id)
    )


async def list_meetings(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str | None = None,
    statuses: Sequence[str] = (),
    starts_from: datetime | None = None,
    starts_to: datetime | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page[Meeting]:
    """The tenant's meetings (of one contact, in these states, starting in [from, to)),
    soonest first."""
    stmt = select(Meeting).where(Meeting.tenant_id == tenant_id)
    if contact_id is not None:
        stmt = stmt.where(Meeting.contact_id == contact_id)
    if statuses:
        stmt = stmt.where(Meeting.status.in_(statuses))
    stmt = stmt.where(*_window(Meeting.starts_at, starts_from, starts_to))
    if after is not None:
        stmt = stmt.where(_after(Meeting.starts_at, _time_cursor(after), Meeting.id))
    rows = list(
        await session.scalars(stmt.order_by(Meeting.starts_at, Meeting.id).limit(limit + 1))
    )
    return _page(rows, limit, lambda row: row.starts_at)


async def update_meeting(
    session: AsyncSession,
    *,
    tenant_id: str,
    meeting_id: str,
    changes: Mapping[str, Any],
    now: datetime,
) -> Meeting:
    """Change a scheduled meeting's title, time, place or person (None clears the end,
    place or person). A new start cannot be in the past."""
    unknown = set(changes) - MEETING_FIELDS
    if unknown:
        raise InvalidInputError(f"a meeting has no {', '.join(sorted(unknown))}")
    meeting = await _lock(session, Meeting, tenant_id, meeting_id, "meeting")
    if meeting.status != "scheduled":
        raise InvalidChangeError(f"the meeting is {meeting.status}; schedule a new one instead")
    if "title" in changes:
        meeting.title = _required(changes["title"], "title", TITLE_MAX)
    if "starts_at" in changes:
        if changes["starts_at"] is None:
            raise InvalidInputError("a meeting needs a start time")
        _not_past(changes["starts_at"], now, "the meeting would start")
        meeting.starts_at = changes["starts_at"]
    if "ends_at" in changes:
        meeting.ends_at = changes["ends_at"]
    _ends_after(meeting.starts_at, meeting.ends_at)
    if "location" in changes:
        meeting.location = _optional(changes["location"], "location", LOCATION_MAX)
    if "person_id" in changes:
        if changes["person_id"] is not None:
            await _person_of(session, tenant_id, meeting.contact_id, changes["person_id"])
        meeting.person_id = changes["person_id"]
    meeting.updated_at = now
    await session.flush()
    return meeting


async def cancel_meeting(
    session: AsyncSession, *, tenant_id: str, meeting_id: str, now: datetime
) -> Meeting:
    """Cancel a scheduled meeting (cancelled already: unchanged)."""
    return await _set_status(
        session, Meeting, tenant_id, meeting_id, "cancelled", now, allowed=("scheduled",)
    )


async def complete_meeting(
    session: AsyncSession, *, tenant_id: str, meeting_id: str, now: datetime
) -> Meeting:
    """Mark a scheduled meeting done (done already: unchanged)."""
    return await _set_status(
        session, Meeting, tenant_id, meeting_id, "done", now, allowed=("scheduled",)
    )


async def delete_meeting(session: AsyncSession, *, tenant_id: str, meeting_id: str) -> bool:
    """Delete a meeting."""
    result = await session.execute(
        delete(Meeting).where(Meeting.tenant_id == tenant_id, Meeting.id == meeting_id)
    )
    return _count(result) > 0


async def upcoming(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    now: datetime,
    days: int = 7,
    limit: int = 50,
) -> Upcoming:
    """The contact's pending reminders and scheduled meetings of the next ``days`` days."""
    until = now + timedelta(days=days)
    reminders = await session.scalars(
        select(Reminder)
        .where(
            Reminder.tenant_id == tenant_id,
            Reminder.contact_id == contact_id,
            Reminder.status == "pending",
            Reminder.due_at >= now,
            Reminder.due_at < until,
        )
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )
    meetings = await session.scalars(
        select(Meeting)
        .where(
            Meeting.tenant_id == tenant_id,
            Meeting.contact_id == contact_id,
            Meeting.status == "scheduled",
            Meeting.starts_at >= now,
            Meeting.starts_at < until,
        )
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(limit)
    )
    return Upcoming(reminders=list(reminders), meetings=list(meetings))


# --- data subject rights ----------------------------------------------------------------------


async def export_contact(session: AsyncSession, ref: ContactRef) -> dict[str, Any]:
    """The contact's people, interactions, reminders and meetings."""

    async def rows[M: Base](model: type[M], order: Any) -> list[M]:
        table = cast(Any, model)
        return list(
            await session.scalars(
                select(model)
                .where(table.tenant_id == ref.tenant_id, table.contact_id == ref.contact_id)
                .order_by(order, table.id)
            )
        )

    common = ("id", "source_key", "created_at")
    return {
        "people": [
            as_dict(p, *common, "name", "phone", "email", "notes", "birthday", "updated_at")
            for p in await rows(Person, Person.name_key)
        ],
        "interactions": [
            as_dict(i, *common, "person_id", "happened_at", "summary")
            for i in await rows(Interaction, Interaction.happened_at)
        ],
        "reminders": [
            as_dict(r, *common, "person_id", "text", "due_at", "status", "sent_at")
            for r in await rows(Reminder, Reminder.due_at)
        ],
        "meetings": [
            as_dict(m, *common, "person_id", "title", "starts_at", "ends_at", "location", "status")
            for m in await rows(Meeting, Meeting.starts_at)
        ],
    }


async def erase_contact(session: AsyncSession, ref: ContactRef) -> Erased:
    """Delete the contact's people, interactions, reminders and meetings."""
    removed = 0
    for model in (Interaction, Reminder, Meeting, Person):
        result = await session.execute(
            delete(model).where(
                model.tenant_id == ref.tenant_id, model.contact_id == ref.contact_id
            )
        )
        removed += _count(result)
    return Erased(rows=removed)


# --- helpers ----------------------------------------------------------------------------------

type _Owned = Interaction | Reminder | Meeting


async def _add[M: _Owned](
    session: AsyncSession, model: type[M], values: dict[str, Any]
) -> tuple[M, bool]:
    """Insert a contact's row once per source key; (row, created)."""
    tenant_id, contact_id = values["tenant_id"], values["contact_id"]
    source_key = values["source_key"]
    if source_key is not None:
        replayed = await _by_source_key(session, model, tenant_id, contact_id, source_key)
        if replayed is not None:
            return replayed, False
    await ensure_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    if values["person_id"] is not None:
        await _person_of(session, tenant_id, contact_id, values["person_id"])
    created = await _insert_once(session, model, values)
    if created is not None:
        return created, True
    # Another transaction stored the same key between our look-up and our insert.
    replayed = await _by_source_key(session, model, tenant_id, contact_id, source_key or "")
    assert replayed is not None
    return replayed, False


async def _insert_once[M: Base](
    session: AsyncSession, model: type[M], values: dict[str, Any]
) -> M | None:
    """INSERT ... ON CONFLICT DO NOTHING as an ORM row; None when a unique key conflicted."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(model).values(**values).on_conflict_do_nothing().returning(model)
    return (await session.scalars(stmt)).one_or_none()


async def _by_source_key[M: Base](
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


async def _person_of(
    session: AsyncSession, tenant_id: str, contact_id: str, person_id: str
) -> Person:
    person = await get_person(
        session, tenant_id=tenant_id, person_id=person_id, contact_id=contact_id
    )
    if person is None:
        raise NotFoundError("person not found among the contact's people")
    return person


async def _lock[M: Base](
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


async def _set_status[M: (Reminder, Meeting)](
    session: AsyncSession,
    model: type[M],
    tenant_id: str,
    row_id: str,
    status: str,
    now: datetime,
    *,
    allowed: tuple[str, ...],
) -> M:
    what = "reminder" if model is Reminder else "meeting"
    row = await _lock(session, model, tenant_id, row_id, what)
    if row.status == status:
        return row
    if row.status not in allowed:
        raise InvalidChangeError(f"the {what} is {row.status}; it cannot become {status}")
    row.status = status
    row.updated_at = now
    await session.flush()
    return row


def _required(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{field} cannot be empty")
    clean = " ".join(value.split()) if field in ("name", "title") else value.strip()
    if len(clean) > limit:
        raise InvalidInputError(f"{field} is longer than {limit} characters")
    return clean


def _optional(value: object, field: str, limit: int) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _required(value, field, limit)


def _key(source_key: str | None) -> str | None:
    if source_key is None:
        return None
    if not source_key or len(source_key) > SOURCE_KEY_MAX:
        raise InvalidInputError(f"source_key must have 1 to {SOURCE_KEY_MAX} characters")
    return source_key


def _show(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _not_past(moment: datetime, now: datetime, what: str) -> None:
    if moment.tzinfo is None:
        raise BadTimeError("times need a time zone (e.g. 2026-03-01T09:00:00-03:00)")
    if moment < now - SKEW:
        raise BadTimeError(f"{what} in the past ({_show(moment)}); give a later time")


def _ends_after(starts_at: datetime, ends_at: datetime | None) -> None:
    if ends_at is not None and ends_at <= starts_at:
        raise BadTimeError("a meeting must end after it starts")


def _window(
    column: InstrumentedAttribute[datetime], start: datetime | None, end: datetime | None
) -> list[ColumnElement[bool]]:
    if start is not None and end is not None and start >= end:
        raise InvalidInputError("'from' must be before 'to'")
    return [
        *([column >= start] if start is not None else []),
        *([column < end] if end is not None else []),
    ]


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


# --- cursors: the sort value and id of the last row of a page, opaque to clients -------------


def _page[T: (Person, Interaction, Reminder, Meeting)](
    rows: list[T], limit: int, sort_value: Callable[[T], str | datetime]
) -> Page[T]:
    if len(rows) <= limit:
        return Page(items=rows, next_cursor=None)
    last = rows[limit - 1]
    value = sort_value(last)
    raw = [value.isoformat() if isinstance(value, datetime) else value, last.id]
    cursor = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()
    return Page(items=rows[:limit], next_cursor=cursor)


def _decode(cursor: str) -> tuple[str, str]:
    try:
        value, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidInputError("invalid cursor: pass next_cursor of the previous page") from exc
    if not isinstance(value, str) or not isinstance(row_id, str):
        raise InvalidInputError("invalid cursor: pass next_cursor of the previous page")
    return value, row_id


def _time_cursor(cursor: str) -> tuple[datetime, str]:
    value, row_id = _decode(cursor)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInputError("invalid cursor: pass next_cursor of the previous page") from exc
    if moment.tzinfo is None:
        raise InvalidInputError("invalid cursor: pass next_cursor of the previous page")
    return moment, row_id


def _after[V: (str, datetime)](
    column: InstrumentedAttribute[V],
    position: tuple[V, str],
    id_column: InstrumentedAttribute[str],
    *,
    descending: bool = False,
) -> ColumnElement[bool]:
    """Rows after ``position`` (sort value, id) in the list's order."""
    value, row_id = position
    if descending:
        return or_(column < value, and_(column == value, id_column < row_id))
    return or_(column > value, and_(column == value, id_column > row_id))
