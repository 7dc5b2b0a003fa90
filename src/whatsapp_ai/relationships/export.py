"""A contact's rights over the CRM: a copy of everything kept for them, and its erasure."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.db import Base, as_dict
from whatsapp_ai.core.privacy import ContactRef, Erased
from whatsapp_ai.relationships.models import Interaction, Meeting, Person, Reminder
from whatsapp_ai.relationships.records import count


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
            as_dict(r, *common, "person_id", "text", "due_at", "rrule", "status", "sent_at")
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
    # People last: deleting a person first would take their interactions along uncounted.
    for model in (Interaction, Reminder, Meeting, Person):
        result = await session.execute(
            delete(model).where(
                model.tenant_id == ref.tenant_id, model.contact_id == ref.contact_id
            )
        )
        removed += count(result)
    return Erased(rows=removed)
