"""Moving conversations through their states: validated, versioned, audited and announced.

Every change of state goes through :meth:`Lifecycle.move` inside the caller's transaction:
the state machine allows it or not, the row's version guards against a concurrent change,
an audit row records it, the next timer is set, and an event goes out once it commits.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from whatsapp_ai.conversation import policy as policies
from whatsapp_ai.conversation import service
from whatsapp_ai.conversation.errors import StaleConversationError
from whatsapp_ai.conversation.models import Conversation, Message, Transition
from whatsapp_ai.conversation.outbox import queue_delivery
from whatsapp_ai.conversation.policy import Policy
from whatsapp_ai.conversation.states import ENDED, HUMAN, Actor, Status, check
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.db import after_commit
from whatsapp_ai.core.events import Event, EventBus
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.queue import Queue
from whatsapp_ai.identity import service as identity

log = get_logger(__name__)


# The timer each state runs, and the moment it starts counting from.
TIMERS = {
    Status.ACTIVE: "idle",
    Status.IDLE: "expire",
    Status.WAITING_HUMAN: "wait",
    Status.WITH_HUMAN: "operator",
}


def deadline(conversation: Conversation, policy: Policy) -> datetime | None:
    """When the current state's timer fires under ``policy`` (None: no timer runs)."""
    changed = conversation.state_changed_at or conversation.opened_at
    status = conversation.status
    if status == Status.ACTIVE:
        return max(changed, conversation.last_user_at or changed) + policy.idle_after
    if status == Status.IDLE:
        return changed + policy.close_after
    if status == Status.WAITING_HUMAN:
        return (conversation.handoff_at or changed) + policy.human_wait
    if status == Status.WITH_HUMAN:
        return max(changed, conversation.last_operator_at or changed) + policy.operator_idle
    return None


def schedule(conversation: Conversation, policy: Policy) -> None:
    """Set the conversation's next timed transition from its state and the policy."""
    conversation.due_at = deadline(conversation, policy)
    conversation.due_action = TIMERS.get(Status(conversation.status))


