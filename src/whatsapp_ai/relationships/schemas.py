"""Personal CRM API shapes. Times must carry a zone (a naive time is refused)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from whatsapp_ai.core.inputs import FREE_TEXT, Input

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ().-]{2,31}$")
]
Notes = Annotated[str, FREE_TEXT, StringConstraints(strip_whitespace=True, max_length=4000)]
Summary = Annotated[
    str, FREE_TEXT, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)
]
ReminderText = Annotated[
    str, FREE_TEXT, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Location = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
SourceKey = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=120,
        description="Sending again with the same key creates nothing new (answered with 200).",
    ),
]
ReminderStatus = Literal["pending", "sent", "done", "cancelled"]
MeetingStatus = Literal["scheduled", "cancelled", "done"]


class _Patch(Input):
    """A partial change: only the fields sent change; some of them cannot be null."""

    not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _something_valid(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("nothing to change: send at least one field")
        nulls = [name for name in self.not_null if name in self.model_fields_set]
        nulls = [name for name in nulls if getattr(self, name) is None]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self


# --- people -----------------------------------------------------------------------------------


class PersonIn(Input):
    """Someone to add to a contact's people."""

    contact_id: Id = Field(description="The WhatsApp contact whose list this is.")
    name: Name
    phone: Phone | None = None
    email: EmailStr | None = None
    notes: Notes | None = None
    birthday: date | None = None
    source_key: SourceKey = None


class PersonPatch(_Patch):
    """Changes to a person; null clears a detail (not the name)."""

    not_null: ClassVar[tuple[str, ...]] = ("name",)

    name: Name | None = None
    phone: Phone | None = None
    email: EmailStr | None = None
    notes: Notes | None = None
    birthday: date | None = None


class PersonOut(BaseModel):
    """A person as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    contact_id: str
    name: str
    phone: str | None
    email: str | None
    notes: str | None
    birthday: date | None
    source_key: str | None
    created_at: datetime
    updated_at: datetime


# --- interactions -----------------------------------------------------------------------------


class InteractionIn(Input):
    """Something that happened, maybe with one of the contact's people."""

    contact_id: Id
    person_id: Id | None = None
    summary: Summary
    happened_at: AwareDatetime | None = Field(default=None, description="Default: now.")
    source_key: SourceKey = None


class InteractionOut(BaseModel):
    """An interaction as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    contact_id: str
    person_id: str | None
    happened_at: datetime
    summary: str
    source_key: str | None
    created_at: datetime


# --- reminders --------------------------------------------------------------------------------


class ReminderIn(Input):
    """A reminder the assistant sends the contact on WhatsApp when it is due."""

    contact_id: Id
    text: ReminderText
    due_at: AwareDatetime
    person_id: Id | None = None
    source_key: SourceKey = None
    # Repeating: an RFC 5545 rule ("FREQ=WEEKLY;BYDAY=MO") read in ``timezone`` (default UTC).
    rrule: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)


class ReminderPatch(_Patch):
    """Change the text, move the time (a sent reminder is sent again), or close it."""

    not_null: ClassVar[tuple[str, ...]] = ("text", "due_at", "status")

    text: ReminderText | None = None
    due_at: AwareDatetime | None = None
    status: Literal["done", "cancelled"] | None = None

    @model_validator(mode="after")
    def _time_or_status(self) -> Self:
        if self.due_at is not None and self.status is not None:
            raise ValueError("send either a new due_at or a new status, not both")
        return self


class ReminderOut(BaseModel):
    """A reminder as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    contact_id: str
    person_id: str | None
    text: str
    due_at: datetime
    rrule: str | None = None
    status: ReminderStatus
    sent_at: datetime | None
    attempts: int
    source_key: str | None
    created_at: datetime
    updated_at: datetime


# --- meetings ---------------------------------------------------------------------------------


class MeetingIn(Input):
    """A meeting in the contact's agenda; it cannot start in the past."""

    contact_id: Id
    title: Title
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    location: Location | None = None
    person_id: Id | None = None
    source_key: SourceKey = None


class MeetingPatch(_Patch):
    """Change a scheduled meeting, or set its status (alone) to cancelled or done."""

    not_null: ClassVar[tuple[str, ...]] = ("title", "starts_at", "status")

    title: Title | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    location: Location | None = None
    person_id: Id | None = None
    status: Literal["cancelled", "done"] | None = None

    @model_validator(mode="after")
    def _status_alone(self) -> Self:
        if "status" in self.model_fields_set and len(self.model_fields_set) > 1:
            raise ValueError("change the status alone, without other fields")
        return self


class MeetingOut(BaseModel):
    """A meeting as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    contact_id: str
    person_id: str | None
    title: str
    starts_at: datetime
    ends_at: datetime | None
    location: str | None
    status: MeetingStatus
    source_key: str | None
    created_at: datetime
    updated_at: datetime
