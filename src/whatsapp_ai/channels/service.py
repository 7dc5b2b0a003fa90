"""Channels service: accept inbound events (stored and queued atomically) and send replies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.channels.models import InboundEvent
from whatsapp_ai.core.db import insert_ignore
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.queue import Queue

INBOUND_JOB = "inbound.handle"


@dataclass(frozen=True)
class Accepted:
    """Result of accepting an inbound message."""

    event_id: str | None
    duplicate: bool


@dataclass(frozen=True)
class Outbound:
    """A message to send to a contact."""

    tenant_id: str
    message_id: str
    recipient: str
    body: str
    reply_to_external_id: str | None


class Channel(Protocol):
    """Sends messages to contacts; ``send`` must be idempotent per ``message_id``."""

    name: str

    async def send(self, message: Outbound) -> str:
        """Send (once) and return the channel's id for the sent message."""
        ...


async def accept_inbound(
    session: AsyncSession,
    queue: Queue,
    *,
    tenant_id: str,
    channel: str,
    external_id: str,
    sender: str,
    body: str,
    now: datetime,
    profile_name: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Accepted:
    """Store the event once (dedupe on the channel's id) and queue its job in the same tx."""
    event_id = await insert_ignore(
        session,
        InboundEvent,
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "channel": channel,
            "external_id": external_id,
            "sender": sender,
            "profile_name": profile_name,
            "body": body.replace("\x00", ""),
            "payload": payload or {},
            "status": "pending",
            "received_at": now,
        },
        conflict=["tenant_id", "channel", "external_id"],
    )
    if event_id is None:
        return Accepted(event_id=None, duplicate=True)
    await queue.enqueue(
        session,
        INBOUND_JOB,
        {"tenant_id": tenant_id, "event_id": event_id},
        idempotency_key=f"inbound:{event_id}",
    )
    return Accepted(event_id=event_id, duplicate=False)


async def get_event(session: AsyncSession, *, tenant_id: str, event_id: str) -> InboundEvent | None:
    """An inbound event of the tenant."""
    return await session.scalar(
        select(InboundEvent).where(InboundEvent.tenant_id == tenant_id, InboundEvent.id == event_id)
    )


async def next_pending(
    session: AsyncSession, *, tenant_id: str, channel: str, sender: str
) -> InboundEvent | None:
    """The oldest unanswered event from this sender (turns run in arrival order)."""
    return await session.scalar(
        select(InboundEvent)
        .where(
            InboundEvent.tenant_id == tenant_id,
            InboundEvent.channel == channel,
            InboundEvent.sender == sender,
            InboundEvent.status == "pending",
        )
        .order_by(InboundEvent.id)
        .limit(1)
    )


async def mark_processed(
    session: AsyncSession, *, tenant_id: str, event_id: str, now: datetime
) -> None:
    """The event has its reply stored."""
    await session.execute(
        update(InboundEvent)
        .where(InboundEvent.tenant_id == tenant_id, InboundEvent.id == event_id)
        .values(status="processed", processed_at=now)
    )
