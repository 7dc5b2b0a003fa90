"""Storage and delivery of the inbound turn: the user's message in, the reply out.

Each write that answers the contact first checks the turn still holds its lease, and stores
the reply, closes the event and queues the delivery in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.ai import settings as assistant_settings
from whatsapp_ai.ai import traces
from whatsapp_ai.ai.language import conversation_language, preferred_language
from whatsapp_ai.ai.service import HistoryItem, fixed_reply
from whatsapp_ai.billing import service as billing
from whatsapp_ai.channels import service as channels
from whatsapp_ai.conversation import service as conversation
from whatsapp_ai.conversation.handoff import Handoff
from whatsapp_ai.conversation.lifecycle import Lifecycle, schedule
from whatsapp_ai.conversation.models import Conversation, Message
from whatsapp_ai.conversation.notices import notice, took_over
from whatsapp_ai.conversation.outbox import queue_delivery
from whatsapp_ai.conversation.policy import Policy
from whatsapp_ai.conversation.states import Actor, Status
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.db import Database
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.leases import Leases
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.privacy import DELETE_BLOBS_JOB, ContactRef, PrivacyRegistry
from whatsapp_ai.core.queue import PermanentJobError, Queue
from whatsapp_ai.identity import service as identity
from whatsapp_ai.outbound import NOTICE_JOB
from whatsapp_ai.turn import (
    Answer,
    Close,
    Context,
    CountUnresolved,
    HandOff,
    LeaseLostError,
    Said,
    Then,
    Turn,
    burst_text,
)

log = get_logger(__name__)


@dataclass
class TurnStore:
    """The turn's reads and writes, each in its own transaction."""

    db: Database
    clock: Clock
    queue: Queue
    leases: Leases
    privacy: PrivacyRegistry
    lifecycle: Lifecycle
    handoff: Handoff
    history_turns: int
    meter: billing.Meter | None = None

    async def open(self, turn: Turn) -> Context:
        """Store the user's messages in their conversation and gather what the reply needs."""
        now = self.clock.now()
        tenant_id = turn.tenant_id
        async with self.db.transaction() as session:
            tenant = await identity.get_tenant(session, tenant_id=tenant_id)
            events = [
                await channels.get_event(session, tenant_id=tenant_id, event_id=event_id)
                for event_id in turn.event_ids
            ]
            present = [event for event in events if event is not None]
            if tenant is None or len(present) != len(events):
                raise PermanentJobError(f"event {turn.event_id} or its tenant is gone")
            first, last = present[0], present[-1]
            contact = await identity.get_or_create_contact(
                session,
                tenant_id=tenant_id,
                address=first.sender,
                profile_name=last.profile_name,
                now=now,
            )
            thread, opened = await conversation.get_or_open(
                session, tenant_id=tenant_id, contact_id=contact.id, channel=first.channel, now=now
            )
            said: list[Said] = []
            new_messages: list[Message] = []
            for event in present:
                user_message, created = await conversation.append_message(
                    session,
                    conversation=thread,
                    direction="in",
                    author="user",
                    body=event.body,
                    source_event_id=event.id,
                    now=now,
                )
                said.append(
                    Said(event.id, event.external_id, event.payload, event.body, user_message.id)
                )
                if created:
                    new_messages.append(user_message)
            text = burst_text([part.text for part in said]) if len(said) > 1 else first.body
            earlier = await self._history(session, thread, exclude={s.message_id for s in said})
            language = preferred_language(contact.language) or conversation_language(
                text, [h.body for h in earlier]
            )
            policy = await self.lifecycle.policy(session, tenant_id)
            if new_messages:
                await self._user_wrote(session, thread, last.payload, language, policy, opened)
                for user_message in new_messages:
                    self.lifecycle.emit_message(session, user_message)
            return Context(
                turn=turn,
                tenant_name=tenant.name,
                external_id=last.external_id,
                channel=first.channel,
                payload=last.payload,
                text=text,
                messages=said,
                contact_id=contact.id,
                contact=identity.contact_context(contact),
                recipient=contact.address,
                conversation_id=thread.id,
                status=Status(thread.status),
                policy=policy,
                user_message_id=said[0].message_id,
                earlier=earlier,
                erasure_requested_at=contact.erasure_requested_at,
                language=language,
                contact_since=contact.created_at,
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
        self, session: AsyncSession, thread: Conversation, *, exclude: set[str]
    ) -> list[HistoryItem]:
        """The recent messages the assistant sees; a conversation that continues an ended one
        starts with that one's last messages."""
        limit = self.history_turns + len(exclude)
        rows = await conversation.recent_messages(
            session, tenant_id=thread.tenant_id, conversation_id=thread.id, limit=limit
        )
        rows = [m for m in rows if m.id not in exclude]
        if thread.previous_id and len(rows) < self.history_turns:
            before = await conversation.recent_messages(
                session,
                tenant_id=thread.tenant_id,
                conversation_id=thread.previous_id,
                limit=self.history_turns - len(rows),
            )
            rows = [*before, *rows]
        return [HistoryItem(author=m.author, body=m.body) for m in rows]  # type: ignore[arg-type]

    async def _hold(self, session: AsyncSession, turn: Turn, before: str) -> None:
        """LeaseLostError unless the turn still holds its lease (checked inside the write)."""
        if not await self.leases.holds(session, turn.lease_key, turn.owner):
            raise LeaseLostError(f"turn lease {turn.lease_key} lost before {before}")

    async def finish(self, context: Context, answer: Answer) -> None:
        """Store the reply, close the event and queue the delivery, in one transaction; what
        the answer changes in the conversation is done in the same transaction."""
        reply_text = answer.text
        meta = dict(answer.meta)
        async with self.db.transaction() as session:
            await self._hold(session, context.turn, "the reply was stored")
            thread = await conversation.get(
                session,
                tenant_id=context.tenant_id,
                conversation_id=context.conversation_id,
                lock=True,
            )
            if thread is None:
                raise PermanentJobError(f"conversation {context.conversation_id} is gone")
            if (
                answer.quiet_unless_active
                and thread.status != Status.ACTIVE
                and reply_text is not None
            ):
                log.info("turn.reply_dropped", conversation_id=thread.id, status=thread.status)
                reply_text = None
            if reply_text is not None and answer.then is not None:
                extra = await self._then(session, thread, answer.then, context.policy)
                reply_text = "\n\n".join(part for part in (reply_text, extra) if part)
            for event_id in context.turn.event_ids:
                await channels.mark_processed(
                    session,
                    tenant_id=context.tenant_id,
                    event_id=event_id,
                    now=self.clock.now(),
                    status=answer.event_status,
                )
            if context.reservation is not None and self.meter is not None:
                # The message counts once its reply is stored (a dropped reply spends nothing).
                await self.meter.settle(
                    session,
                    tenant_id=context.tenant_id,
                    key=context.reservation,
                    actual=0 if reply_text is None else 1,
                )
            if reply_text is None:
                return
            trace = meta.pop("trace", None)
            # Every message the reply answers (several when they came in a burst).
            meta["answers"] = context.message_ids
            if trace:
                trace = {**trace, "answers": context.message_ids}
            reply, created = await conversation.append_message(
                session,
                conversation=thread,
                direction="out",
                author="assistant",
                body=reply_text,
                reply_to_id=context.user_message_id,
                delivery_status="pending",
                meta=meta,
                now=self.clock.now(),
            )
            if created:
                await queue_delivery(
                    session,
                    self.queue,
                    message=reply,
                    channel=context.channel,
                    recipient=context.recipient,
                    address=context.payload.get("from_raw"),
                    reply_to_external_id=context.external_id,
                )
                self.lifecycle.emit_message(session, reply)
                if trace:
                    await traces.record(
                        session,
                        tenant_id=context.tenant_id,
                        conversation_id=thread.id,
                        contact_id=context.contact_id,
                        message_id=reply.id,
                        model=str(meta.get("model", "")),
                        trace=trace,
                        now=self.clock.now(),
                    )
        log.info("turn.replied", conversation_id=context.conversation_id, message_id=reply.id)

    async def _then(
        self, session: AsyncSession, thread: Conversation, then: Then, policy: Policy
    ) -> str:
        """Change the conversation as the reply is stored (under the tenant's policy read when
        the turn opened); the text to add to the reply."""
        match then:
            case Close():
                await self.lifecycle.move(
                    session,
                    thread,
                    Status.CLOSED,
                    Actor.USER,
                    reason="the contact said goodbye",
                    policy=policy,
                )
                return ""
            case HandOff():
                return await self._hand_off(session, thread, then, policy)
            case CountUnresolved():
                return await self._count_unresolved(session, thread, then, policy)

    async def _hand_off(
        self, session: AsyncSession, thread: Conversation, step: HandOff, policy: Policy
    ) -> str:
        """Put the conversation in the operators' queue; tell the contact, and who took it
        when an operator is free at once."""
        if step.only_if_staffed:
            operators = await self.handoff.operators(session, thread.tenant_id)
            if not any(operator.available for operator in operators):
                log.info("turn.handoff_skipped", reason=step.reason, why="no operator available")
                return ""
        name = await self.handoff.request(
            session, thread, step.actor, reason=step.reason, policy=policy, announce=False
        )
        said = [notice(step.notice, thread.language)]
        if thread.status == Status.WITH_HUMAN:
            said.append(took_over(thread.language, name))
        return "\n\n".join(said)

    async def _count_unresolved(
        self, session: AsyncSession, thread: Conversation, step: CountUnresolved, policy: Policy
    ) -> str:
        """Count replies in a row that could not help; at the tenant's limit, call a person."""
        if step.resolved:
            thread.unresolved = 0
            await self.lifecycle.touch(session, thread)
            return ""
        thread.unresolved = (thread.unresolved or 0) + 1
        await self.lifecycle.touch(session, thread)
        if thread.unresolved < policy.handoff_after_failures:
            return ""
        return await self._hand_off(
            session,
            thread,
            HandOff(Actor.ASSISTANT, step.reason, "handoff_assistant", only_if_staffed=True),
            policy,
        )

    async def reserve_message(self, context: Context) -> str | None:
        """Hold one message of the plan's quota for this turn; the feature that is used up
        when none is left (nothing is held then)."""
        if self.meter is None:
            return None
        key = f"turn:{context.event_id}"
        try:
            async with self.db.transaction() as session:
                await self._count_new_contact(session, context)
                await self.meter.reserve(
                    session,
                    tenant_id=context.tenant_id,
                    feature=billing.MESSAGES,
                    quantity=1,
                    key=key,
                )
        except billing.QuotaExceededError as exc:
            return exc.feature
        context.reservation = key
        return None

    async def _count_new_contact(self, session: AsyncSession, context: Context) -> None:
        """Count a contact who first wrote in this billing period in the plan's contacts
        quota, once (QuotaExceededError when the period has no room for one more)."""
        assert self.meter is not None
        if context.contact_since is None:
            return
        rights = await billing.entitlements(
            session, tenant_id=context.tenant_id, now=self.clock.now()
        )
        if rights.quota(billing.CONTACTS) is None or context.contact_since < rights.period_start:
            return
        await self.meter.consume(
            session,
            tenant_id=context.tenant_id,
            feature=billing.CONTACTS,
            quantity=1,
            key=f"contact:{context.contact_id}",
        )

    async def release_message(self, context: Context) -> None:
        """Give back the turn's message reservation (the turn failed for good)."""
        if self.meter is None or context.reservation is None:
            return
        async with self.db.transaction() as session:
            await self.meter.release(session, tenant_id=context.tenant_id, key=context.reservation)
        context.reservation = None

    async def mark_failed(self, turn: Turn) -> None:
        """Close the events of a turn that could not even be opened."""
        async with self.db.transaction() as session:
            for event_id in turn.event_ids:
                await channels.mark_processed(
                    session,
                    tenant_id=turn.tenant_id,
                    event_id=event_id,
                    now=self.clock.now(),
                    status="failed",
                )

    async def remember_erasure_request(self, context: Context, *, at: datetime | None) -> None:
        """Remember (or, with None, forget) that the contact asked in chat to be erased."""
        async with self.db.transaction() as session:
            await identity.set_erasure_request(
                session, tenant_id=context.tenant_id, contact_id=context.contact_id, at=at
            )

    async def erase(self, context: Context) -> None:
        """Erase the contact everywhere; a farewell that keeps nothing is sent afterwards."""
        ref = ContactRef(
            tenant_id=context.tenant_id, contact_id=context.contact_id, address=context.recipient
        )
        async with self.db.transaction() as session:
            await self._hold(session, context.turn, "the erasure")
            removed, blob_keys = await self.privacy.erase(session, ref)
            await identity.record_erasure(
                session,
                tenant_id=context.tenant_id,
                contact_id=context.contact_id,
                requested_by="contact",
                removed=removed,
                now=self.clock.now(),
            )
            await self.queue.enqueue(
                session,
                NOTICE_JOB,
                {
                    "tenant_id": context.tenant_id,
                    "notice_id": new_id(),
                    "channel": context.channel,
                    "recipient": context.recipient,
                    "address": context.payload.get("from_raw"),
                    "body": fixed_reply("erasure_done", context.language),
                    "forget_when_done": True,
                },
                idempotency_key=f"erasure-notice:{context.event_id}",
            )
            if blob_keys:
                await self.queue.enqueue(
                    session,
                    DELETE_BLOBS_JOB,
                    {"tenant_id": context.tenant_id, "keys": blob_keys},
                    idempotency_key=f"erase-files:{context.event_id}",
                )
        log.info("privacy.erased_on_request", contact_id=context.contact_id, removed=removed)

    async def update_profile(self, context: Context, changes: dict[str, str]) -> bool:
        """Apply the contact's profile changes to them only; False when they are gone (or the
        tenant switched the profile agent off)."""
        async with self.db.transaction() as session:
            on = await assistant_settings.agent_enabled(
                session, tenant_id=context.tenant_id, agent="profile"
            )
            if not on:
                return False
            contact = await identity.update_contact(
                session,
                tenant_id=context.tenant_id,
                contact_id=context.contact_id,
                changes=dict(changes),
                now=self.clock.now(),
            )
            if contact is None:
                return False
            context.contact = identity.contact_context(contact)
        context.language = preferred_language(context.contact.language) or context.language
        return True

    async def set_transcript(self, context: Context, *, media_id: str, transcript: str) -> None:
        """Keep what a voice note said beside the stored file."""
        async with self.db.transaction() as session:
            await channels.set_transcript(
                session, tenant_id=context.tenant_id, media_id=media_id, transcript=transcript
            )