@dataclass
class Lifecycle:
    """The state changes of conversations, and what the contact and the console learn of them."""

    clock: Clock
    queue: Queue
    bus: EventBus
    defaults: Policy
    _publishing: set[asyncio.Task[None]] = field(default_factory=set)

    async def policy(self, session: AsyncSession, tenant_id: str) -> Policy:
        """The tenant's conversation policy."""
        return await policies.load(session, tenant_id=tenant_id, defaults=self.defaults)

    async def move(
        self,
        session: AsyncSession,
        conversation: Conversation,
        to: Status,
        actor: Actor,
        *,
        reason: str,
        actor_id: str | None = None,
        assignee_id: str | None = None,
        expected_version: int | None = None,
        policy: Policy | None = None,
    ) -> Transition:
        """Change the state (TransitionError if not allowed; StaleConversationError on a race)."""
        if expected_version is not None and conversation.version != expected_version:
            raise StaleConversationError(
                f"the conversation is at version {conversation.version}, not {expected_version}"
            )
        source, dest, who = check(conversation.status, to, actor)
        policy = policy or await self.policy(session, conversation.tenant_id)
        now = self.clock.now()
        conversation.status = dest
        conversation.state_changed_at = now
        if dest == Status.WAITING_HUMAN:
            conversation.handoff_reason = reason[:300]
            conversation.handoff_at = now
            conversation.assignee_id = None
        elif dest == Status.WITH_HUMAN:
            conversation.assignee_id = assignee_id
            conversation.last_operator_at = now
            conversation.handoff_at = conversation.handoff_at or now
        elif dest == Status.ACTIVE:
            conversation.assignee_id = None
            conversation.handoff_reason = None
            conversation.handoff_at = None
            conversation.unresolved = 0
        if dest in ENDED:
            conversation.assignee_id = None
            conversation.closed_by = who
            conversation.close_reason = reason[:300]
            conversation.closed_at = now
        elif source in ENDED:
            conversation.closed_by = conversation.close_reason = conversation.closed_at = None
        schedule(conversation, policy)
        try:
            await session.flush()
        except StaleDataError as exc:
            raise StaleConversationError("the conversation changed meanwhile") from exc
        transition = Transition(
            id=new_id(),
            tenant_id=conversation.tenant_id,
            conversation_id=conversation.id,
            from_status=source,
            to_status=dest,
            actor=who,
            actor_id=actor_id,
            reason=reason[:300],
            version=conversation.version,
            at=now,
        )
        session.add(transition)
        self.emit(
            session,
            conversation,
            "conversation.transitioned",
            {
                "from": source.value,
                "to": dest.value,
                "actor": who.value,
                "reason": transition.reason,
                "assignee_id": conversation.assignee_id,
                "version": conversation.version,
            },
        )
        log.info(
            "conversation.transitioned",
            conversation_id=conversation.id,
            source=source.value,
            dest=dest.value,
            actor=who.value,
        )
        return transition

    async def revive(
        self, session: AsyncSession, conversation: Conversation, *, reason: str
    ) -> Transition | None:
        """Bring a conversation that failed for want of delivery back to where it was, once its
        message got through after all; None when it is not failed or the contact has a newer
        conversation (which then carries on alone)."""
        if conversation.status != Status.FAILED:
            return None
        newer = await session.scalar(
            select(Conversation.id)
            .where(
                Conversation.tenant_id == conversation.tenant_id,
                Conversation.contact_id == conversation.contact_id,
                Conversation.id > conversation.id,
            )
            .limit(1)
        )
        if newer is not None:
            return None
        before = await session.scalar(
            select(Transition.from_status)
            .where(
                Transition.tenant_id == conversation.tenant_id,
                Transition.conversation_id == conversation.id,
                Transition.to_status == Status.FAILED,
            )
            .order_by(Transition.id.desc())
            .limit(1)
        )
        # The operator who had it was let go when it failed: it waits for one again.
        target = Status.WAITING_HUMAN if before in HUMAN else Status.ACTIVE
        return await self.move(session, conversation, target, Actor.SYSTEM, reason=reason)

    async def touch(self, session: AsyncSession, conversation: Conversation) -> None:
        """Save changes to the conversation that are not a change of state (version-checked)."""
        try:
            await session.flush()
        except StaleDataError as exc:
            raise StaleConversationError("the conversation changed meanwhile") from exc

    async def say(
        self,
        session: AsyncSession,
        conversation: Conversation,
        text: str,
        *,
        key: str,
        author: str = "assistant",
        author_id: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Message:
        """Store an outbound message once per ``key`` and queue its delivery to the contact."""
        contact = await identity.get_contact(
            session, tenant_id=conversation.tenant_id, contact_id=conversation.contact_id
        )
        if contact is None:
            raise LookupError(f"contact {conversation.contact_id} is gone")
        message, created = await service.append_message(
            session,
            conversation=conversation,
            direction="out",
            author=author,
            author_id=author_id,
            body=text,
            client_key=key,
            delivery_status="pending",
            meta=meta or {},
            now=self.clock.now(),
        )
        if created:
            await queue_delivery(
                session,
                self.queue,
                message=message,
                channel=conversation.channel,
                recipient=contact.address,
                address=conversation.reply_address,
            )
            self.emit_message(session, message)
        return message

    def emit_message(self, session: AsyncSession, message: Message) -> None:
        """Announce a stored message (ids and author only; the console fetches the text)."""
        self.emit_raw(
            session,
            Event(
                tenant_id=message.tenant_id,
                kind="message.created",
                data={
                    "conversation_id": message.conversation_id,
                    "message_id": message.id,
                    "direction": message.direction,
                    "author": message.author,
                },
            ),
        )

    def emit(
        self, session: AsyncSession, conversation: Conversation, kind: str, data: dict[str, Any]
    ) -> None:
        """Announce a conversation event once the transaction commits."""
        payload = {
            "conversation_id": conversation.id,
            "contact_id": conversation.contact_id,
            "status": conversation.status,
            **data,
        }
        self.emit_raw(session, Event(tenant_id=conversation.tenant_id, kind=kind, data=payload))

    def emit_raw(self, session: AsyncSession, event: Event) -> None:
        """Publish ``event`` after commit, without ever failing or slowing the transaction."""
        after_commit(session, lambda: self._spawn(event))

    def _spawn(self, event: Event) -> None:
        task = asyncio.get_running_loop().create_task(self._publish(event))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def _publish(self, event: Event) -> None:
        try:
            await self.bus.publish(event)
        except Exception as exc:  # the console misses a live update; nothing is lost
            log.warning("events.publish_failed", kind=event.kind, error=repr(exc)[:200])

    async def flush_events(self) -> None:
        """Wait for the events being published (tests and shutdown)."""
        while self._publishing:
            await asyncio.gather(*list(self._publishing), return_exceptions=True)
