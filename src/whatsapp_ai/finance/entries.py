"""A contact's entries: record them once, correct or remove them, list them in the order
recorded."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.db import insert_ignore
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.money import DEFAULT_CURRENCY
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Slice, by, paginate
from whatsapp_ai.core.vocabulary import Category, Kind, PaymentMethod
from whatsapp_ai.finance.errors import InvalidEntryError, UnknownContactError
from whatsapp_ai.finance.models import FinanceEntry
from whatsapp_ai.finance.periods import local_day
from whatsapp_ai.finance.values import (
    EDITABLE,
    REQUIRED,
    SOURCE_KEY_MAX,
    choice,
    currency_code,
    description_text,
    money,
    note_text,
    utc_moment,
)
from whatsapp_ai.identity import service as identity


async def is_contact(session: AsyncSession, *, tenant_id: str, contact_id: str) -> bool:
    """Whether the contact is one of the tenant's."""
    found = await identity.get_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    return found is not None


async def _timezone(session: AsyncSession, *, tenant_id: str, contact_id: str) -> str | None:
    contact = await identity.get_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    if contact is None:
        raise UnknownContactError(contact_id)
    return contact.timezone


async def record(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    kind: Kind | str,
    amount: Decimal | int | str,
    now: datetime,
    category: Category | str = Category.OTHER,
    currency: str = DEFAULT_CURRENCY,
    occurred_at: datetime | None = None,
    payment_method: PaymentMethod | str | None = None,
    note: str | None = None,
    description: str | None = None,
    source_key: str | None = None,
) -> tuple[FinanceEntry, bool]:
    """Store an entry once; (entry, created). The same ``source_key`` again (a retried
    assistant turn passes f"{inbound_message_id}:{n}") returns the stored entry unchanged."""
    when = utc_moment(occurred_at or now)
    values: dict[str, Any] = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "kind": choice(Kind, "kind", kind).value,
        "amount": money(amount),
        "currency": currency_code(currency),
        "category": choice(Category, "category", category).value,
        "occurred_at": when,
        "payment_method": None
        if payment_method is None
        else choice(PaymentMethod, "payment_method", payment_method).value,
        "note": note_text(note),
        "description": description_text(description),
        "source_key": source_key,
        "created_at": now,
        "updated_at": now,
    }
    if source_key is not None:
        if not 0 < len(source_key) <= SOURCE_KEY_MAX:
            raise InvalidEntryError(f"1 to {SOURCE_KEY_MAX} characters", field="source_key")
        found = await _by_source_key(session, tenant_id=tenant_id, source_key=source_key)
        if found is not None:
            return found, False
    timezone = await _timezone(session, tenant_id=tenant_id, contact_id=contact_id)
    values["occurred_on"] = local_day(when, timezone)
    if source_key is None:
        session.add(entry := FinanceEntry(**values))
        await session.flush()
        return entry, True
    # A concurrent retry may have stored it between the lookup and here.
    created = await insert_ignore(
        session, FinanceEntry, values, conflict=["tenant_id", "source_key"]
    )
    stored = await _by_source_key(session, tenant_id=tenant_id, source_key=source_key)
    assert stored is not None
    return stored, created is not None


async def _by_source_key(
    session: AsyncSession, *, tenant_id: str, source_key: str
) -> FinanceEntry | None:
    return await session.scalar(
        select(FinanceEntry).where(
            FinanceEntry.tenant_id == tenant_id, FinanceEntry.source_key == source_key
        )
    )


async def get(session: AsyncSession, *, tenant_id: str, entry_id: str) -> FinanceEntry | None:
    """An entry of the tenant by id."""
    return await session.scalar(
        select(FinanceEntry).where(FinanceEntry.tenant_id == tenant_id, FinanceEntry.id == entry_id)
    )


async def last_entry(
    session: AsyncSession, *, tenant_id: str, contact_id: str, kind: Kind | None = None
) -> FinanceEntry | None:
    """The contact's most recently recorded entry (of ``kind``), whatever day it is for."""
    query = select(FinanceEntry).where(
        FinanceEntry.tenant_id == tenant_id, FinanceEntry.contact_id == contact_id
    )
    if kind is not None:
        query = query.where(FinanceEntry.kind == kind.value)
    return await session.scalar(query.order_by(FinanceEntry.id.desc()).limit(1))


