"""Personal CRM REST API: each contact's people, interactions, reminders and meetings.

The tenant always comes from the credential; a contact, person, reminder or meeting of
another tenant is answered as not found.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.http import Principal, require, runtime
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Cursor, Limit, Page
from whatsapp_ai.relationships import service
from whatsapp_ai.relationships.errors import NotFoundError
from whatsapp_ai.relationships.schemas import (
    InteractionIn,
    InteractionOut,
    MeetingIn,
    MeetingOut,
    MeetingPatch,
    MeetingStatus,
    PersonIn,
    PersonOut,
    PersonPatch,
    ReminderIn,
    ReminderOut,
    ReminderPatch,
    ReminderStatus,
)

router = APIRouter(prefix="/relationships", tags=["relationships"])
Reader = Annotated[Principal, Depends(require("relationships:read"))]
Writer = Annotated[Principal, Depends(require("relationships:write"))]
ContactFilter = Annotated[
    str | None, Query(max_length=64, description="Only this WhatsApp contact's records.")
]
From = Annotated[AwareDatetime | None, Query(alias="from", description="Inclusive.")]
To = Annotated[AwareDatetime | None, Query(description="Exclusive.")]


async def _contact(session: AsyncSession, caller: Principal, contact_id: str | None) -> None:
    if contact_id is not None:
        await service.ensure_contact(session, tenant_id=caller.tenant_id, contact_id=contact_id)


def _created(response: Response, created: bool) -> None:
    """201 for a new record, 200 when a repeated source_key found the first one."""
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK


# --- people -----------------------------------------------------------------------------------


@router.get("/people", response_model=Page[PersonOut])
async def list_people(
    request: Request,
    caller: Reader,
    contact_id: ContactFilter = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Start of the name or of a word of it."),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[PersonOut]:
    """People by name (accents and case ignored when searching), with cursor paging."""
    async with runtime(request).db.read() as session:
        await _contact(session, caller, contact_id)
        found = await service.list_people(
            session,
            tenant_id=caller.tenant_id,
            contact_id=contact_id,
            query=q,
            cursor=cursor,
            limit=limit,
        )
    return Page[PersonOut].of(found, PersonOut.model_validate)


@router.post("/people", response_model=PersonOut, status_code=status.HTTP_201_CREATED)
async def add_person(
    request: Request, response: Response, caller: Writer, body: PersonIn
) -> PersonOut:
    """Add someone to a contact's people; a name the contact already has (accents and case
    ignored) is a conflict."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        person, created = await service.add_person(
            session,
            tenant_id=caller.tenant_id,
            contact_id=body.contact_id,
            name=body.name,
            phone=body.phone,
            email=body.email,
            notes=body.notes,
            birthday=body.birthday,
            source_key=body.source_key,
            now=rt.clock.now(),
        )
        _created(response, created)
        return PersonOut.model_validate(person)


@router.get("/people/{person_id}", response_model=PersonOut)
async def get_person(request: Request, caller: Reader, person_id: str) -> PersonOut:
    """One person."""
    async with runtime(request).db.read() as session:
        person = await service.get_person(session, tenant_id=caller.tenant_id, person_id=person_id)
        if person is None:
            raise NotFoundError("person not found")
        return PersonOut.model_validate(person)


