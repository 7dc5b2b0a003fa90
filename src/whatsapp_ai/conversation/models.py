"""Conversation tables: conversations and their messages, the audit of every state change,
each tenant's conversation policy, and the operators' availability."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_ai.core.db import Base, IdType, JSONType, TenantScoped, UTCDateTime


class Conversation(TenantScoped, Base):
    """A thread between a contact and the tenant on one channel, and where it stands."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_contact_status", "tenant_id", "contact_id", "status"),
        Index("ix_conversations_assignee", "tenant_id", "assignee_id", "status"),
        Index("ix_conversations_due", "due_at"),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="active")
    version: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The conversation this one continues (the contact wrote again after it ended).
    previous_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True
    )
    assignee_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The exact address the contact wrote from; replies go back to it.
    reply_address: Mapped[str | None] = mapped_column(String(80), nullable=True)
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_user_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_operator_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    handoff_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    handoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    close_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Replies in a row the assistant could not give (a person is called after a few).
    unresolved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The next timed transition: what (idle, expire, wait, operator) and when.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    due_action: Mapped[str | None] = mapped_column(String(16), nullable=True)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it by name


class Message(TenantScoped, Base):
    """A message in a conversation: from the contact, the assistant or an operator."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation", "conversation_id", "id"),
        Index("ux_messages_client_key", "conversation_id", "client_key", unique=True),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(16))
    # The operator (a user) who wrote it, for operator messages.
    author_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    body: Mapped[str] = mapped_column(Text)
    # One stored message per inbound event, and one reply per user message (invariant 2).
    source_event_id: Mapped[str | None] = mapped_column(IdType, unique=True, nullable=True)
    reply_to_id: Mapped[str | None] = mapped_column(IdType, unique=True, nullable=True)
    # Once per key in a conversation: an operator's retried send, a lifecycle notice.
    client_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    delivery_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Transition(TenantScoped, Base):
    """One change of a conversation's state: from, to, who, why and when (the audit trail)."""

    __tablename__ = "conversation_transitions"
    __table_args__ = (Index("ix_transitions_conversation", "conversation_id", "id"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(String(300))
    # The conversation's version this change produced.
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConversationPolicy(TenantScoped, Base):
    """A tenant's lifecycle settings; an empty value means the platform default."""

    __tablename__ = "conversation_policies"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    idle_after_min: Mapped[float | None] = mapped_column(Float, nullable=True)
    close_after_min: Mapped[float | None] = mapped_column(Float, nullable=True)
    human_wait_min: Mapped[float | None] = mapped_column(Float, nullable=True)
    resume_on_wait_timeout: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    operator_idle_min: Mapped[float | None] = mapped_column(Float, nullable=True)
    operator_max_open: Mapped[int | None] = mapped_column(Integer, nullable=True)
    auto_assign: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    handoff_after_failures: Mapped[int | None] = mapped_column(Integer, nullable=True)
    human_only_topics: Mapped[list[str]] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OperatorState(TenantScoped, Base):
    """An operator's availability for new conversations, and when they last got one."""

    __tablename__ = "operator_states"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
