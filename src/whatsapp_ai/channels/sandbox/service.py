"""Sandbox channel: a WhatsApp stand-in whose outbox the simulator reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.channels.models import SandboxOutbox
from whatsapp_ai.channels.service import AttachmentResult, Outbound, SendResult
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.db import Database, insert_ignore
from whatsapp_ai.core.ids import new_id

CHANNEL = "sandbox"


class SandboxChannel:
    """Delivers into the sandbox outbox table, once per message."""

    name = CHANNEL

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def send(self, message: Outbound) -> SendResult:
        """Write the message to the outbox unless it is already there."""
        async with self._db.transaction() as session:
            await insert_ignore(
                session,
                SandboxOutbox,
                {
                    "id": new_id(),
                    "tenant_id": message.tenant_id,
                    "recipient": message.recipient,
                    "body": message.body,
                    "message_id": message.message_id,
                    "reply_to_external_id": message.reply_to_external_id,
                    "created_at": self._clock.now(),
                },
                conflict=["message_id"],
            )
            row_id = await session.scalar(
                select(SandboxOutbox.id).where(
                    SandboxOutbox.tenant_id == message.tenant_id,
                    SandboxOutbox.message_id == message.message_id,
                )
            )
        assert row_id is not None
        return SendResult(external_id=row_id, status="sent")

    async def attachments(
        self, *, tenant_id: str, event_id: str, payload: dict[str, Any]
    ) -> list[AttachmentResult]:
        """The simulator sends text only."""
        del tenant_id, event_id, payload
        return []

    async def typing(self, *, tenant_id: str, external_id: str) -> None:
        """The simulator shows no typing bubble."""
        del tenant_id, external_id


async def list_outbox(
    session: AsyncSession, *, tenant_id: str, recipient: str, after: str | None, limit: int
) -> list[SandboxOutbox]:
    """Messages sent to ``recipient``, oldest first, after the cursor."""
    query = (
        select(SandboxOutbox)
        .where(SandboxOutbox.tenant_id == tenant_id, SandboxOutbox.recipient == recipient)
        .order_by(SandboxOutbox.id)
        .limit(limit)
    )
    if after:
        query = query.where(SandboxOutbox.id > after)
    return list(await session.scalars(query))
