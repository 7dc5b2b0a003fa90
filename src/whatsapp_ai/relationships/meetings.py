"""A contact's meetings, and what is ahead: pending reminders and scheduled meetings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Slice, by, paginate
from whatsapp_ai.relationships.errors import InvalidChangeError, InvalidInputError
from whatsapp_ai.relationships.models import Meeting, Reminder
from whatsapp_ai.relationships.records import (
    add_once,
    checked_key,
    count,
    ends_after,
    lock,
    not_past,
    optional,
    person_of,
    required,
    set_status,
    window,
)

TITLE_MAX = 200
LOCATION_MAX = 300
MEETING_FIELDS = frozenset({"title", "starts_at", "ends_at", "location", "person_id"})


@dataclass(frozen=True)
class Upcoming:
    """What is ahead for a contact: pending reminders and scheduled meetings, soonest first."""

    reminders: list[Reminder]
    meetings: list[Meeting]


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
    not_past(starts_at, now, "the meeting would start", field="starts_at")
    ends_after(starts_at, ends_at)
    values = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "person_id": person_id,
        "title": required(title, "title", TITLE_MAX),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "location": optional(location, "location", LOCATION_MAX),
        "status": "scheduled",
        "source_key": checked_key(source_key),
        "created_at": now,
        "updated_at": now,
    }
    return await add_once(session, Meeting, values)


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
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Slice[Meeting]:
    """The tenant's meetings (of one contact, in these states, starting in [from, to)),
    soonest first."""
    stmt = select(Meeting).where(Meeting.tenant_id == tenant_id)
    if contact_id is not None:
        stmt = stmt.where(Meeting.contact_id == contact_id)
    if statuses:
        stmt = stmt.where(Meeting.status.in_(statuses))
    stmt = stmt.where(*window(Meeting.starts_at, starts_from, starts_to))
    return await paginate(
        session, stmt, order=by(Meeting.starts_at, Meeting.id), cursor=cursor, limit=limit
    )


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
    unknown = sorted(set(changes) - MEETING_FIELDS)
    if unknown:
        raise InvalidInputError(f"a meeting has no {', '.join(unknown)}", field=unknown[0])
    meeting = await lock(session, Meeting, tenant_id, meeting_id, "meeting")
    if meeting.status != "scheduled":
        raise InvalidChangeError(f"the meeting is {meeting.status}; schedule a new one instead")
    if "title" in changes:
        meeting.title = required(changes["title"], "title", TITLE_MAX)
    if "starts_at" in changes:
        if changes["starts_at"] is None:
            raise InvalidInputError("a meeting needs a start time", field="starts_at")
        not_past(changes["starts_at"], now, "the meeting would start", field="starts_at")
        meeting.starts_at = changes["starts_at"]
    if "ends_at" in changes:
        meeting.ends_at = changes["ends_at"]
    ends_after(meeting.starts_at, meeting.ends_at)
    if "location" in changes:
        meeting.location = optional(changes["location"], "location", LOCATION_MAX)
    if "person_id" in changes:
        if changes["person_id"] is not None:
            await person_of(session, tenant_id, meeting.contact_id, changes["person_id"])
        meeting.person_id = changes["person_id"]
    meeting.updated_at = now
    await session.flush()
    return meeting


async def cancel_meeting(
    session: AsyncSession, *, tenant_id: str, meeting_id: str, now: datetime
) -> Meeting:
    """Cancel a scheduled meeting (cancelled already: unchanged)."""
    return await set_status(
        session, Meeting, tenant_id, meeting_id, "cancelled", now, allowed=("scheduled",)
    )


async def complete_meeting(
    session: AsyncSession, *, tenant_id: str, meeting_id: str, now: datetime
) -> Meeting:
    """Mark a scheduled meeting done (done already: unchanged)."""
    return await set_status(
        session, Meeting, tenant_id, meeting_id, "done", now, allowed=("scheduled",)
    )


async def delete_meeting(session: AsyncSession, *, tenant_id: str, meeting_id: str) -> bool:
    """Delete a meeting."""
    result = await session.execute(
        delete(Meeting).where(Meeting.tenant_id == tenant_id, Meeting.id == meeting_id)
    )
    return count(result) > 0


async def upcoming(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    now: datetime,
    days: int | None = 7,
    limit: int = 50,
) -> Upcoming:
    """The contact's pending reminders and scheduled meetings of the next ``days`` days (all
    ahead when ``days`` is None)."""
    until = now + timedelta(days=days if days is not None else 36500)
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
