"""Job handlers that walk a message through the modules (DESIGN.md section 2)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from whatsapp_ai.ai.language import conversation_language, preferred_language
from whatsapp_ai.ai.privacy import asks_for_erasure, confirms_erasure
from whatsapp_ai.ai.profile import profile_changes
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
from whatsapp_ai.core.db import Database, tenant_scope
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.leases import Leases
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.privacy import DELETE_BLOBS_JOB, ContactRef, PrivacyRegistry
from whatsapp_ai.core.queue import Handler, LeasedJob, PermanentJobError, Queue, Snooze
from whatsapp_ai.identity import service as identity

DELIVER_JOB = "outbound.deliver"
NOTICE_JOB = "outbound.notice"
PROFILE_ONLY_WORDS = 8
TURN_BUSY_RETRY = timedelta(milliseconds=500)
MAX_TURNS_PER_JOB = 50

log = get_logger(__name__)


def _in_tenant_scope(handler: Handler) -> Handler:
    """Run a job handler seeing only the rows of the tenant its payload names."""

    async def run(payload: dict[str, Any], job: LeasedJob) -> None:
        with tenant_scope(str(payload["tenant_id"])):
            await handler(payload, job)

    return run


@dataclass
class _TurnState:
    """What one turn knows once the user's message is stored."""

    tenant_id: str
    tenant_name: str
    event_id: str
    external_id: str
    channel: str
    payload: dict[str, Any]
    text: str
    contact_id: str
    contact: identity.ContactContext
    recipient: str
    conversation_id: str
    conversation: Any
    user_message_id: str
    earlier: list[HistoryItem]
    erasure_requested_at: datetime | None
    language: str


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
    privacy: PrivacyRegistry
    channels: dict[str, channels.Channel]
    turn_lease: timedelta
    history_turns: int
    typing_after: timedelta = timedelta(seconds=1)

    def handlers(self) -> dict[str, Handler]:
        """Job kind → handler."""
        handlers: dict[str, Handler] = {
            channels.INBOUND_JOB: self.handle_inbound,
            DELIVER_JOB: self.deliver,
            DELETE_BLOBS_JOB: self.delete_blobs,
            NOTICE_JOB: self.notify,
        }
        return {kind: _in_tenant_scope(handler) for kind, handler in handlers.items()}

    async def delete_blobs(self, payload: dict[str, Any], job: LeasedJob) -> None:
        """Delete files of erased data (idempotent: a missing file is already gone)."""
        del job
        for key in payload.get("keys", []):
            await self.blobs.delete(str(key))

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
        # The job id tells apart jobs leased in one batch; the token, a job re-leased later.
        owner = f"{job.id}:{job.lease_token}"
        failures: list[str] = []
        async with self.leases.hold(lease_key, owner, self.turn_lease) as held:
            if not held:
                raise Snooze(TURN_BUSY_RETRY, "another turn of this conversation is running")
            for _ in range(MAX_TURNS_PER_JOB):
                async with self.db.read() as session:
                    pending = await channels.next_pending(
                        session, tenant_id=tenant_id, channel=event.channel, sender=event.sender
                    )
                if pending is None:
                    break
                try:
                    await self._turn(pending.id, tenant_id, lease_key, owner)
                except LeaseLostError:
                    raise
                except Exception as exc:
                    last_try = job.attempts >= job.max_attempts
                    if not (last_try or isinstance(exc, PermanentJobError)):
                        raise
                    # Out of retries: the user gets a fixed answer and later messages move on.
                    log.error("turn.failed", event_id=pending.id, error=repr(exc)[:500])
                    await self._fail_turn(pending.id, tenant_id, lease_key, owner, exc)
                    failures.append(f"event {pending.id}: {exc!r}")
        if failures:
            # The users were answered; the dead letter keeps the cause for the operators.
            raise PermanentJobError("turn failed, fixed reply sent; " + "; ".join(failures))

    async def _turn(self, event_id: str, tenant_id: str, lease_key: str, owner: str) -> None:
        state = await self._open_turn(event_id, tenant_id)
        if await self._privacy_request(state, lease_key, owner):
            return
        confirmations = await self._profile_request(state)
        if confirmations and len(state.text.split()) <= PROFILE_ONLY_WORDS:
            # The message was only the request: the confirmation is the whole answer.
            reply_text = "\n\n".join(confirmations)
            meta: dict[str, Any] = {"model": "fixed", "language": state.language}
        else:
            reply_text, meta = await self._compose(state)
            reply_text = "\n\n".join([*confirmations, reply_text])
        await self._finish_turn(state, reply_text, meta, lease_key, owner)

    async def _open_turn(self, event_id: str, tenant_id: str) -> _TurnState:
        """Store the user's message in its conversation and gather what the reply needs."""
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
            return _TurnState(
                tenant_id=tenant_id,
                tenant_name=tenant.name,
                event_id=event.id,
                external_id=event.external_id,
                channel=event.channel,
                payload=event.payload,
                text=event.body,
                contact_id=contact.id,
                contact=identity.contact_context(contact),
                recipient=contact.address,
                conversation_id=thread.id,
                conversation=thread,
                user_message_id=user_message.id,
                earlier=earlier,
                erasure_requested_at=contact.erasure_requested_at,
                language=preferred_language(contact.language)
                or conversation_language(event.body, [h.body for h in earlier]),
            )

    async def _compose(self, state: _TurnState) -> tuple[str, dict[str, Any]]:
        """The reply text: fixed notes for unreadable files, then the reply step's answer."""
        notes, heard, files = await self._read_attachments(state)
        full_text = "\n".join(part for part in (state.text, *heard) if part.strip())
        if not full_text.strip() and not files and not notes:
            # Nothing the assistant can read (an unsupported message type, an empty body).
            notes = [fixed_reply("unsupported_message", state.language)]
        if not full_text.strip() and (notes or not files):
            return "\n\n".join(notes), {"model": "fixed", "language": state.language}
        turn = TurnInput(
            tenant_id=state.tenant_id,
            tenant_name=state.tenant_name,
            contact_id=state.contact_id,
            contact_name=state.contact.name,
            conversation_id=state.conversation_id,
            text=full_text,
            history=state.earlier,
            attachments=files,
            contact_language=state.contact.language,
            contact_timezone=state.contact.timezone,
            contact_preferences=state.contact.preferences,
        )
        reply = await self._reply_with_typing(turn, state)
        return "\n\n".join([*notes, reply.text]), {
            "model": reply.model,
            "language": reply.language,
        }

    async def _finish_turn(
        self,
        state: _TurnState,
        reply_text: str,
        meta: dict[str, Any],
        lease_key: str,
        owner: str,
        *,
        event_status: str = "processed",
    ) -> None:
        """Store the reply, close the event and queue the delivery, in one transaction."""
        async with self.db.transaction() as session:
            if not await self.leases.holds(session, lease_key, owner):
                raise LeaseLostError(f"turn lease {lease_key} lost before the reply was stored")
            answer, created = await conversation.append_message(
                session,
                conversation=state.conversation,
                direction="out",
                author="assistant",
                body=reply_text,
                reply_to_id=state.user_message_id,
                delivery_status="pending",
                meta=meta,
                now=self.clock.now(),
            )
            await channels.mark_processed(
                session,
                tenant_id=state.tenant_id,
                event_id=state.event_id,
                now=self.clock.now(),
                status=event_status,
            )
            if created:
                await self.queue.enqueue(
                    session,
                    DELIVER_JOB,
                    {
                        "tenant_id": state.tenant_id,
                        "message_id": answer.id,
                        "channel": state.channel,
                        "recipient": state.recipient,
                        "address": state.payload.get("from_raw"),
                        "reply_to_external_id": state.external_id,
                    },
                    idempotency_key=f"deliver:{answer.id}",
                )
        log.info("turn.replied", conversation_id=state.conversation_id, message_id=answer.id)

    async def _privacy_request(self, state: _TurnState, lease_key: str, owner: str) -> bool:
        """Handle "erase my data" in chat: ask to confirm, then erase; True when handled."""
        now = self.clock.now()
        pending = identity.erasure_pending(state.erasure_requested_at, now=now)
        if pending and confirms_erasure(state.text):
            await self._erase_on_request(state, lease_key, owner)
            return True
        asked = asks_for_erasure(state.text)
        if asked or pending:
            async with self.db.transaction() as session:
                await identity.set_erasure_request(
                    session,
                    tenant_id=state.tenant_id,
                    contact_id=state.contact_id,
                    at=now if asked else None,  # any other reply cancels a pending request
                )
        if not asked:
            return False
        text = fixed_reply("erasure_confirm", state.language)
        await self._finish_turn(
            state, text, {"model": "fixed", "language": state.language}, lease_key, owner
        )
        return True

    async def _profile_request(self, state: _TurnState) -> list[str]:
        """Apply "call me Ana" / "answer in English" to this contact only; the confirmations."""
        changes = profile_changes(state.text)
        if not changes:
            return []
        async with self.db.transaction() as session:
            contact = await identity.update_contact(
                session,
                tenant_id=state.tenant_id,
                contact_id=state.contact_id,
                changes=dict(changes),
                now=self.clock.now(),
            )
            if contact is None:
                return []
            state.contact = identity.contact_context(contact)
        state.language = preferred_language(state.contact.language) or state.language
        said = []
        if "display_name" in changes:
            said.append(
                fixed_reply("profile_name", state.language).format(name=changes["display_name"])
            )
        if "language" in changes:
            said.append(fixed_reply("profile_language", state.language))
        return said

    async def _erase_on_request(self, state: _TurnState, lease_key: str, owner: str) -> None:
        """Erase the contact everywhere; a farewell that keeps nothing is sent afterwards."""
        ref = ContactRef(
            tenant_id=state.tenant_id, contact_id=state.contact_id, address=state.recipient
        )
        async with self.db.transaction() as session:
            if not await self.leases.holds(session, lease_key, owner):
                raise LeaseLostError(f"turn lease {lease_key} lost before the erasure")
            removed, blob_keys = await self.privacy.erase(session, ref)
            await identity.record_erasure(
                session,
                tenant_id=state.tenant_id,
                contact_id=state.contact_id,
                requested_by="contact",
                removed=removed,
                now=self.clock.now(),
            )
            await self.queue.enqueue(
                session,
                NOTICE_JOB,
                {
                    "tenant_id": state.tenant_id,
                    "notice_id": new_id(),
                    "channel": state.channel,
                    "recipient": state.recipient,
                    "address": state.payload.get("from_raw"),
                    "body": fixed_reply("erasure_done", state.language),
                    "forget_when_done": True,
                },
                idempotency_key=f"erasure-notice:{state.event_id}",
            )
            if blob_keys:
                await self.queue.enqueue(
                    session,
                    DELETE_BLOBS_JOB,
                    {"tenant_id": state.tenant_id, "keys": blob_keys},
                    idempotency_key=f"erase-files:{state.event_id}",
                )
        log.info("privacy.erased_on_request", contact_id=state.contact_id, removed=removed)

    async def notify(self, payload: dict[str, Any], job: LeasedJob) -> None:
        """Send a one-off notice that is not part of any stored conversation."""
        del job
        channel = self.channels.get(str(payload["channel"]))
        if channel is None:
            raise PermanentJobError(f"channel {payload['channel']!r} is not configured")
        await channel.send(
            channels.Outbound(
                tenant_id=str(payload["tenant_id"]),
                message_id=str(payload["notice_id"]),
                recipient=str(payload["recipient"]),
                body=str(payload["body"]),
                reply_to_external_id=None,
                address=payload.get("address"),
                window_open=True,
            )
        )

    async def _fail_turn(
        self, event_id: str, tenant_id: str, lease_key: str, owner: str, error: Exception
    ) -> None:
        """Answer a message whose turn cannot succeed with a fixed reply; mark it failed."""
        try:
            state = await self._open_turn(event_id, tenant_id)
        except Exception:
            async with self.db.transaction() as session:
                await channels.mark_processed(
                    session,
                    tenant_id=tenant_id,
                    event_id=event_id,
                    now=self.clock.now(),
                    status="failed",
                )
            return
        meta = {"model": "fixed", "language": state.language, "error": repr(error)[:300]}
        await self._finish_turn(
            state,
            fixed_reply("turn_failed", state.language),
            meta,
            lease_key,
            owner,
            event_status="failed",
        )

    async def _reply_with_typing(self, turn: TurnInput, state: _TurnState) -> Reply:
        """The reply; if it is slow to come, the contact sees a typing indicator meanwhile."""
        pending = asyncio.ensure_future(self.reply_step.reply(turn))
        try:
            done, _ = await asyncio.wait({pending}, timeout=self.typing_after.total_seconds())
            channel = self.channels.get(state.channel)
            if not done and channel is not None:
                try:
                    await channel.typing(tenant_id=state.tenant_id, external_id=state.external_id)
                except Exception as exc:  # a typing bubble never blocks a reply
                    log.info("turn.typing_failed", error=repr(exc)[:200])
            return await pending
        finally:
            # A cancelled or failed turn must not leave the model call running on its own.
            pending.cancel()

    async def _read_attachments(
        self, state: _TurnState
    ) -> tuple[list[str], list[str], list[AttachmentInfo]]:
        """Fixed notes for unreadable files, transcripts of voice notes, and what was stored."""
        tenant_id, language = state.tenant_id, state.language
        channel = self.channels.get(state.channel)
        if channel is None or not state.payload.get("media"):
            return [], [], []
        results = await channel.attachments(
            tenant_id=tenant_id, event_id=state.event_id, payload=state.payload
        )
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
        except Snooze:
            raise
        except Exception as exc:
            if isinstance(exc, PermanentJobError) or job.attempts >= job.max_attempts:
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
