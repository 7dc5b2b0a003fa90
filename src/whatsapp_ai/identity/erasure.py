"""Data subject rights on the identity side: the contact's export, erasure and its proof."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.privacy import ContactRef, Erased
from whatsapp_ai.identity.contacts import get_contact
from whatsapp_ai.identity.models import Contact, ErasureRecord

ERASURE_CONFIRM_WINDOW = timedelta(minutes=10)


def erasure_pending(requested_at: datetime | None, *, now: datetime) -> bool:
    """Whether a chat request to erase is waiting for its confirmation."""
    return requested_at is not None and now - requested_at < ERASURE_CONFIRM_WINDOW


async def set_erasure_request(
    session: AsyncSession, *, tenant_id: str, contact_id: str, at: datetime | None
) -> None:
    """Remember (or, with None, forget) that the contact asked in chat to be erased."""
    await session.execute(
        update(Contact)
        .where(Contact.tenant_id == tenant_id, Contact.id == contact_id)
        .values(erasure_requested_at=at)
    )


def contact_ref(contact: Contact) -> ContactRef:
    """The reference other modules use to find what they hold about this contact."""
    return ContactRef(tenant_id=contact.tenant_id, contact_id=contact.id, address=contact.address)


async def export_contact(session: AsyncSession, ref: ContactRef) -> dict[str, Any]:
    """The contact's profile."""
    contact = await get_contact(session, tenant_id=ref.tenant_id, contact_id=ref.contact_id)
    if contact is None:
        return {}
    return {
        name: getattr(contact, name)
        for name in (
            "id",
            "address",
            "profile_name",
            "display_name",
            "language",
            "timezone",
            "preferences",
            "created_at",
            "updated_at",
        )
    }


async def erase_contact(session: AsyncSession, ref: ContactRef) -> Erased:
    """Delete the contact itself (registered last: other rows point at it)."""
    result = await session.execute(
        delete(Contact).where(Contact.tenant_id == ref.tenant_id, Contact.id == ref.contact_id)
    )
    return Erased(rows=int(result.rowcount))  # type: ignore[attr-defined]


async def record_erasure(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    requested_by: str,
    removed: dict[str, int],
    now: datetime,
) -> ErasureRecord:
    """Keep proof of the erasure (ids and counts only)."""
    record = ErasureRecord(
        id=new_id(),
        tenant_id=tenant_id,
        contact_id=contact_id,
        requested_by=requested_by,
        removed=removed,
        erased_at=now,
    )
    session.add(record)
    await session.flush()
    return record
