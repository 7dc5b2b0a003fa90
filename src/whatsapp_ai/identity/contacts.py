"""Contacts: the people who write to a tenant on WhatsApp, and what the assistant knows of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.db import insert_ignore
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.paging import Slice, by, paginate
from whatsapp_ai.identity.locale import locale_for
from whatsapp_ai.identity.models import Contact


async def get_or_create_contact(
    session: AsyncSession,
    *,
    tenant_id: str,
    address: str,
    profile_name: str | None,
    now: datetime,
) -> Contact:
    """The tenant's contact for ``address``, created on first contact (time zone, currency and
    the language to assume from the number's country); profile name kept fresh."""
    contact = await session.scalar(
        select(Contact).where(Contact.tenant_id == tenant_id, Contact.address == address)
    )
    if contact is not None:
        if profile_name and contact.profile_name != profile_name:
            contact.profile_name = profile_name
            contact.updated_at = now
        return contact
    found = locale_for(address)
    await insert_ignore(
        session,
        Contact,
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "address": address,
            "profile_name": profile_name,
            "timezone": found.timezone,
            # The language is only assumed: the one the contact writes in still wins.
            "preferences": {"currency": found.currency, "language": found.language}
            | ({"country": found.region} if found.region else {}),
            "created_at": now,
            "updated_at": now,
        },
        conflict=["tenant_id", "address"],
    )
    contact = await session.scalar(
        select(Contact).where(Contact.tenant_id == tenant_id, Contact.address == address)
    )
    assert contact is not None
    if profile_name and contact.profile_name != profile_name:
        contact.profile_name = profile_name
        contact.updated_at = now
    return contact


async def get_contact(session: AsyncSession, *, tenant_id: str, contact_id: str) -> Contact | None:
    """A contact of the tenant by id."""
    return await session.scalar(
        select(Contact).where(Contact.tenant_id == tenant_id, Contact.id == contact_id)
    )


async def list_contacts(
    session: AsyncSession, *, tenant_id: str, cursor: str | None, limit: int
) -> Slice[Contact]:
    """A page of the tenant's contacts, oldest first."""
    query = select(Contact)
    return await paginate(
        session,
        query.where(Contact.tenant_id == tenant_id),
        order=by(Contact.id),
        cursor=cursor,
        limit=limit,
    )


async def update_contact(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    changes: dict[str, Any],
    now: datetime,
) -> Contact | None:
    """Change a contact's name, language, timezone or preferences."""
    contact = await get_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    if contact is None:
        return None
    for field_name in ("display_name", "language", "timezone", "preferences"):
        if field_name in changes:
            value = changes[field_name]
            # null preferences mean "none": the stored value is always an object.
            setattr(
                contact, field_name, {} if field_name == "preferences" and value is None else value
            )
    contact.updated_at = now
    await session.flush()
    return contact


@dataclass(frozen=True)
class ContactContext:
    """What the assistant may know of the person it talks to."""

    name: str | None
    language: str | None
    timezone: str | None
    preferences: dict[str, Any]


def contact_context(contact: Contact) -> ContactContext:
    """The contact's context for the assistant: the name they chose over their profile's."""
    return ContactContext(
        name=contact.display_name or contact.profile_name,
        language=contact.language,
        timezone=contact.timezone,
        preferences=dict(contact.preferences or {}),
    )
