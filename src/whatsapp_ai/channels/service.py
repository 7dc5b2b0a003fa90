"""Channels service: accept inbound events (stored and queued atomically) and send replies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.channels.models import InboundEvent, MediaItem, SandboxOutbox
from whatsapp_ai.channels.twilio.models import TwilioOutbound
from whatsapp_ai.core.db import as_dict, insert_ignore, insert_many_ignore
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.privacy import ContactRef, Erased
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
    address: str | None = None
    # None: the channel decides (e.g. WhatsApp's 24-hour window); True: the contact just wrote.
    window_open: bool | None = None


@dataclass(frozen=True)
class SendResult:
    """What the channel did with a message."""

    external_id: str
    status: str


@dataclass(frozen=True)
class AttachmentResult:
    """An inbound attachment after the channel tried to fetch it."""

    media_id: str
    kind: str
    content_type: str
    status: str
    reason: str | None
    blob_key: str | None


class Channel(Protocol):
    """Sends messages to contacts; ``send`` must be idempotent per ``message_id``."""

    name: str

    async def send(self, message: Outbound) -> SendResult:
        """Send (once) and say what happened."""
        ...

    async def attachments(
        self, *, tenant_id: str, event_id: str, payload: dict[str, Any]
    ) -> list[AttachmentResult]:
        """Fetch and store an inbound event's attachments (idempotent)."""
        ...

    async def typing(self, *, tenant_id: str, external_id: str) -> None:
        """Show the contact that a reply is being written (best effort, may do nothing)."""
        ...


def media_kind(content_type: str) -> str:
    """image, audio, video, document or other."""
    major = content_type.split("/")[0]
    if major in ("image", "audio", "video"):
        return major
    if content_type in DOCUMENT_TYPES:
        return "document"
    return "other"


DOCUMENT_TYPES = frozenset(
    {
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)


@dataclass(frozen=True)
class InboundItem:
    """An inbound message to store."""

    tenant_id: str
    channel: str
    external_id: str
    sender: str
    body: str
    now: datetime
    profile_name: str | None = None
    payload: dict[str, Any] | None = None


INBOUND_BULK = "channels.accept_inbound"


async def accept_many(
    session: AsyncSession, queue: Queue, items: list[InboundItem]
) -> list[Accepted]:
    """Store each event once (dedupe on the channel's id) and queue its job, in the caller's tx.

    Two statements whatever the number of items, so a batch of webhooks costs about one.
    """
    rows: list[dict[str, Any]] = [
        {
            "id": new_id(),
            "tenant_id": item.tenant_id,
            "channel": item.channel,
            "external_id": item.external_id,
            "sender": item.sender,
            "profile_name": item.profile_name,
            "body": item.body.replace("\x00", ""),
            "payload": item.payload or {},
            "status": "pending",
            "received_at": item.now,
        }
        for item in items
    ]
    inserted = set(
        await insert_many_ignore(
            session, InboundEvent, rows, conflict=["tenant_id", "channel", "external_id"]
        )
    )
    jobs: list[tuple[str, dict[str, Any], str | None]] = [
        (
            INBOUND_JOB,
            {"tenant_id": row["tenant_id"], "event_id": row["id"]},
            f"inbound:{row['id']}",
        )
        for row in rows
        if row["id"] in inserted
    ]
    if jobs:
        await queue.enqueue_many(session, jobs)
    return [
        Accepted(event_id=row["id"], duplicate=False)
        if row["id"] in inserted
        else Accepted(event_id=None, duplicate=True)
        for row in rows
    ]


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
    """Store one event once and queue its job, in the caller's transaction."""
    item = InboundItem(
        tenant_id=tenant_id,
        channel=channel,
        external_id=external_id,
        sender=sender,
        body=body,
        now=now,
        profile_name=profile_name,
        payload=payload,
    )
    [accepted] = await accept_many(session, queue, [item])
    return accepted


async def get_event(session: AsyncSession, *, tenant_id: str, event_id: str) -> InboundEvent | None:
    """An inbound event of the tenant."""
    return await session.scalar(
        select(InboundEvent).where(InboundEvent.tenant_id == tenant_id, InboundEvent.id == event_id)
    )


async def pending_events(
    session: AsyncSession, *, tenant_id: str, channel: str, sender: str, limit: int
) -> list[InboundEvent]:
    """The oldest unanswered events from this sender, oldest first (turns run in arrival order)."""
    rows = await session.scalars(
        select(InboundEvent)
        .where(
            InboundEvent.tenant_id == tenant_id,
            InboundEvent.channel == channel,
            InboundEvent.sender == sender,
            InboundEvent.status == "pending",
        )
        .order_by(InboundEvent.id)
        .limit(limit)
    )
    return list(rows)


async def mark_processed(
    session: AsyncSession,
    *,
    tenant_id: str,
    event_id: str,
    now: datetime,
    status: str = "processed",
) -> None:
    """The event has its reply stored ('processed'), or a fixed one after failing ('failed')."""
    await session.execute(
        update(InboundEvent)
        .where(InboundEvent.tenant_id == tenant_id, InboundEvent.id == event_id)
        .values(status=status, processed_at=now)
    )


async def last_inbound_at(
    session: AsyncSession, *, tenant_id: str, channel: str, sender: str
) -> datetime | None:
    """When this sender last wrote on this channel (the 24-hour window starts there)."""
    return await session.scalar(
        select(func.max(InboundEvent.received_at)).where(
            InboundEvent.tenant_id == tenant_id,
            InboundEvent.channel == channel,
            InboundEvent.sender == sender,
        )
    )


async def record_media(
    session: AsyncSession,
    *,
    tenant_id: str,
    event_id: str,
    position: int,
    source_url: str,
    declared_type: str,
    now: datetime,
) -> MediaItem:
    """The media row for an attachment, created once."""
    await insert_ignore(
        session,
        MediaItem,
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "event_id": event_id,
            "position": position,
            "source_url": source_url,
            "declared_type": declared_type,
            "status": "pending",
            "created_at": now,
            "updated_at": now,
        },
        conflict=["event_id", "position"],
    )
    item = await session.scalar(
        select(MediaItem).where(
            MediaItem.tenant_id == tenant_id,
            MediaItem.event_id == event_id,
            MediaItem.position == position,
        )
    )
    assert item is not None
    return item


