"""Leads: contacts who asked about the catalog, kept once each with what they asked first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.db import insert_ignore
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Slice, by, paginate
from whatsapp_ai.sales.errors import InvalidInputError
from whatsapp_ai.sales.models import Lead
from whatsapp_ai.sales.values import INTEREST_MAX, require_contact, source_key_of


async def get_lead(session: AsyncSession, *, tenant_id: str, contact_id: str) -> Lead | None:
    """The contact's lead, if they ever asked about the catalog."""
    return await session.scalar(
        select(Lead).where(Lead.tenant_id == tenant_id, Lead.contact_id == contact_id)
    )


async def capture_lead(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    interest: str,
    now: datetime,
    source_key: str | None = None,
) -> tuple[Lead, bool]:
    """Keep the contact as a lead the first time they ask about products; (lead, created).
    Later questions, and a retried turn, leave the first lead as it is."""
    source_key_of(source_key)
    found = await get_lead(session, tenant_id=tenant_id, contact_id=contact_id)
    if found is not None:
        return found, False
    contact = await require_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    said = " ".join(interest.split())[:INTEREST_MAX]
    if not said:
        raise InvalidInputError("cannot be empty", field="interest")
    values = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "name": contact.display_name or contact.profile_name,
        "interest": said,
        "source_key": source_key,
        "created_at": now,
    }
    # Any unique index: the contact's lead made meanwhile, or the key already used.
    created = await insert_ignore(session, Lead, values)
    if created is not None:
        return created, True
    lead = await get_lead(session, tenant_id=tenant_id, contact_id=contact_id)
    if lead is None:  # the key was used by another contact's lead: a caller's mistake
        raise InvalidInputError("already used", field="source_key")
    return lead, False


async def list_leads(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Slice[Lead]:
    """A page of the tenant's leads in the order captured."""
    query = select(Lead).where(Lead.tenant_id == tenant_id)
    if contact_id is not None:
        query = query.where(Lead.contact_id == contact_id)
    return await paginate(
        session, query, order=by(Lead.created_at, Lead.id), cursor=cursor, limit=limit
    )
