"""Personal CRM tables: a contact's people, interactions, reminders and meetings.

Every row belongs to the WhatsApp contact who keeps it (``contact_id``), inside one tenant.
``source_key`` makes a write idempotent: an assistant turn retried after a crash passes the
same key and finds the row it created the first time.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_ai.core.db import Base, IdType, TenantScoped, UTCDateTime

REMINDER_STATUSES = ("pending", "sent", "done", "cancelled")
MEETING_STATUSES = ("scheduled", "cancelled", "done")


def _one_of(values: tuple[str, ...]) -> str:
    return "status IN ({})".format(", ".join(f"'{value}'" for value in values))


class Person(TenantScoped, Base):
    """Someone in a contact's life: a name to remember things by, and how to reach them."""

    __tablename__ = "crm_people"
    __table_args__ = (
        # One person per folded name in a contact's list ("João" and "joao" are the same).
        UniqueConstraint("tenant_id", "contact_id", "name_key"),
        UniqueConstraint("tenant_id", "source_key"),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    # The name folded for matching: lower case, no accents, single spaces.
    name_key: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    birthday: Mapped[date | None] = mapped_column(Date, nullable=True)
    source_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Interaction(TenantScoped, Base):
    """Something that happened with a person (a call, a lunch), as the contact tells it."""

    __tablename__ = "crm_interactions"
    __table_args__ = (
        Index("ix_crm_interactions_contact", "tenant_id", "contact_id", "happened_at"),
        Index("ix_crm_interactions_person", "person_id", "happened_at"),
        UniqueConstraint("tenant_id", "source_key"),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    person_id: Mapped[str | None] = mapped_column(
        ForeignKey("crm_people.id", ondelete="CASCADE"), nullable=True
    )
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text)
    source_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reminder(TenantScoped, Base):
    """A message the assistant sends the contact at ``due_at`` (UTC)."""

    __tablename__ = "crm_reminders"
    __table_args__ = (
        Index("ix_crm_reminders_contact", "tenant_id", "contact_id", "due_at"),
        # The scheduler's sweep of due reminders, across tenants.
        Index("ix_crm_reminders_due", "status", "due_at"),
        Index("ix_crm_reminders_person", "person_id"),
        UniqueConstraint("tenant_id", "source_key"),
        CheckConstraint(_one_of(REMINDER_STATUSES), name="status"),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    # A reminder about someone outlives them: it keeps its text when the person is deleted.
    person_id: Mapped[str | None] = mapped_column(
        ForeignKey("crm_people.id", ondelete="SET NULL"), nullable=True
    )
    text: Mapped[str] = mapped_column(String(1000))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A recurring reminder's RFC 5545 rule ("FREQ=WEEKLY;BYDAY=MO"), read in ``timezone``:
    # after each delivery ``due_at`` moves to the next occurrence.
    rrule: Mapped[str | None] = mapped_column(String(200), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Deliveries claimed so far (a claim that was never marked sent is retried).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    source_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Meeting(TenantScoped, Base):
    """An appointment in the contact's agenda, maybe with one of their people."""

    __tablename__ = "crm_meetings"
    __table_args__ = (
        Index("ix_crm_meetings_contact", "tenant_id", "contact_id", "starts_at"),
        Index("ix_crm_meetings_person", "person_id"),
        UniqueConstraint("tenant_id", "source_key"),
        CheckConstraint(_one_of(MEETING_STATUSES), name="status"),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    person_id: Mapped[str | None] = mapped_column(
        ForeignKey("crm_people.id", ondelete="SET NULL"), nullable=True
    )
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    location: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    source_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
