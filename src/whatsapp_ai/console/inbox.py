"""What the console shows: the inbox's rows and one conversation, read through the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from whatsapp_ai.conversation import service as conversation
from whatsapp_ai.conversation.states import HUMAN, OPEN, Status
from whatsapp_ai.core.http import Principal, runtime
from whatsapp_ai.identity import service as identity

VIEWS = ("needs_human", "mine", "open", "closed")
SHOWN = 100
MESSAGES_SHOWN = 200


@dataclass(frozen=True)
class Row:
    """One conversation as the console shows it."""

    id: str
    status: str
    version: int
    name: str
    address: str
    assignee_id: str | None
    last_message_at: Any
    unread: int
    messages: list[Any] = field(default_factory=list)


def _filters(view: str, caller: Principal) -> dict[str, Any]:
    if view == "needs_human":
        return {"statuses": sorted(s.value for s in HUMAN)}
    if view == "mine":
        return {"statuses": sorted(s.value for s in OPEN), "assignee_id": caller.user_id}
    if view == "closed":
        return {"statuses": [Status.CLOSED.value]}
    return {"statuses": sorted(s.value for s in OPEN)}


async def rows(request: Request, caller: Principal, *, view: str, q: str) -> list[Row]:
    """The conversations of one view, newest activity first; ``q`` matches the contact's name
    or number, or the text of a message."""
    rt = runtime(request)
    wanted = q.strip().lower()
    async with rt.db.read() as session:
        found = await conversation.list_conversations(
            session, tenant_id=caller.tenant_id, cursor=None, limit=SHOWN, **_filters(view, caller)
        )
        items = list(found.items)
        by_text: set[str] = set()
        if len(wanted) >= 2:
            texts = await conversation.list_conversations(
                session,
                tenant_id=caller.tenant_id,
                cursor=None,
                limit=SHOWN,
                text=wanted,
                **_filters(view, caller),
            )
            by_text = {c.id for c in texts.items}
        # Only a person's conversations wait for a person's answer.
        unread = await conversation.unanswered(
            session,
            tenant_id=caller.tenant_id,
            conversation_ids=[c.id for c in items if c.status in HUMAN],
        )
        result: list[Row] = []
        for item in items:
            contact = await identity.get_contact(
                session, tenant_id=caller.tenant_id, contact_id=item.contact_id
            )
            name = (contact.display_name or contact.profile_name or "") if contact else ""
            address = contact.address if contact else ""
            if wanted and item.id not in by_text and not _matches(wanted, name, address):
                continue
            result.append(
                Row(
                    id=item.id,
                    status=item.status,
                    version=item.version,
                    name=name,
                    address=address,
                    assignee_id=item.assignee_id,
                    last_message_at=item.last_message_at,
                    unread=unread.get(item.id, 0),
                )
            )
        return result


def _matches(wanted: str, name: str, address: str) -> bool:
    digits = "".join(ch for ch in wanted if ch.isdigit())
    return wanted in name.lower() or bool(digits and digits in address)


async def one(request: Request, caller: Principal, conversation_id: str) -> Row | None:
    """One of the operator's tenant's conversations with its messages, or None."""
    rt = runtime(request)
    async with rt.db.read() as session:
        item = await conversation.get(
            session, tenant_id=caller.tenant_id, conversation_id=conversation_id
        )
        if item is None:
            return None
        contact = await identity.get_contact(
            session, tenant_id=caller.tenant_id, contact_id=item.contact_id
        )
        page = await conversation.page_messages(
            session,
            tenant_id=caller.tenant_id,
            conversation_id=conversation_id,
            cursor=None,
            limit=MESSAGES_SHOWN,
        )
        return Row(
            id=item.id,
            status=item.status,
            version=item.version,
            name=(contact.display_name or contact.profile_name or "") if contact else "",
            address=contact.address if contact else "",
            assignee_id=item.assignee_id,
            last_message_at=item.last_message_at,
            unread=0,
            messages=list(page.items),
        )