async def finish_media(
    session: AsyncSession,
    *,
    tenant_id: str,
    media_id: str,
    status: str,
    now: datetime,
    reason: str | None = None,
    content_type: str | None = None,
    size_bytes: int | None = None,
    blob_key: str | None = None,
) -> None:
    """Record what became of an attachment."""
    await session.execute(
        update(MediaItem)
        .where(MediaItem.tenant_id == tenant_id, MediaItem.id == media_id)
        .values(
            status=status,
            reason=reason,
            content_type=content_type,
            size_bytes=size_bytes,
            blob_key=blob_key,
            updated_at=now,
        )
    )


async def set_transcript(
    session: AsyncSession, *, tenant_id: str, media_id: str, transcript: str
) -> None:
    """Keep the transcript of a voice note beside it."""
    await session.execute(
        update(MediaItem)
        .where(MediaItem.tenant_id == tenant_id, MediaItem.id == media_id)
        .values(transcript=transcript)
    )


async def list_media(session: AsyncSession, *, tenant_id: str, event_id: str) -> list[MediaItem]:
    """The attachments of an inbound event, in order."""
    rows = await session.scalars(
        select(MediaItem)
        .where(MediaItem.tenant_id == tenant_id, MediaItem.event_id == event_id)
        .order_by(MediaItem.position)
    )
    return list(rows)


async def get_media(session: AsyncSession, *, tenant_id: str, media_id: str) -> MediaItem | None:
    """An attachment of the tenant."""
    return await session.scalar(
        select(MediaItem).where(MediaItem.tenant_id == tenant_id, MediaItem.id == media_id)
    )


# --- data subject rights ----------------------------------------------------------------------


async def collect_contact(session: AsyncSession, ref: ContactRef) -> None:
    """Find the contact's inbound events (their media hang off them)."""
    ref.related["event_ids"] = list(
        await session.scalars(
            select(InboundEvent.id).where(
                InboundEvent.tenant_id == ref.tenant_id, InboundEvent.sender == ref.address
            )
        )
    )


async def export_contact(session: AsyncSession, ref: ContactRef) -> dict[str, Any]:
    """Inbound messages as received, their attachments, and what was sent to the contact."""
    event_ids = ref.related.get("event_ids", [])
    events = await session.scalars(
        select(InboundEvent)
        .where(InboundEvent.tenant_id == ref.tenant_id, InboundEvent.id.in_(event_ids))
        .order_by(InboundEvent.id)
    )
    media = await session.scalars(
        select(MediaItem)
        .where(MediaItem.tenant_id == ref.tenant_id, MediaItem.event_id.in_(event_ids))
        .order_by(MediaItem.id)
    )
    outbox = await session.scalars(
        select(SandboxOutbox)
        .where(SandboxOutbox.tenant_id == ref.tenant_id, SandboxOutbox.recipient == ref.address)
        .order_by(SandboxOutbox.id)
    )
    parts = await session.scalars(
        select(TwilioOutbound)
        .where(
            TwilioOutbound.tenant_id == ref.tenant_id,
            TwilioOutbound.message_id.in_(ref.related.get("message_ids", [])),
        )
        .order_by(TwilioOutbound.id)
    )
    return {
        "inbound": [
            as_dict(e, "id", "channel", "external_id", "sender", "profile_name", "body", "payload")
            | {"received_at": e.received_at}
            for e in events
        ],
        "media": [
            as_dict(m, "id", "event_id", "content_type", "size_bytes", "status", "transcript")
            | {"stored": m.blob_key is not None, "blob_key": m.blob_key}
            for m in media
        ],
        "sandbox_sent": [as_dict(o, "id", "body", "message_id", "created_at") for o in outbox],
        "twilio_sent": [
            as_dict(p, "id", "message_id", "part", "body", "twilio_sid", "status", "error_code")
            for p in parts
        ],
    }


async def erase_contact(session: AsyncSession, ref: ContactRef) -> Erased:
    """Delete the contact's inbound events, attachments and sent-message records."""
    event_ids = ref.related.get("event_ids", [])
    blob_keys = [
        key
        for key in await session.scalars(
            select(MediaItem.blob_key).where(
                MediaItem.tenant_id == ref.tenant_id, MediaItem.event_id.in_(event_ids)
            )
        )
        if key
    ]
    rows = 0
    for statement in (
        delete(MediaItem).where(
            MediaItem.tenant_id == ref.tenant_id, MediaItem.event_id.in_(event_ids)
        ),
        delete(InboundEvent).where(
            InboundEvent.tenant_id == ref.tenant_id, InboundEvent.id.in_(event_ids)
        ),
        delete(SandboxOutbox).where(
            SandboxOutbox.tenant_id == ref.tenant_id, SandboxOutbox.recipient == ref.address
        ),
        delete(TwilioOutbound).where(
            TwilioOutbound.tenant_id == ref.tenant_id,
            TwilioOutbound.message_id.in_(ref.related.get("message_ids", [])),
        ),
    ):
        rows += int((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]
    return Erased(rows=rows, blob_keys=blob_keys)
