"""Job handlers that send what the platform stored for a contact: replies, operator messages,
lifecycle notices, one-off notices; and the clean-up of erased files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.channels import service as channel_service
from whatsapp_ai.conversation import service as conversation
from whatsapp_ai.conversation.lifecycle import Lifecycle
from whatsapp_ai.conversation.outbox import DELIVER_JOB
from whatsapp_ai.conversation.states import OPEN, Actor, Status
from whatsapp_ai.core.blobs import BlobStore
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.db import Database
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.privacy import DELETE_BLOBS_JOB
from whatsapp_ai.core.queue import Handler, LeasedJob, PermanentJobError, Snooze

NOTICE_JOB = "outbound.notice"
# Messages of a conversation leave in the order they were stored; an earlier one still being
# sent holds a later one back, but never for longer than this.
ORDER_WAIT = timedelta(minutes=5)
ORDER_RETRY = timedelta(milliseconds=300)

log = get_logger(__name__)


@dataclass
class Outbound:
    """Sending stored messages through their channel."""

    db: Database
    clock: Clock
    blobs: BlobStore
    lifecycle: Lifecycle
    channels: dict[str, channel_service.Channel]

    def handlers(self) -> dict[str, Handler]:
        """Job kind → handler (the caller wraps them in the payload's tenant scope)."""
        return {
            DELIVER_JOB: self.deliver,
            NOTICE_JOB: self.notify,
            DELETE_BLOBS_JOB: self.delete_blobs,
        }

    async def delete_blobs(self, payload: dict[str, Any], job: LeasedJob) -> None:
        """Delete files of erased data (idempotent: a missing file is already gone)."""
        del job
        for key in payload.get("keys", []):
            await self.blobs.delete(str(key))

    def _channel(self, name: object) -> channel_service.Channel:
        channel = self.channels.get(str(name))
        if channel is None:
            raise PermanentJobError(f"channel {name!r} is not configured")
        return channel

    async def deliver(self, payload: dict[str, Any], job: LeasedJob) -> None:
        """Send a stored outbound message through its channel (idempotent per message)."""
        tenant_id = str(payload["tenant_id"])
        channel = self._channel(payload["channel"])
        async with self.db.read() as session:
            message = await conversation.get_message(
                session, tenant_id=tenant_id, message_id=str(payload["message_id"])
            )
            if message is None:
                raise PermanentJobError(f"message {payload['message_id']} not found")
            # A dead letter an operator requeued sends a message that was given up on.
            revived = message.delivery_status == "failed" and job.replays > 0
            if message.delivery_status not in (None, "pending") and not revived:
                return
            earlier = await conversation.earlier_unsent(
                session, message=message, since=self.clock.now() - ORDER_WAIT
            )
        if earlier:
            raise Snooze(ORDER_RETRY, "an earlier message of this conversation is being sent")
        if revived:
            # Pending again, so status callbacks of the new attempt move it forward.
            async with self.db.transaction() as session:
                await conversation.set_delivery_status(
                    session, tenant_id=tenant_id, message_id=message.id, status="pending"
                )
        outbound = channel_service.Outbound(
            tenant_id=tenant_id,
            message_id=message.id,
            recipient=str(payload["recipient"]),
            body=message.body,
            reply_to_external_id=payload.get("reply_to_external_id"),
            address=payload.get("address"),
        )
        try:
            result = await channel.send(outbound)
        except Snooze:
            raise
        except Exception as exc:
            if isinstance(exc, PermanentJobError) or job.attempts >= job.max_attempts:
                await self._undeliverable(tenant_id, message.id, message.conversation_id, exc)
            raise
        async with self.db.transaction() as session:
            await conversation.set_delivery_status(
                session,
                tenant_id=tenant_id,
                message_id=message.id,
                status=result.status,
                only_if_pending=True,
            )
            if job.replays:
                # Also when this replay's own first attempt failed and a retry got through.
                await self._revive(session, tenant_id, message.conversation_id)

    async def _revive(self, session: AsyncSession, tenant_id: str, conversation_id: str) -> None:
        """The conversation that failed with this message goes back to where it was."""
        thread = await conversation.get(
            session, tenant_id=tenant_id, conversation_id=conversation_id, lock=True
        )
        if thread is None:
            return
        moved = await self.lifecycle.revive(
            session, thread, reason="a retried delivery reached the contact"
        )
        if moved is not None:
            log.info("conversation.revived", conversation_id=conversation_id, to=moved.to_status)

    async def _undeliverable(
        self, tenant_id: str, message_id: str, conversation_id: str, error: Exception
    ) -> None:
        """The message is marked failed and its conversation, which cannot go on, too."""
        async with self.db.transaction() as session:
            await conversation.set_delivery_status(
                session, tenant_id=tenant_id, message_id=message_id, status="failed"
            )
            thread = await conversation.get(
                session, tenant_id=tenant_id, conversation_id=conversation_id, lock=True
            )
            if thread is not None and thread.status in OPEN:
                await self.lifecycle.move(
                    session,
                    thread,
                    Status.FAILED,
                    Actor.SYSTEM,
                    reason=f"a message could not be delivered: {error}"[:300],
                )
        log.warning("conversation.undeliverable", conversation_id=conversation_id)

    async def notify(self, payload: dict[str, Any], job: LeasedJob) -> None:
        """Send a one-off notice that is not part of any stored conversation."""
        del job
        await self._channel(payload["channel"]).send(
            channel_service.Outbound(
                tenant_id=str(payload["tenant_id"]),
                message_id=str(payload["notice_id"]),
                recipient=str(payload["recipient"]),
                body=str(payload["body"]),
                reply_to_external_id=None,
                address=payload.get("address"),
                window_open=True,
            )
        )