@router.patch("/people/{person_id}", response_model=PersonOut)
async def update_person(
    request: Request, caller: Writer, person_id: str, body: PersonPatch
) -> PersonOut:
    """Change a person's name or details; null clears a detail."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        person = await service.update_person(
            session,
            tenant_id=caller.tenant_id,
            person_id=person_id,
            changes=body.model_dump(exclude_unset=True),
            now=rt.clock.now(),
        )
        return PersonOut.model_validate(person)


@router.delete("/people/{person_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_person(request: Request, caller: Writer, person_id: str) -> Response:
    """Delete a person and their interactions; reminders and meetings stay, without them."""
    async with runtime(request).db.transaction() as session:
        deleted = await service.delete_person(
            session, tenant_id=caller.tenant_id, person_id=person_id
        )
    if not deleted:
        raise NotFoundError("person not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- interactions -----------------------------------------------------------------------------


@router.get("/interactions", response_model=Page[InteractionOut])
async def list_interactions(
    request: Request,
    caller: Reader,
    contact_id: ContactFilter = None,
    person_id: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[InteractionOut]:
    """Interactions, most recent first, of a contact or with one person."""
    async with runtime(request).db.read() as session:
        await _contact(session, caller, contact_id)
        if person_id is not None:
            person = await service.get_person(
                session, tenant_id=caller.tenant_id, person_id=person_id, contact_id=contact_id
            )
            if person is None:
                raise NotFoundError("person not found")
        found = await service.list_interactions(
            session,
            tenant_id=caller.tenant_id,
            contact_id=contact_id,
            person_id=person_id,
            cursor=cursor,
            limit=limit,
        )
    return Page[InteractionOut].of(found, InteractionOut.model_validate)


@router.post("/interactions", response_model=InteractionOut, status_code=status.HTTP_201_CREATED)
async def add_interaction(
    request: Request, response: Response, caller: Writer, body: InteractionIn
) -> InteractionOut:
    """Record something that happened (now, unless happened_at), maybe with a person."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        interaction, created = await service.add_interaction(
            session,
            tenant_id=caller.tenant_id,
            contact_id=body.contact_id,
            person_id=body.person_id,
            summary=body.summary,
            happened_at=body.happened_at,
            source_key=body.source_key,
            now=rt.clock.now(),
        )
        _created(response, created)
        return InteractionOut.model_validate(interaction)


# --- reminders --------------------------------------------------------------------------------


@router.get("/reminders", response_model=Page[ReminderOut])
async def list_reminders(
    request: Request,
    caller: Reader,
    contact_id: ContactFilter = None,
    status_: Annotated[list[ReminderStatus] | None, Query(alias="status")] = None,
    from_: From = None,
    to: To = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ReminderOut]:
    """Reminders soonest first; filter by contact, status (repeat it) and due time."""
    async with runtime(request).db.read() as session:
        await _contact(session, caller, contact_id)
        found = await service.list_reminders(
            session,
            tenant_id=caller.tenant_id,
            contact_id=contact_id,
            statuses=sorted(set(status_ or ())),
            due_from=from_,
            due_to=to,
            cursor=cursor,
            limit=limit,
        )
    return Page[ReminderOut].of(found, ReminderOut.model_validate)


