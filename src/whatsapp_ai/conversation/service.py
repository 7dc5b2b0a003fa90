"""Conversation service: open conversations, append messages, read history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.conversation.models import Conversation, Message, Transition
from whatsapp_ai.conversation.states import OPEN, Status
from whatsapp_ai.core.db import as_dict, insert_ignore
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Slice, by, paginate
from whatsapp_ai.core.privacy import ContactRef, Erased


async def get_or_open(
    session: AsyncSession, *, tenant_id: str, contact_id: str, channel: str, now: datetime
) -> tuple[Conversation, bool]:
    """The contact's open conversation, or a new one continuing the last ended one;
    (conversation, opened). Callers hold the contact's turn lease; the row is locked."""
    conversation = await session.scalar(
        select(Conversation)
        .where(
            Conversation.tenant_id == tenant_id,
            Conversation.contact_id == contact_id,
            Conversation.status.in_(OPEN),
        )
        .order_by(Conversation.id.desc())
        .limit(1)
        .with_for_update()
    )
    if conversation is not None:
        return conversation, False
    previous = await session.scalar(
        select(Conversation.id)
        .where(Conversation.tenant_id == tenant_id, Conversation.contact_id == contact_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    conversation = Conversation(
        id=new_id(),
        tenant_id=tenant_id,
        contact_id=contact_id,
        channel=channel,
        status=Status.ACTIVE,
        opened_at=now,
        last_message_at=now,
        state_changed_at=now,
        last_user_at=now,
        previous_id=previous,
        unresolved=0,
    )
    session.add(conversation)
    await session.flush()
    return conversation, True


async def get(
    session: AsyncSession, *, tenant_id: str, conversation_id: str, lock: bool = False
) -> Conversation | None:
    """A conversation of the tenant (``lock``: until the transaction ends, on PostgreSQL)."""
    query = select(Conversation).where(
        Conversation.tenant_id == tenant_id, Conversation.id == conversation_id
    )
    return await session.scalar(query.with_for_update() if lock else query)


async def list_conversations(
    session: AsyncSession,
    *,
    tenant_id: str,
    cursor: str | None,
    limit: int,
    statuses: Sequence[str] = (),
    assignee_id: str | None = None,
    contact_id: str | None = None,
    text: str | None = None,
) -> Slice[Conversation]:
    """A page of the tenant's conversations, most recently active first, filtered."""
    query = select(Conversation)
    query = query.where(Conversation.tenant_id == tenant_id)
    if statuses:
        query = query.where(Conversation.status.in_(statuses))
    if assignee_id is not None:
        query = query.where(Conversation.assignee_id == assignee_id)
    if contact_id is not None:
        query = query.where(Conversation.contact_id == contact_id)
    if text:
        found = (
            select(Message.id)
            .where(
                Message.tenant_id == tenant_id,
                Message.conversation_id == Conversation.id,
                func.lower(Message.body).contains(text.lower(), autoescape=True),
            )
            .exists()
        )
        query = query.where(found)
    return await paginate(
        session,
        query,
        order=by(Conversation.last_message_at, Conversation.id, descending=True),
        cursor=cursor,
        limit=limit,
    )


async def transitions(
    session: AsyncSession,
    *,
    tenant_id: str,
    conversation_id: str,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Slice[Transition]:
    """A page of the conversation's changes of state, oldest first."""
    query = select(Transition).where(
        Transition.tenant_id == tenant_id, Transition.conversation_id == conversation_id
    )
    return await paginate(session, query, order=by(Transition.id), cursor=cursor, limit=limit)


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
    client_key: str | None = None,
    author_id: str | None = None,
    delivery_status: str | None = None,
    meta: dict[str, Any] | None = None,
) -> tuple[Message, bool]:
    """Store a message once; (message, created). A repeat of the same event, reply or client
    key is a no-op that returns the stored message."""
    values = {
        "id": new_id(),
        "tenant_id": conversation.tenant_id,
        "conversation_id": conversation.id,
        "direction": direction,
        "author": author,
        "body": body,
        "source_event_id": source_event_id,
        "reply_to_id": reply_to_id,
        "client_key": client_key,
        "author_id": author_id,
        "delivery_status": delivery_status,
        "meta": meta or {},
        "created_at": now,
    }
    unique = _unique_of(source_event_id=source_event_id, reply_to_id=reply_to_id, key=client_key)
    if unique is None:
        session.add(message := Message(**values))
        await session.flush()
        created = True
    else:
        inserted = await insert_ignore(session, Message, values, conflict=list(unique))
        created = inserted is not None
        if inserted is not None:
            message = inserted
        else:
            found = await session.scalar(
                select(Message).where(
                    Message.tenant_id == conversation.tenant_id,
                    *(getattr(Message, column) == values[column] for column in unique),
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


def _unique_of(
    *, source_event_id: str | None, reply_to_id: str | None, key: str | None
) -> tuple[str, ...] | None:
    """The unique columns that make a message's insert idempotent, if any."""
    if source_event_id:
        return ("source_event_id",)
    if reply_to_id:
        return ("reply_to_id",)
    if key:
        return ("conversation_id", "client_key")
    return None


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
    cursor: str | None,
    limit: int,
) -> Slice[Message]:
    """A page of the conversation's messages, oldest first."""
    query = select(Message)
    return await paginate(
        session,
        query.where(Message.tenant_id == tenant_id, Message.conversation_id == conversation_id),
        order=by(Message.id),
        cursor=cursor,
        limit=limit,
    )


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
    transitions = await session.scalars(
        select(Transition)
        .where(
            Transition.tenant_id == ref.tenant_id,
            Transition.conversation_id.in_(ref.related.get("conversation_ids", [])),
        )
        .order_by(Transition.id)
    )
    return {
        "conversations": [
            as_dict(
                t,
                "id",
                "channel",
                "status",
                "opened_at",
                "last_message_at",
                "previous_id",
                "closed_by",
                "close_reason",
                "closed_at",
            )
            for t in threads
        ],
        "transitions": [
            as_dict(t, "conversation_id", "from_status", "to_status", "actor", "reason", "at")
            for t in transitions
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
    audit = await session.execute(
        delete(Transition).where(
            Transition.tenant_id == ref.tenant_id, Transition.conversation_id.in_(threads)
        )
    )
    # A later conversation of the contact points at an earlier one; unlink before deleting.
    await session.execute(
        update(Conversation)
        .where(Conversation.tenant_id == ref.tenant_id, Conversation.id.in_(threads))
        .values(previous_id=None)
        .execution_options(synchronize_session=False)
    )
    closed = await session.execute(
        delete(Conversation).where(
            Conversation.tenant_id == ref.tenant_id, Conversation.contact_id == ref.contact_id
        )
    )
    counts = (removed, audit, closed)
    return Erased(rows=sum(int(result.rowcount) for result in counts))  # type: ignore[attr-defined,misc]


async def earlier_unsent(session: AsyncSession, *, message: Message, since: datetime) -> bool:
    """Whether an earlier outbound message of the conversation, stored after ``since``, is
    still waiting to be sent (messages to a contact leave in order)."""
    found = await session.scalar(
        select(Message.id)
        .where(
            Message.tenant_id == message.tenant_id,
            Message.conversation_id == message.conversation_id,
            Message.id < message.id,
            Message.direction == "out",
            Message.delivery_status == "pending",
            Message.created_at >= since,
        )
        .limit(1)
    )
    return found is not None


async def latest_channel(session: AsyncSession, *, tenant_id: str, contact_id: str) -> str | None:
    """The channel of the contact's most recent conversation, if they ever had one."""
    found = await session.scalar(
        select(Conversation.channel)
        .where(Conversation.tenant_id == tenant_id, Conversation.contact_id == contact_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    return None if found is None else str(found)


async def unanswered(
    session: AsyncSession, *, tenant_id: str, conversation_ids: Sequence[str]
) -> dict[str, int]:
    """Per conversation, the contact's messages since an operator last wrote to them."""
    if not conversation_ids:
        return {}
    last_out = (
        select(Message.conversation_id, func.max(Message.created_at).label("at"))
        .where(
            Message.tenant_id == tenant_id,
            Message.conversation_id.in_(conversation_ids),
            Message.author == "operator",
        )
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = await session.execute(
        select(Message.conversation_id, func.count())
        .outerjoin(last_out, last_out.c.conversation_id == Message.conversation_id)
        .where(
            Message.tenant_id == tenant_id,
            Message.conversation_id.in_(conversation_ids),
            Message.direction == "in",
            or_(last_out.c.at.is_(None), Message.created_at > last_out.c.at),
        )
        .group_by(Message.conversation_id)
    )
    return {conversation_id: int(count) for conversation_id, count in rows}
