"""A contact's reminders, from creation to delivery: the scheduler finds the due ones across
tenants, claims each in its tenant's scope and marks it sent in the same transaction."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Slice, by, paginate
from whatsapp_ai.relationships.errors import InvalidChangeError
from whatsapp_ai.relationships.models import Reminder
from whatsapp_ai.relationships.records import (
    add_once,
    checked_key,
    count,
    lock,
    not_past,
    required,
    set_status,
    window,
)
from whatsapp_ai.relationships.recurrence import checked_rule, next_occurrence

TEXT_MAX = 1000


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
    rrule: str | None = None,
    timezone: str | None = None,
) -> tuple[Reminder, bool]:
    """Schedule a reminder for the contact, repeating by ``rrule`` (RFC 5545, read in
    ``timezone``) when given; (reminder, created)."""
    not_past(due_at, now, "the reminder would be due", field="due_at")
    values = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "person_id": person_id,
        "text": required(text, "text", TEXT_MAX),
        "due_at": due_at,
        "rrule": checked_rule(rrule),
        "timezone": timezone,
        "status": "pending",
        "sent_at": None,
        "attempts": 0,
        "source_key": checked_key(source_key),
        "created_at": now,
        "updated_at": now,
    }
    return await add_once(session, Reminder, values)


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
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Slice[Reminder]:
    """The tenant's reminders (of one contact, in these states, due in [from, to)), soonest
    first."""
    stmt = select(Reminder).where(Reminder.tenant_id == tenant_id)
    if contact_id is not None:
        stmt = stmt.where(Reminder.contact_id == contact_id)
    if statuses:
        stmt = stmt.where(Reminder.status.in_(statuses))
    stmt = stmt.where(*window(Reminder.due_at, due_from, due_to))
    return await paginate(
        session, stmt, order=by(Reminder.due_at, Reminder.id), cursor=cursor, limit=limit
    )


async def edit_reminder(
    session: AsyncSession, *, tenant_id: str, reminder_id: str, text: str, now: datetime
) -> Reminder:
    """Change what the reminder says."""
    reminder = await lock(session, Reminder, tenant_id, reminder_id, "reminder")
    reminder.text = required(text, "text", TEXT_MAX)
    reminder.updated_at = now
    await session.flush()
    return reminder


async def reschedule_reminder(
    session: AsyncSession, *, tenant_id: str, reminder_id: str, due_at: datetime, now: datetime
) -> Reminder:
    """Move a pending reminder, or send a sent one again, at ``due_at``. A weekly reminder
    of one weekday moved to another day repeats on that day from then on."""
    not_past(due_at, now, "the reminder would be due", field="due_at")
    reminder = await lock(session, Reminder, tenant_id, reminder_id, "reminder")
    if reminder.status not in ("pending", "sent"):
        raise InvalidChangeError(f"the reminder is {reminder.status}; add a new one instead")
    if reminder.rrule:
        local = due_at.astimezone(ZoneInfo(reminder.timezone or "UTC"))
        reminder.rrule = _on_weekday(reminder.rrule, local.weekday())
    reminder.due_at = due_at
    reminder.status = "pending"
    reminder.sent_at = None
    reminder.attempts = 0
    reminder.updated_at = now
    await session.flush()
    return reminder


_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_ONE_WEEKDAY = re.compile(r"(?<=BYDAY=)(?:MO|TU|WE|TH|FR|SA|SU)(?=;|$)")


def _on_weekday(rule: str, weekday: int) -> str:
    """A weekly rule of one weekday, on ``weekday`` instead (other rules as they are)."""
    if "FREQ=WEEKLY" not in rule.upper():
        return rule
    return _ONE_WEEKDAY.sub(_WEEKDAY_CODES[weekday], rule, count=1)


async def complete_reminder(
    session: AsyncSession, *, tenant_id: str, reminder_id: str, now: datetime
) -> Reminder:
    """Mark a reminder done (done already: unchanged)."""
    return await set_status(
        session, Reminder, tenant_id, reminder_id, "done", now, allowed=("pending", "sent")
    )


async def cancel_reminder(
    session: AsyncSession, *, tenant_id: str, reminder_id: str, now: datetime
) -> Reminder:
    """Cancel a reminder that is not done (cancelled already: unchanged)."""
    return await set_status(
        session, Reminder, tenant_id, reminder_id, "cancelled", now, allowed=("pending", "sent")
    )


async def delete_reminder(session: AsyncSession, *, tenant_id: str, reminder_id: str) -> bool:
    """Delete a reminder."""
    result = await session.execute(
        delete(Reminder).where(Reminder.tenant_id == tenant_id, Reminder.id == reminder_id)
    )
    return count(result) > 0


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
    """Record that a claimed reminder went out to the contact; a recurring one stays pending
    at its next occurrence after ``now`` (sent when the rule has ended)."""
    reminder.sent_at = now
    reminder.updated_at = now
    following = (
        next_occurrence(
            reminder.rrule,
            anchor=reminder.due_at,
            after=max(now, reminder.due_at),
            timezone=reminder.timezone,
        )
        if reminder.rrule
        else None
    )
    if following is None:
        reminder.status = "sent"
    else:
        reminder.due_at = following
        reminder.attempts = 0
    await session.flush()