@router.post("/reminders", response_model=ReminderOut, status_code=status.HTTP_201_CREATED)
async def add_reminder(
    request: Request, response: Response, caller: Writer, body: ReminderIn
) -> ReminderOut:
    """Schedule a reminder; the assistant sends it to the contact when it is due."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        reminder, created = await service.add_reminder(
            session,
            tenant_id=caller.tenant_id,
            contact_id=body.contact_id,
            text=body.text,
            due_at=body.due_at,
            person_id=body.person_id,
            source_key=body.source_key,
            now=rt.clock.now(),
            rrule=body.rrule,
            timezone=body.timezone,
        )
        _created(response, created)
        return ReminderOut.model_validate(reminder)


@router.get("/reminders/{reminder_id}", response_model=ReminderOut)
async def get_reminder(request: Request, caller: Reader, reminder_id: str) -> ReminderOut:
    """One reminder."""
    async with runtime(request).db.read() as session:
        reminder = await service.get_reminder(
            session, tenant_id=caller.tenant_id, reminder_id=reminder_id
        )
        if reminder is None:
            raise NotFoundError("reminder not found")
        return ReminderOut.model_validate(reminder)


@router.patch("/reminders/{reminder_id}", response_model=ReminderOut)
async def update_reminder(
    request: Request, caller: Writer, reminder_id: str, body: ReminderPatch
) -> ReminderOut:
    """Change the text, move the due time (a sent reminder is sent again), or set the status
    to done or cancelled."""
    rt = runtime(request)
    now = rt.clock.now()
    key: dict[str, Any] = {"tenant_id": caller.tenant_id, "reminder_id": reminder_id, "now": now}
    async with rt.db.transaction() as session:
        reminder = None
        if body.text is not None:
            reminder = await service.edit_reminder(session, text=body.text, **key)
        if body.due_at is not None:
            reminder = await service.reschedule_reminder(session, due_at=body.due_at, **key)
        if body.status == "done":
            reminder = await service.complete_reminder(session, **key)
        elif body.status == "cancelled":
            reminder = await service.cancel_reminder(session, **key)
        assert reminder is not None  # the patch changes something
        return ReminderOut.model_validate(reminder)


@router.delete("/reminders/{reminder_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_reminder(request: Request, caller: Writer, reminder_id: str) -> Response:
    """Delete a reminder (it will not be sent)."""
    async with runtime(request).db.transaction() as session:
        deleted = await service.delete_reminder(
            session, tenant_id=caller.tenant_id, reminder_id=reminder_id
        )
    if not deleted:
        raise NotFoundError("reminder not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- meetings ---------------------------------------------------------------------------------


@router.get("/meetings", response_model=Page[MeetingOut])
async def list_meetings(
    request: Request,
    caller: Reader,
    contact_id: ContactFilter = None,
    status_: Annotated[list[MeetingStatus] | None, Query(alias="status")] = None,
    from_: From = None,
    to: To = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[MeetingOut]:
    """Meetings soonest first; filter by contact, status (repeat it) and start time."""
    async with runtime(request).db.read() as session:
        await _contact(session, caller, contact_id)
        found = await service.list_meetings(
            session,
            tenant_id=caller.tenant_id,
            contact_id=contact_id,
            statuses=sorted(set(status_ or ())),
            starts_from=from_,
            starts_to=to,
            cursor=cursor,
            limit=limit,
        )
    return Page[MeetingOut].of(found, MeetingOut.model_validate)


@router.post("/meetings", response_model=MeetingOut, status_code=status.HTTP_201_CREATED)
async def add_meeting(
    request: Request, response: Response, caller: Writer, body: MeetingIn
) -> MeetingOut:
    """Put a meeting in a contact's agenda; it cannot start in the past."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        meeting, created = await service.add_meeting(
            session,
            tenant_id=caller.tenant_id,
            contact_id=body.contact_id,
            title=body.title,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            location=body.location,
            person_id=body.person_id,
            source_key=body.source_key,
            now=rt.clock.now(),
        )
        _created(response, created)
        return MeetingOut.model_validate(meeting)


@router.get("/meetings/{meeting_id}", response_model=MeetingOut)
async def get_meeting(request: Request, caller: Reader, meeting_id: str) -> MeetingOut:
    """One meeting."""
    async with runtime(request).db.read() as session:
        meeting = await service.get_meeting(
            session, tenant_id=caller.tenant_id, meeting_id=meeting_id
        )
        if meeting is None:
            raise NotFoundError("meeting not found")
        return MeetingOut.model_validate(meeting)


@router.patch("/meetings/{meeting_id}", response_model=MeetingOut)
async def update_meeting(
    request: Request, caller: Writer, meeting_id: str, body: MeetingPatch
) -> MeetingOut:
    """Change a scheduled meeting (null clears the end, place or person), or set its status
    to cancelled or done."""
    rt = runtime(request)
    key: dict[str, Any] = {
        "tenant_id": caller.tenant_id,
        "meeting_id": meeting_id,
        "now": rt.clock.now(),
    }
    async with rt.db.transaction() as session:
        if body.status == "cancelled":
            meeting = await service.cancel_meeting(session, **key)
        elif body.status == "done":
            meeting = await service.complete_meeting(session, **key)
        else:
            changes = body.model_dump(exclude_unset=True)
            meeting = await service.update_meeting(session, changes=changes, **key)
        return MeetingOut.model_validate(meeting)


@router.delete("/meetings/{meeting_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_meeting(request: Request, caller: Writer, meeting_id: str) -> Response:
    """Delete a meeting."""
    async with runtime(request).db.transaction() as session:
        deleted = await service.delete_meeting(
            session, tenant_id=caller.tenant_id, meeting_id=meeting_id
        )
    if not deleted:
        raise NotFoundError("meeting not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
