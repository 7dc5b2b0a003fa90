"""Job handlers that walk a message through the modules (DESIGN.md section 2)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.ai import traces
from whatsapp_ai.ai.closing import wants_to_close
from whatsapp_ai.ai.handoff import accepts_offer, asks_for_human, mentions_topic
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
from whatsapp_ai.conversation.handoff import Handoff
from whatsapp_ai.conversation.lifecycle import Lifecycle, schedule
from whatsapp_ai.conversation.models import Conversation
from whatsapp_ai.conversation.notices import notice, took_over
from whatsapp_ai.conversation.outbox import DELIVER_JOB, queue_delivery
from whatsapp_ai.conversation.policy import Policy
from whatsapp_ai.conversation.states import HUMAN, Actor, Status
from whatsapp_ai.core.blobs import BlobStore
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.db import Database, tenant_scope
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.leases import Leases
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.privacy import DELETE_BLOBS_JOB, ContactRef, PrivacyRegistry
from whatsapp_ai.core.queue import Handler, LeasedJob, PermanentJobError, Queue, Snooze
from whatsapp_ai.identity import service as identity
from whatsapp_ai.outbound import NOTICE_JOB, Outbound

__all__ = ["DELIVER_JOB", "NOTICE_JOB", "LeaseLostError", "Pipeline"]

PROFILE_ONLY_WORDS = 8
TURN_BUSY_RETRY = timedelta(milliseconds=500)
MAX_TURNS_PER_JOB = 50

log = get_logger(__name__)

# Work done inside the transaction that stores the reply; returns text to add to the reply.
InReply = Callable[[AsyncSession, Conversation], Awaitable[str]]


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
    status: Status
    policy: Policy
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
    lifecycle: Lifecycle
    handoff: Handoff
    turn_lease: timedelta
    history_turns: int
    typing_after: timedelta = timedelta(seconds=1)

    @property
    def outbound(self) -> Outbound:
        """The sending side of the path."""
        return Outbound(self.db, self.clock, self.blobs, self.lifecycle, self.channels)

    def handlers(self) -> dict[str, Handler]:
        """Job kind → handler."""
        handlers: dict[str, Handler] = {
            channels.INBOUND_JOB: self.handle_inbound,
            **self.outbound.handlers(),
        }
        return {kind: _in_tenant_scope(handler) for kind, handler in handlers.items()}

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
        if state.status in HUMAN:
            # A person has (or is about to have) this conversation: the assistant stays quiet.
            await self._finish_turn(state, None, {}, lease_key, owner)
            return
        fixed = {"model": "fixed", "language": state.language}
        if wants_to_close(state.text):
            await self._finish_turn(
                state, notice("farewell", state.language), fixed, lease_key, owner,
                in_reply=self._close_by_user,
            )  # fmt: skip
            return
        handoff = self._handoff_asked(state)
        if handoff is not None:
            await self._finish_turn(state, "", fixed, lease_key, owner, in_reply=handoff)
            return
        confirmations = await self._profile_request(state)
        if confirmations and len(state.text.split()) <= PROFILE_ONLY_WORDS:
            # The message was only the request: the confirmation is the whole answer.
            reply_text, meta, in_reply = "\n\n".join(confirmations), fixed, None
        else:
            reply_text, meta, in_reply = await self._compose(state)
            reply_text = "\n\n".join([*confirmations, reply_text])
        await self._finish_turn(state, reply_text, meta, lease_key, owner, in_reply=in_reply)

    def _handoff_asked(self, state: _TurnState) -> InReply | None:
        """A handoff the message itself calls for: the contact asks, or a human-only topic."""
        if asks_for_human(state.text):
            return self._hand_off(Actor.USER, "the contact asked for a person", "handoff_requested")
        last = state.earlier[-1] if state.earlier else None
        if last is not None and last.author == "assistant" and accepts_offer(last.body, state.text):
            return self._hand_off(
                Actor.USER, "the contact accepted the offer of a person", "handoff_requested"
            )
        topic = mentions_topic(state.text, state.policy.human_only_topics)
        if topic is not None:
            return self._hand_off(Actor.ASSISTANT, f"human-only topic: {topic}", "handoff_topic")
        return None

    def _hand_off(
        self, actor: Actor, reason: str, notice_kind: str, *, only_if_staffed: bool = False
    ) -> InReply:
        """Put the conversation in the operators' queue as the reply is stored; tell the
        contact, and who took it when an operator is free at once. ``only_if_staffed``: the
        assistant's own call, made only when some operator is available to answer."""

        async def run(session: AsyncSession, thread: Conversation) -> str:
            if only_if_staffed:
                operators = await self.handoff.operators(session, thread.tenant_id)
                if not any(operator.available for operator in operators):
                    log.info("turn.handoff_skipped", reason=reason, why="no operator available")
                    return ""
            policy = await self.lifecycle.policy(session, thread.tenant_id)
            name = await self.handoff.request(
                session, thread, actor, reason=reason, policy=policy, announce=False
            )
            said = [notice(notice_kind, thread.language)]
            if thread.status == Status.WITH_HUMAN:
                said.append(took_over(thread.language, name))
            return "\n\n".join(said)

        return run

    async def _close_by_user(self, session: AsyncSession, thread: Conversation) -> str:
        await self.lifecycle.move(
            session, thread, Status.CLOSED, Actor.USER, reason="the contact said goodbye"
        )
        return ""

    def _count_unresolved(self, resolved: bool, reason: str) -> InReply:
        """Keep count of replies in a row the assistant could not give; at the tenant's limit,
        call a person."""

        async def run(session: AsyncSession, thread: Conversation) -> str:
            if resolved:
                thread.unresolved = 0
                await self.lifecycle.touch(session, thread)
                return ""
            thread.unresolved = (thread.unresolved or 0) + 1
            await self.lifecycle.touch(session, thread)
            policy = await self.lifecycle.policy(session, thread.tenant_id)
            if thread.unresolved < policy.handoff_after_failures:
                return ""
            hand_off = self._hand_off(
                Actor.ASSISTANT, reason, "handoff_assistant", only_if_staffed=True
            )
            return await hand_off(session, thread)

        return run

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
            thread, opened = await conversation.get_or_open(
                session, tenant_id=tenant_id, contact_id=contact.id, channel=event.channel, now=now
            )
            user_message, created = await conversation.append_message(
                session,
                conversation=thread,
                direction="in",
                author="user",
                body=event.body,
                source_event_id=event.id,
                now=now,
            )
            earlier = await self._history(session, thread, exclude=user_message.id)
            language = preferred_language(contact.language) or conversation_language(
                event.body, [h.body for h in earlier]
            )
            policy = await self.lifecycle.policy(session, tenant_id)
            if created:
                await self._user_wrote(session, thread, event.payload, language, policy, opened)
                self.lifecycle.emit_message(session, user_message)
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
                status=Status(thread.status),
                policy=policy,
                user_message_id=user_message.id,
                earlier=earlier,
                erasure_requested_at=contact.erasure_requested_at,
                language=language,
            )

    async def _user_wrote(
        self,
        session: AsyncSession,
        thread: Conversation,
        payload: dict[str, Any],
        language: str,
        policy: Policy,
        opened: bool,
    ) -> None:
        """What a new message from the contact changes: an idle conversation is active again,
        the silence timer restarts, and replies go to the address they wrote from."""
        thread.last_user_at = self.clock.now()
        thread.language = language
        thread.reply_address = payload.get("from_raw") or thread.reply_address
        if thread.status == Status.IDLE:
            await self.lifecycle.move(
                session, thread, Status.ACTIVE, Actor.USER, reason="the contact wrote again",
                policy=policy,
            )  # fmt: skip
        elif thread.status == Status.ACTIVE:
            schedule(thread, policy)
        await self.lifecycle.touch(session, thread)
        if opened:
            self.lifecycle.emit(
                session, thread, "conversation.opened", {"previous_id": thread.previous_id}
            )

    async def _history(
        self, session: AsyncSession, thread: Conversation, *, exclude: str
    ) -> list[HistoryItem]:
        """The recent messages the assistant sees; a conversation that continues an ended one
        starts with that one's last messages."""
        limit = self.history_turns + 1
        rows = await conversation.recent_messages(
            session, tenant_id=thread.tenant_id, conversation_id=thread.id, limit=limit
        )
        rows = [m for m in rows if m.id != exclude]
        if thread.previous_id and len(rows) < self.history_turns:
            before = await conversation.recent_messages(
                session,
                tenant_id=thread.tenant_id,
                conversation_id=thread.previous_id,
                limit=self.history_turns - len(rows),
            )
            rows = [*before, *rows]
        return [HistoryItem(author=m.author, body=m.body) for m in rows]  # type: ignore[arg-type]

    async def _compose(self, state: _TurnState) -> tuple[str, dict[str, Any], InReply | None]:
        """The reply text: fixed notes for unreadable files, then the reply step's answer."""
        notes, heard, files = await self._read_attachments(state)
        full_text = "\n".join(part for part in (state.text, *heard) if part.strip())
        if not full_text.strip() and not files and not notes:
            # Nothing the assistant can read (an unsupported message type, an empty body).
            notes = [fixed_reply("unsupported_message", state.language)]
        if not full_text.strip() and (notes or not files):
            return "\n\n".join(notes), {"model": "fixed", "language": state.language}, None
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
            message_id=state.user_message_id,
            now=self.clock.now(),
        )
        reply = await self._reply_with_typing(turn, state)
        meta: dict[str, Any] = {"model": reply.model, "language": reply.language}
        if reply.trace is not None:
            meta["trace"] = reply.trace
        text = "\n\n".join([*notes, reply.text])
        if reply.handoff:
            hand_off = self._hand_off(
                Actor.ASSISTANT, reply.handoff, "handoff_assistant", only_if_staffed=True
            )
            return text, meta, hand_off
        reason = f"{state.policy.handoff_after_failures} replies in a row could not help"
        return text, meta, self._count_unresolved(reply.resolved, reason)

    async def _finish_turn(
        self,
        state: _TurnState,
        reply_text: str | None,
        meta: dict[str, Any],
        lease_key: str,
        owner: str,
        *,
        event_status: str = "processed",
        in_reply: InReply | None = None,
        quiet_unless_active: bool = True,
    ) -> None:
        """Store the reply, close the event and queue the delivery, in one transaction.

        ``reply_text`` None: the message is kept without a reply (a person has the
        conversation). If a person took the conversation, or it ended, while the reply was
        being made, the reply is dropped the same way (``quiet_unless_active``).
        """
        async with self.db.transaction() as session:
            if not await self.leases.holds(session, lease_key, owner):
                raise LeaseLostError(f"turn lease {lease_key} lost before the reply was stored")
            thread = await conversation.get(
                session, tenant_id=state.tenant_id, conversation_id=state.conversation_id, lock=True
            )
            if thread is None:
                raise PermanentJobError(f"conversation {state.conversation_id} is gone")
            if quiet_unless_active and thread.status != Status.ACTIVE and reply_text is not None:
                log.info("turn.reply_dropped", conversation_id=thread.id, status=thread.status)
                reply_text = None
            if reply_text is not None and in_reply is not None:
                extra = await in_reply(session, thread)
                reply_text = "\n\n".join(part for part in (reply_text, extra) if part)
            await channels.mark_processed(
                session,
                tenant_id=state.tenant_id,
                event_id=state.event_id,
                now=self.clock.now(),
                status=event_status,
            )
            if reply_text is None:
                return
            trace = meta.pop("trace", None)
            answer, created = await conversation.append_message(
                session,
                conversation=thread,
                direction="out",
                author="assistant",
                body=reply_text,
                reply_to_id=state.user_message_id,
                delivery_status="pending",
                meta=meta,
                now=self.clock.now(),
            )
            if created:
                await queue_delivery(
                    session,
                    self.queue,
                    message=answer,
                    channel=state.channel,
                    recipient=state.recipient,
                    address=state.payload.get("from_raw"),
                    reply_to_external_id=state.external_id,
                )
                self.lifecycle.emit_message(session, answer)
                if trace:
                    await traces.record(
                        session,
                        tenant_id=state.tenant_id,
                        conversation_id=thread.id,
                        contact_id=state.contact_id,
                        message_id=answer.id,
                        model=str(meta.get("model", "")),
                        trace=trace,
                        now=self.clock.now(),
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
            state,
            text,
            {"model": "fixed", "language": state.language},
            lease_key,
            owner,
            quiet_unless_active=False,
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
        if "timezone" in changes:
            place = changes["timezone"].rsplit("/", 1)[-1].replace("_", " ")
            said.append(fixed_reply("profile_timezone", state.language).format(zone=place))
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
            in_reply=self._count_unresolved(
                False, f"{state.policy.handoff_after_failures} turns in a row failed"
            ),
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
