"""Job handlers that walk a message through the modules (DESIGN.md section 2)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from whatsapp_ai.ai.language import detect_language
from whatsapp_ai.ai.service import (
    AttachmentInfo,
    HistoryItem,
    Reply,
    ReplyStep,
    SpeechStep,
    TurnInput,
    fixed_reply,
)
from whatsapp_ai.channels import service as channels
from whatsapp_ai.conversation import service as conversation
from whatsapp_ai.core.blobs import BlobStore
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.db import Database
from whatsapp_ai.core.leases import Leases
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.queue import Handler, LeasedJob, PermanentJobError, Queue, Snooze
from whatsapp_ai.identity import service as identity

DELIVER_JOB = "outbound.deliver"
TURN_BUSY_RETRY = timedelta(milliseconds=500)
MAX_TURNS_PER_JOB = 50

log = get_logger(__name__)


class LeaseLostError(Exception):
    """The turn lease expired mid-turn; the reply is not stored (the next holder answers)."""


@dataclass
class Pipeline:
    """The path of one message; built by bootstrap with concrete adapters."""

    db: Database
    clock: Clock
    queue: Queue
    leases: Leases
    reply_step: ReplyStep
    speech: SpeechStep
    blobs: BlobStore
    channels: dict[str, channels.Channel]
    turn_lease: timedelta
    history_turns: int
    typing_after: timedelta = timedelta(seconds=1)

    def handlers(self) -> dict[str, Handler]:
        """Job kind → handler."""
        return {channels.INBOUND_JOB: self.handle_inbound, DELIVER_JOB: self.deliver}

    async def handle_inbound(self, payload: dict[str, Any], job: LeasedJob) -> None:
        """Answer the event and every earlier unanswered event of its sender, in arrival order."""
        tenant_id = str(payload["tenant_id"])
        async with self.db.read() as session:
            event = await channels.get_event(
                session, tenant_id=tenant_id, event_id=str(payload["event_id"])
            )
        if event is None:
            raise PermanentJobError(f"inbound event {payload['event_id']} not found")
        if event.status != "pending":
            return
        lease_key = f"turn:{tenant_id}:{event.channel}:{event.sender}"
        async with self.leases.hold(lease_key, job.lease_token, self.turn_lease) as held:
            if not held:
                raise Snooze(TURN_BUSY_RETRY, "another turn of this conversation is running")
            for _ in range(MAX_TURNS_PER_JOB):
                async with self.db.read() as session:
                    pending = await channels.next_pending(
                        session, tenant_id=tenant_id, channel=event.channel, sender=event.sender
                    )
                if pending is None:
                    return
                await self._turn(pending.id, tenant_id, lease_key, job.lease_token)

    async def _turn(self, event_id: str, tenant_id: str, lease_key: str, owner: str) -> None:
        now = self.clock.now()
        async with self.db.transaction() as session:
            event = await channels.get_event(session, tenant_id=tenant_id, event_id=event_id)
            tenant = await identity.get_tenant(session, tenant_id=tenant_id)
            if event is None or tenant is None:
                raise PermanentJobError(f"event {event_id} or its tenant is gone")
            contact = await identity.get_or_create_contact(
                session,
                tenant_id=tenant_id,
                address=event.sender,
                profile_name=event.profile_name,
                now=now,
            )
            thread = await conversation.get_or_open(
                session, tenant_id=tenant_id, contact_id=contact.id, channel=event.channel, now=now
            )
            user_message, _ = await conversation.append_message(
                session,
                conversation=thread,
                direction="in",
                author="user",
                body=event.body,
                source_event_id=event.id,
                now=now,
            )
            history = await conversation.recent_messages(
                session,
                tenant_id=tenant_id,
                conversation_id=thread.id,
                limit=self.history_turns + 1,
            )
            earlier = [
                HistoryItem(author=m.author, body=m.body)  # type: ignore[arg-type]
                for m in history
                if m.id != user_message.id
            ]
            payload, channel_name = event.payload, event.channel
            recipient, external_id = contact.address, event.external_id
            contact_name, tenant_name, text = contact.profile_name, tenant.name, event.body
        language = detect_language(
            text, default=next((detect_language(h.body) for h in reversed(earlier)), "pt")
        )
        notes, heard, files = await self._read_attachments(
            tenant_id, event_id, channel_name, payload, language
        )
        reply_text = "\n\n".join(notes)
        full_text = "\n".join(part for part in (text, *heard) if part.strip())
        if full_text.strip() or (files and not notes):
            turn = TurnInput(
                tenant_id=tenant_id,
                tenant_name=tenant_name,
                contact_id=contact.id,
                contact_name=contact_name,
                conversation_id=thread.id,
                text=full_text,
                history=earlier,
                attachments=files,
            )
            reply = await self._reply_with_typing(turn, tenant_id, channel_name, external_id)
            reply_text = "\n\n".join([*notes, reply.text])
            meta = {"model": reply.model, "language": reply.language}
        else:
            meta = {"model": "fixed", "language": language}
        async with self.db.transaction() as session:
            if not await self.leases.holds(session, lease_key, owner):
                raise LeaseLostError(f"turn lease {lease_key} lost before the reply was stored")
            answer, created = await conversation.append_message(
                session,
                conversation=thread,
                direction="out",
                author="assistant",
                body=reply_text,
                reply_to_id=user_message.id,
                delivery_status="pending",
                meta=meta,
                now=self.clock.now(),
            )
            await channels.mark_processed(
                session, tenant_id=tenant_id, event_id=event_id, now=self.clock.now()
            )
            if created:
                await self.queue.enqueue(
                    session,
                    DELIVER_JOB,
                    {
                        "tenant_id": tenant_id,
                        "message_id": answer.id,
                        "channel": channel_name,
                        "recipient": recipient,
                        "address": payload.get("from_raw"),
                        "reply_to_external_id": external_id,
                    },
                    idempotency_key=f"deliver:{answer.id}",
                )
        log.info("turn.replied", conversation_id=thread.id, message_id=answer.id)

    async def _reply_with_typing(
        self, turn: TurnInput, tenant_id: str, channel_name: str, external_id: str
    ) -> Reply:
        """The reply; if it is slow to come, the contact sees a typing indicator meanwhile."""
        pending = asyncio.ensure_future(self.reply_step.reply(turn))
        done, _ = await asyncio.wait({pending}, timeout=self.typing_after.total_seconds())
        channel = self.channels.get(channel_name)
        if not done and channel is not None:
            await channel.typing(tenant_id=tenant_id, external_id=external_id)
        return await pending

    async def _read_attachments(
        self,
        tenant_id: str,
        event_id: str,
        channel_name: str,
        payload: dict[str, Any],
        language: str,
    ) -> tuple[list[str], list[str], list[AttachmentInfo]]:
        """Fixed notes for unreadable files, transcripts of voice notes, and what was stored."""
        channel = self.channels.get(channel_name)
        if channel is None or not payload.get("media"):
            return [], [], []
        results = await channel.attachments(tenant_id=tenant_id, event_id=event_id, payload=payload)
        notes: list[str] = []
        heard: list[str] = []
        files: list[AttachmentInfo] = []
        for item in results:
            if item.status != "stored" or item.blob_key is None:
                notes.append(fixed_reply("attachment_failed", language))
                continue
            if item.kind != "audio":
                files.append(AttachmentInfo(kind=item.kind, content_type=item.content_type))
                continue
            transcript = await self.speech.transcribe(
                await self.blobs.get(item.blob_key), item.content_type
            )
            if transcript is None:
                notes.append(fixed_reply("voice_unavailable", language))
                continue
            heard.append(transcript)
            async with self.db.transaction() as session:
                await channels.set_transcript(
                    session, tenant_id=tenant_id, media_id=item.media_id, transcript=transcript
                )
        return list(dict.fromkeys(notes)), heard, files

    async def deliver(self, payload: dict[str, Any], job: LeasedJob) -> None:
        """Send a stored outbound message through its channel (idempotent per message)."""
        tenant_id = str(payload["tenant_id"])
        channel = self.channels.get(str(payload["channel"]))
        if channel is None:
            raise PermanentJobError(f"channel {payload['channel']!r} is not configured")
        async with self.db.read() as session:
            message = await conversation.get_message(
                session, tenant_id=tenant_id, message_id=str(payload["message_id"])
            )
        if message is None:
            raise PermanentJobError(f"message {payload['message_id']} not found")
        if message.delivery_status not in (None, "pending"):
            return
        outbound = channels.Outbound(
            tenant_id=tenant_id,
            message_id=message.id,
            recipient=str(payload["recipient"]),
            body=message.body,
            reply_to_external_id=payload.get("reply_to_external_id"),
            address=payload.get("address"),
        )
        try:
            result = await channel.send(outbound)
        except PermanentJobError:
            # The conversation shows the failure; the dead letter keeps the cause.
            async with self.db.transaction() as session:
                await conversation.set_delivery_status(
                    session, tenant_id=tenant_id, message_id=message.id, status="failed"
                )
            raise
        async with self.db.transaction() as session:
            await conversation.set_delivery_status(
                session,
                tenant_id=tenant_id,
                message_id=message.id,
                status=result.status,
                only_if_pending=True,
            )
