"""What happened with a contact's people (a call, a lunch), as the contact tells it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Slice, by, paginate
from whatsapp_ai.relationships.errors import BadTimeError
from whatsapp_ai.relationships.models import Interaction
from whatsapp_ai.relationships.records import (
    SKEW,
    add_once,
    checked_key,
    count,
    required,
    show,
)

SUMMARY_MAX = 4000


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
        raise BadTimeError(
            f"an interaction cannot happen in the future ({show(when)})", field="happened_at"
        )
    values = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "person_id": person_id,
        "happened_at": when,
        "summary": required(summary, "summary", SUMMARY_MAX),
        "source_key": checked_key(source_key),
        "created_at": now,
    }
    return await add_once(session, Interaction, values)


async def list_interactions(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str | None = None,
    person_id: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Slice[Interaction]:
    """The tenant's interactions (of one contact, with one person), most recent first."""
    stmt = select(Interaction).where(Interaction.tenant_id == tenant_id)
    if contact_id is not None:
        stmt = stmt.where(Interaction.contact_id == contact_id)
    if person_id is not None:
        stmt = stmt.where(Interaction.person_id == person_id)
    order = by(Interaction.happened_at, Interaction.id, descending=True)
    return await paginate(session, stmt, order=order, cursor=cursor, limit=limit)


async def latest_interaction(
    session: AsyncSession, *, tenant_id: str, contact_id: str, person_id: str
) -> Interaction | None:
    """What the contact noted last about a person (by when it was noted)."""
    return await session.scalar(
        select(Interaction)
        .where(
            Interaction.tenant_id == tenant_id,
            Interaction.contact_id == contact_id,
            Interaction.person_id == person_id,
        )
        .order_by(Interaction.created_at.desc(), Interaction.id.desc())
        .limit(1)
    )


async def revise_interaction(
    session: AsyncSession, *, interaction: Interaction, summary: str
) -> Interaction:
    """Put a corrected summary in place of what was noted."""
    interaction.summary = required(summary, "summary", SUMMARY_MAX)
    await session.flush()
    return interaction


async def delete_interaction(session: AsyncSession, *, tenant_id: str, interaction_id: str) -> bool:
    """Forget something that was noted."""
    result = await session.execute(
        delete(Interaction).where(
            Interaction.tenant_id == tenant_id, Interaction.id == interaction_id
        )
    )
    return count(result) > 0
