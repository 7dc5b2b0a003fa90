"""A contact's people: found again by their folded name ("João" is "joao"), one per name."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.db import insert_ignore
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Slice, by, paginate
from whatsapp_ai.core.text import fold_key
from whatsapp_ai.relationships.errors import DuplicateError, InvalidInputError
from whatsapp_ai.relationships.models import Person
from whatsapp_ai.relationships.records import (
    by_source_key,
    checked_key,
    count,
    ensure_contact,
    lock,
    optional,
    required,
)

NAME_MAX = 200
NOTES_MAX = 4000
PHONE_MAX = 32
EMAIL_MAX = 254
PERSON_FIELDS = frozenset({"name", "phone", "email", "notes", "birthday"})


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
    key = fold_key(query)
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
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Slice[Person]:
    """The tenant's people (of one contact, matching ``query`` by name prefix), by name."""
    stmt = select(Person).where(Person.tenant_id == tenant_id)
    if contact_id is not None:
        stmt = stmt.where(Person.contact_id == contact_id)
    if query is not None:
        key = fold_key(query)
        if not key:
            raise InvalidInputError("the search needs a letter or a digit", field="q")
        stmt = stmt.where(_matches(key))
    return await paginate(
        session, stmt, order=by(Person.name_key, Person.id), cursor=cursor, limit=limit
    )


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
    clean = required(name, "name", NAME_MAX)
    key = _name_key(clean)
    await ensure_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    values = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "name": clean,
        "name_key": key,
        "phone": optional(phone, "phone", PHONE_MAX),
        "email": optional(email, "email", EMAIL_MAX),
        "notes": optional(notes, "notes", NOTES_MAX),
        "birthday": birthday,
        "source_key": checked_key(source_key),
        "created_at": now,
        "updated_at": now,
    }
    created = await insert_ignore(session, Person, values)
    if created is not None:
        return created, True
    if source_key is not None:
        replayed = await by_source_key(session, Person, tenant_id, contact_id, source_key)
        if replayed is not None:
            return replayed, False
    found = await session.scalar(
        select(Person).where(
            Person.tenant_id == tenant_id,
            Person.contact_id == contact_id,
            Person.name_key == key,
        )
    )
    assert found is not None  # the insert conflicted with it
    return found, False


async def add_person(
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
    """Add someone to a contact's people; (person, created). A name the contact already has
    is a DuplicateError, unless this ``source_key`` created it (a retried request)."""
    person, created = await find_or_create_person(
        session,
        tenant_id=tenant_id,
        contact_id=contact_id,
        name=name,
        phone=phone,
        email=email,
        notes=notes,
        birthday=birthday,
        source_key=source_key,
        now=now,
    )
    replayed = source_key is not None and person.source_key == source_key
    if not created and not replayed:
        raise DuplicateError(
            f"the contact already has a person named {person.name!r} (id {person.id})"
        )
    return person, created


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
    unknown = sorted(set(changes) - PERSON_FIELDS)
    if unknown:
        raise InvalidInputError(f"a person has no {', '.join(unknown)}", field=unknown[0])
    person = await lock(session, Person, tenant_id, person_id, "person")
    if "name" in changes:
        clean = required(changes["name"], "name", NAME_MAX)
        key = _name_key(clean)
        if key != person.name_key:
            await _no_namesake(session, person, key)
        person.name = clean
        person.name_key = key
    for name, limit in (("phone", PHONE_MAX), ("email", EMAIL_MAX), ("notes", NOTES_MAX)):
        if name in changes:
            setattr(person, name, optional(changes[name], name, limit))
    if "birthday" in changes:
        person.birthday = changes["birthday"]
    person.updated_at = now
    try:
        await session.flush()
    except IntegrityError as exc:  # a namesake created meanwhile
        raise DuplicateError(f"the contact already has a person named {person.name!r}") from exc
    return person


async def delete_person(session: AsyncSession, *, tenant_id: str, person_id: str) -> bool:
    """Delete a person and their interactions (reminders and meetings stay, without them)."""
    result = await session.execute(
        delete(Person).where(Person.tenant_id == tenant_id, Person.id == person_id)
    )
    return count(result) > 0


def _name_key(name: str) -> str:
    """The folded name a person is matched by, as the column keeps it."""
    key = fold_key(name)
    if not key:
        raise InvalidInputError("a person's name needs a letter or a digit", field="name")
    return key[:NAME_MAX]


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