async def update(
    session: AsyncSession,
    *,
    tenant_id: str,
    entry_id: str,
    changes: Mapping[str, Any],
    now: datetime,
) -> FinanceEntry | None:
    """Change some of an entry's values (see ``EDITABLE``); None when not the tenant's."""
    entry = await get(session, tenant_id=tenant_id, entry_id=entry_id)
    if entry is None:
        return None
    return await _apply(session, entry, changes, now=now)


async def edit_last(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    changes: Mapping[str, Any],
    now: datetime,
    kind: Kind | None = None,
) -> FinanceEntry | None:
    """Correct the contact's last entry ("actually it was 45"); None when there is none."""
    entry = await last_entry(session, tenant_id=tenant_id, contact_id=contact_id, kind=kind)
    if entry is None:
        return None
    return await _apply(session, entry, changes, now=now)


async def delete(session: AsyncSession, *, tenant_id: str, entry_id: str) -> FinanceEntry | None:
    """Remove an entry; the removed entry, or None when not the tenant's."""
    entry = await get(session, tenant_id=tenant_id, entry_id=entry_id)
    if entry is not None:
        await session.delete(entry)
        await session.flush()
    return entry


async def delete_last(
    session: AsyncSession, *, tenant_id: str, contact_id: str, kind: Kind | None = None
) -> FinanceEntry | None:
    """Remove the contact's last entry ("delete that"); what was removed, or None."""
    entry = await last_entry(session, tenant_id=tenant_id, contact_id=contact_id, kind=kind)
    if entry is not None:
        await session.delete(entry)
        await session.flush()
    return entry


async def _apply(
    session: AsyncSession, entry: FinanceEntry, changes: Mapping[str, Any], *, now: datetime
) -> FinanceEntry:
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise InvalidEntryError("cannot be changed", field=unknown[0])
    for name in sorted(REQUIRED & set(changes)):
        if changes[name] is None:
            raise InvalidEntryError("cannot be empty", field=name)
    if "kind" in changes:
        entry.kind = choice(Kind, "kind", changes["kind"]).value
    if "amount" in changes:
        entry.amount = money(changes["amount"])
    if "currency" in changes:
        entry.currency = currency_code(changes["currency"])
    if "category" in changes:
        entry.category = choice(Category, "category", changes["category"]).value
    if "payment_method" in changes:
        method = changes["payment_method"]
        entry.payment_method = (
            None if method is None else choice(PaymentMethod, "payment_method", method).value
        )
    if "note" in changes:
        entry.note = note_text(changes["note"])
    if "description" in changes:
        entry.description = description_text(changes["description"])
    if "occurred_at" in changes:
        when = utc_moment(changes["occurred_at"])
        timezone = await _timezone(session, tenant_id=entry.tenant_id, contact_id=entry.contact_id)
        entry.occurred_at = when
        entry.occurred_on = local_day(when, timezone)
    entry.updated_at = now
    await session.flush()
    return entry


async def list_entries(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str | None = None,
    kind: Kind | None = None,
    category: Category | None = None,
    start: date | None = None,
    end: date | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Slice[FinanceEntry]:
    """The tenant's entries in the order recorded, filtered by contact, kind, category and
    local dates (``start`` and ``end`` included)."""
    query = select(FinanceEntry).where(FinanceEntry.tenant_id == tenant_id)
    if contact_id is not None:
        query = query.where(FinanceEntry.contact_id == contact_id)
    if kind is not None:
        query = query.where(FinanceEntry.kind == kind.value)
    if category is not None:
        query = query.where(FinanceEntry.category == category.value)
    if start is not None:
        query = query.where(FinanceEntry.occurred_on >= start)
    if end is not None:
        query = query.where(FinanceEntry.occurred_on <= end)
    # Ids are made in time order: by id is the order recorded.
    return await paginate(session, query, order=by(FinanceEntry.id), cursor=cursor, limit=limit)
