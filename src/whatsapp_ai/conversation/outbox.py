"""The one outbound path: a stored message and its delivery job, queued in the same transaction.

Assistant replies, lifecycle notices and operator messages all leave through here, so the
channel applies the same rules to each (24-hour window, templates, rate limits, retries).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.conversation.models import Message
from whatsapp_ai.core.queue import Queue

DELIVER_JOB = "outbound.deliver"


async def queue_delivery(
    session: AsyncSession,
    queue: Queue,
    *,
    message: Message,
    channel: str,
    recipient: str,
    address: str | None,
    reply_to_external_id: str | None = None,
) -> None:
    """Queue the sending of a stored outbound message (once per message)."""
    await queue.enqueue(
        session,
        DELIVER_JOB,
        {
            "tenant_id": message.tenant_id,
            "message_id": message.id,
            "channel": channel,
            "recipient": recipient,
            "address": address,
            "reply_to_external_id": reply_to_external_id,
        },
        idempotency_key=f"deliver:{message.id}",
    )
