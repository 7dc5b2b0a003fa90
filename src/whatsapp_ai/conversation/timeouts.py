"""Timed transitions: idle, expiry, nobody took the handoff, the operator went quiet.

Each open conversation carries its next due time. The scheduler (one process, by its leader
lease) sweeps the due ones; each is re-read and locked in its own transaction and judged
again under the tenant's current policy, so a message or an operator action that arrived
meanwhile wins, and a policy change reschedules instead of firing early.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.conversation import service
from whatsapp_ai.conversation.errors import StaleConversationError
from whatsapp_ai.conversation.handoff import Handoff
from whatsapp_ai.conversation.lifecycle import Lifecycle, deadline, schedule
from whatsapp_ai.conversation.models import Conversation
from whatsapp_ai.conversation.notices import notice
from whatsapp_ai.conversation.policy import Policy
from whatsapp_ai.conversation.states import Actor, Status
from whatsapp_ai.core.db import Database, system_scope, tenant_scope
from whatsapp_ai.core.logging import get_logger

log = get_logger(__name__)


@dataclass
class Timeouts:
    """The sweep of due conversations."""

    db: Database
    lifecycle: Lifecycle
    handoff: Handoff
    batch: int = 200

    async def sweep(self) -> int:
        """Apply every due timer; how many conversations changed."""
        now = self.lifecycle.clock.now()
        with system_scope():
            async with self.db.read() as session:
                due = (
                    await session.execute(
                        select(Conversation.id, Conversation.tenant_id)
                        .where(Conversation.due_at <= now)
                        .order_by(Conversation.due_at)
                        .limit(self.batch)
                    )
                ).all()
        changed = 0
        for conversation_id, tenant_id in due:
            with tenant_scope(tenant_id):
                try:
                    changed += await self._fire(tenant_id, conversation_id)
                except StaleConversationError:
                    log.info("conversation.timer_raced", conversation_id=conversation_id)
                except Exception:
                    log.exception("conversation.timer_failed", conversation_id=conversation_id)
        return changed

    async def _fire(self, tenant_id: str, conversation_id: str) -> int:
        lifecycle = self.lifecycle
        async with self.db.transaction() as session:
            conversation = await service.get(
                session, tenant_id=tenant_id, conversation_id=conversation_id, lock=True
            )
            now = lifecycle.clock.now()
            if conversation is None or conversation.due_at is None or conversation.due_at > now:
                return 0
            policy = await lifecycle.policy(session, tenant_id)
            when = deadline(conversation, policy)
            if when is None or when > now or conversation.due_action is None:
                # Activity or a new policy moved the deadline: wait for it instead.
                schedule(conversation, policy)
                await lifecycle.touch(session, conversation)
                return 0
            status = Status(conversation.status)
            if status == Status.ACTIVE:
                await lifecycle.move(
                    session,
                    conversation,
                    Status.IDLE,
                    Actor.SYSTEM,
                    reason=f"no message from the contact for {policy.idle_after_min:g} min",
                    policy=policy,
                )
            elif status == Status.IDLE:
                await lifecycle.move(
                    session,
                    conversation,
                    Status.EXPIRED,
                    Actor.SYSTEM,
                    reason=f"idle for {policy.close_after_min:g} more min",
                    policy=policy,
                )
            elif status == Status.WITH_HUMAN:
                await self.handoff.give_back(
                    session,
                    conversation,
                    Actor.SYSTEM,
                    reason=f"no operator activity for {policy.operator_idle_min:g} min",
                    policy=policy,
                )
            elif status == Status.WAITING_HUMAN:
                await self._nobody_came(session, conversation, policy)
            return 1

    async def _nobody_came(
        self, session: AsyncSession, conversation: Conversation, policy: Policy
    ) -> None:
        reason = f"no operator took it within {policy.human_wait_min:g} min"
        if policy.resume_on_wait_timeout:
            await self.handoff.give_back(
                session,
                conversation,
                Actor.SYSTEM,
                reason=reason,
                policy=policy,
                notice_kind="wait_timeout_resume",
            )
            return
        # The conversation stays in the queue; the contact hears once that it is still there.
        conversation.due_at = None
        conversation.due_action = None
        await self.lifecycle.touch(session, conversation)
        await self.lifecycle.say(
            session,
            conversation,
            notice("wait_timeout_keep", conversation.language),
            key=f"notice:wait:{conversation.version}",
            meta={"notice": "wait_timeout_keep"},
        )

    async def assign_waiting(self) -> int:
        """Give waiting conversations to operators who became free (auto-assign tenants)."""
        with system_scope():
            async with self.db.read() as session:
                waiting = (
                    await session.execute(
                        select(Conversation.id, Conversation.tenant_id)
                        .where(Conversation.status == Status.WAITING_HUMAN)
                        .order_by(Conversation.handoff_at, Conversation.id)
                        .limit(self.batch)
                    )
                ).all()
        assigned = 0
        full: set[str] = set()
        for conversation_id, tenant_id in waiting:
            if tenant_id in full:
                continue
            with tenant_scope(tenant_id):
                try:
                    result = await self._assign_one(tenant_id, conversation_id)
                except StaleConversationError:
                    continue
            if result is None:
                full.add(tenant_id)  # nobody free in this tenant: skip its other waiting ones
            assigned += int(bool(result))
        return assigned

    async def _assign_one(self, tenant_id: str, conversation_id: str) -> bool | None:
        """True: assigned; False: not applicable; None: no operator free in the tenant."""
        async with self.db.transaction() as session:
            conversation = await service.get(
                session, tenant_id=tenant_id, conversation_id=conversation_id, lock=True
            )
            if conversation is None or conversation.status != Status.WAITING_HUMAN:
                return False
            policy = await self.lifecycle.policy(session, tenant_id)
            if not policy.auto_assign:
                return False
            operator = await self.handoff.next_free(session, tenant_id, policy)
            if operator is None:
                return None
            await self.handoff.hand_to(
                session,
                conversation,
                operator.user_id,
                operator.name,
                Actor.SYSTEM,
                reason="given to the next free operator",
                policy=policy,
            )
            return True
