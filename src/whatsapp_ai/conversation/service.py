"""Conversation service: open conversations, append messages, read history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.conversation.models import Conversation, Message
from whatsapp_ai.core.db import as_dict, insert_ignore
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.privacy import ContactRef, Erased

OPEN_STATUSES = ("active",)


async def get_or_open(
    session: AsyncSession, *, tenant_id: str, contact_id: str, channel: str, now: datetime
) -> Conversation:
    """The contact's open conversation, or a new one (callers hold the contact's turn lease)."""
    conversation = await session.scalar(
        select(Conversation)
        .where(
            Conversation.tenant_id == tenant_id,
            Conversation.contact_id == contact_id,
            Conversation.status.in_(OPEN_STATUSES),
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    if conversation is None:
        conversation = Conversation(
            id=new_id(),
            tenant_id=tenant_id,
            contact_id=contact_id,
            channel=channel,
            status="active",
            opened_at=now,
            last_message_at=now,
        )
        session.add(conversation)
        await session.flush()
    return conversation


async def get(
    session: AsyncSession, *, tenant_id: str, conversation_id: str
) -> Conversation | None:
    """A conversation of the tenant."""
    return await session.scalar(
        select(Conversation).where(
            Conversation.tenant_id == tenant_id, Conversation.id == conversation_id
        )
    )


async def list_conversations(
    session: AsyncSession, *, tenant_id: str, limit: int = 50
) -> list[Conversation]:
    """The tenant's conversations, most recently active first."""
    rows = await session.scalars(
        select(Conversation)
        .where(Conversation.tenant_id == tenant_id)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    return list(rows)


async def append_message(
    session: AsyncSession,
    *,
    conversation: Conversation,
    direction: str,
    author: str,
    body: str,
    now: datetime,
    source_event_id: str | None = None,
    reply_to_id: str | None = None,
    delivery_status: str | None = None,
    meta: dict[str, Any] | None = None,
) -> tuple[Message, bool]:
    """Store a message once; (message, created). A repeat of the same event or reply is a no-op."""
    values = {
        "id": new_id(),
        "tenant_id": conversation.tenant_id,
        "conversation_id": conversation.id,
        "direction": direction,
        "author": author,
        "body": body,
        "source_event_id": source_event_id,
        "reply_to_id": reply_to_id,
        "delivery_status": delivery_status,
        "meta": meta or {},
        "created_at": now,
    }
    unique = "source_event_id" if source_event_id else "reply_to_id" if reply_to_id else None
    if unique is None:
        session.add(message := Message(**values))
        await session.flush()
        created = True
    else:
        new_id_ = await insert_ignore(session, Message, values, conflict=[unique])
        created = new_id_ is not None
        if created:
            message = Message(**values)
        else:
            column = Message.source_event_id if unique == "source_event_id" else Message.reply_to_id
            found = await session.scalar(
                select(Message).where(
                    Message.tenant_id == conversation.tenant_id, column == values[unique]
                )
            )
            assert found is not None
            message = found
    if created:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation.id)
            .values(last_message_at=now)
            .execution_options(synchronize_session=False)
        )
    return message, created


async def recent_messages(
    session: AsyncSession, *, tenant_id: str, conversation_id: str, limit: int
) -> list[Message]:
    """The last ``limit`` messages, oldest first."""
    rows = await session.scalars(
        select(Message)
        .where(Message.tenant_id == tenant_id, Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


async def page_messages(
    session: AsyncSession,
    *,
    tenant_id: str,
    conversation_id: str,
    after: str | None,
    limit: int,
) -> list[Message]:
    """Messages oldest first, after the cursor (a message id)."""
    query = (
        select(Message)
        .where(Message.tenant_id == tenant_id, Message.conversation_id == conversation_id)
        .order_by(Message.id)
        .limit(limit)
    )
    if after:
        query = query.where(Message.id > after)
    return list(await session.scalars(query))


async def get_message(session: AsyncSession, *, tenant_id: str, message_id: str) -> Message | None:
    """A message of the tenant by id."""
    return await session.scalar(
        select(Message).where(Message.tenant_id == tenant_id, Message.id == message_id)
    )


async def set_delivery_status(
    session: AsyncSession,
    *,
    tenant_id: str,
    message_id: str,
    status: str,
    only_if_pending: bool = False,
) -> None:
    """Record how far an outbound message got (``only_if_pending``: never over a callback's)."""
    query = update(Message).where(Message.tenant_id == tenant_id, Message.id == message_id)
    if only_if_pending:
        query = query.where(Message.delivery_status.in_(("pending",)))
    await session.execute(query.values(delivery_status=status))


# --- data subject rights ----------------------------------------------------------------------


async def collect_contact(session: AsyncSession, ref: ContactRef) -> None:
    """Find the contact's conversations and messages (other modules refer to them)."""
    threads = list(
        await session.scalars(
            select(Conversation.id).where(
                Conversation.tenant_id == ref.tenant_id, Conversation.contact_id == ref.contact_id
            )
        )
    )
    messages = list(
        await session.scalars(
            select(Message.id).where(
                Message.tenant_id == ref.tenant_id, Message.conversation_id.in_(threads)
            )
        )
    )
    ref.related["conversation_ids"] = threads
    ref.related["message_ids"] = messages


async def export_contact(session: AsyncSession, ref: ContactRef) -> dict[str, Any]:
    """The contact's conversations and every message in them."""
    threads = await session.scalars(
        select(Conversation)
        .where(Conversation.tenant_id == ref.tenant_id, Conversation.contact_id == ref.contact_id)
        .order_by(Conversation.id)
    )
    messages = await session.scalars(
        select(Message)
        .where(
            Message.tenant_id == ref.tenant_id,
            Message.conversation_id.in_(ref.related.get("conversation_ids", [])),
        )
        .order_by(Message.id)
    )
    return {
        "conversations": [
            as_dict(t, "id", "channel", "status", "opened_at", "last_message_at") for t in threads
        ],
        "messages": [
            as_dict(m, "id", "conversation_id", "direction", "author", "body", "created_at", "meta")
            for m in messages
        ],
    }


async def erase_contact(session: AsyncSession, ref: ContactRef) -> Erased:
    """Delete the contact's conversations and messages."""
    threads = ref.related.get("conversation_ids", [])
    removed = await session.execute(
        delete(Message).where(
            Message.tenant_id == ref.tenant_id, Message.conversation_id.in_(threads)
        )
    )
    closed = await session.execute(
        delete(Conversation).where(
            Conversation.tenant_id == ref.tenant_id, Conversation.contact_id == ref.contact_id
        )
    )
    return Erased(rows=int(removed.rowcount) + int(closed.rowcount))  # type: ignore[attr-defined]
