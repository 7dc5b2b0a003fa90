"""Human handoff: calling a person, giving conversations to operators, and handing them back.

Operators are the tenant's users with the operator or admin role. A conversation goes to a
chosen operator or to the next free one in turn (round-robin by last assignment), never past
the tenant's limit of open conversations per operator: the operator's row is locked while the
limit is checked, so two concurrent assignments cannot both take the last place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.conversation.errors import (
    NoOperatorFreeError,
    OperatorError,
    OperatorNotFoundError,
    StaleConversationError,
    TransitionError,
)
from whatsapp_ai.conversation.lifecycle import Lifecycle, schedule
from whatsapp_ai.conversation.models import Conversation, Message, OperatorState
from whatsapp_ai.conversation.notices import notice, took_over
from whatsapp_ai.conversation.policy import Policy
from whatsapp_ai.conversation.states import ENDED, Actor, Status
from whatsapp_ai.core.db import insert_ignore
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.identity import service as identity

OPERATOR_ROLES = ("operator", "admin")


@dataclass(frozen=True)
class OperatorLoad:
    """An operator, whether they take new conversations, and how many they hold."""

    user_id: str
    name: str
    role: str
    available: bool
    open_conversations: int
    last_assigned_at: datetime | None


@dataclass
class Handoff:
    """Handoff operations, inside the caller's transaction."""

    lifecycle: Lifecycle

    async def operators(self, session: AsyncSession, tenant_id: str) -> list[OperatorLoad]:
        """The tenant's operators with their availability and load."""
        users = [
            user
            for user in await identity.list_users(session, tenant_id=tenant_id)
            if user.role in OPERATOR_ROLES and user.disabled_at is None
        ]
        states = {
            state.user_id: state
            for state in await session.scalars(
                select(OperatorState).where(OperatorState.tenant_id == tenant_id)
            )
        }
        held = await session.execute(
            select(Conversation.assignee_id, func.count())
            .where(
                Conversation.tenant_id == tenant_id,
                Conversation.status == Status.WITH_HUMAN,
                Conversation.assignee_id.is_not(None),
            )
            .group_by(Conversation.assignee_id)
        )
        counts = {str(assignee): int(count) for assignee, count in held.all()}
        return [
            OperatorLoad(
                user_id=user.id,
                name=user.name,
                role=user.role,
                available=states[user.id].available if user.id in states else True,
                open_conversations=int(counts.get(user.id, 0)),
                last_assigned_at=states[user.id].last_assigned_at if user.id in states else None,
            )
            for user in users
        ]

    async def set_available(
        self, session: AsyncSession, *, tenant_id: str, user_id: str, available: bool
    ) -> None:
        """Whether the operator takes new conversations automatically."""
        try:
            await self._operator(session, tenant_id, user_id)
        except OperatorError as exc:
            # Here the user is the record the request names: not one of the operators.
            raise OperatorNotFoundError(exc.message) from exc
        state = await self._state(session, tenant_id, user_id)
        state.available = available

    async def request(
        self,
        session: AsyncSession,
        conversation: Conversation,
        actor: Actor,
        *,
        reason: str,
        actor_id: str | None = None,
        expected_version: int | None = None,
        policy: Policy,
        announce: bool = True,
    ) -> str | None:
        """Put the conversation in the operators' queue; with auto-assignment on, give it to
        the next free operator. The operator's name when one took it at once (``announce``:
        the contact is told in a notice; otherwise the caller tells them)."""
        await self.lifecycle.move(
            session,
            conversation,
            Status.WAITING_HUMAN,
            actor,
            reason=reason,
            actor_id=actor_id,
            expected_version=expected_version,
            policy=policy,
        )
        if not policy.auto_assign:
            return None
        operator = await self.next_free(session, conversation.tenant_id, policy)
        if operator is None:
            return None
        await self.hand_to(
            session,
            conversation,
            operator.user_id,
            operator.name,
            Actor.SYSTEM,
            reason="given to the next free operator",
            policy=policy,
            announce=announce,
        )
        return operator.name

    async def next_free(
        self, session: AsyncSession, tenant_id: str, policy: Policy
    ) -> OperatorLoad | None:
        """Claim the next available operator under the limit, in round-robin order."""
        loads = await self.operators(session, tenant_id)
        ready = [
            o for o in loads if o.available and o.open_conversations < policy.operator_max_open
        ]
        ready.sort(key=lambda o: (o.last_assigned_at is not None, o.last_assigned_at, o.user_id))
        for operator in ready:
            if await self._claim(session, tenant_id, operator.user_id, policy):
                return operator
        return None

    async def assign(
        self,
        session: AsyncSession,
        conversation: Conversation,
        *,
        operator_id: str | None,
        actor_id: str | None,
        expected_version: int | None,
        policy: Policy,
    ) -> str:
        """Give the conversation to ``operator_id``, or to the next free operator; their id.

        Taking a conversation from another operator needs the version the caller saw.
        """
        if conversation.status in ENDED:
            raise TransitionError(f"the conversation is {conversation.status}")
        held_by = conversation.assignee_id if conversation.status == Status.WITH_HUMAN else None
        if held_by is not None and held_by == operator_id:
            return held_by
        if conversation.status == Status.WITH_HUMAN and expected_version is None:
            raise StaleConversationError(
                "an operator already has this conversation; send its version to reassign it"
            )
        if operator_id is None:
            free = await self.next_free(session, conversation.tenant_id, policy)
            if free is None:
                raise NoOperatorFreeError("every operator is away or at their limit")
            operator_id, name = free.user_id, free.name
        else:
            name = (await self._operator(session, conversation.tenant_id, operator_id)).name
            if not await self._claim(session, conversation.tenant_id, operator_id, policy):
                raise OperatorError(
                    f"the operator already has {policy.operator_max_open} open conversations, "
                    "the limit"
                )
        await self.hand_to(
            session,
            conversation,
            operator_id,
            name,
            Actor.OPERATOR,
            reason="taken by the operator"
            if actor_id == operator_id
            else "assigned by an operator",
            actor_id=actor_id,
            expected_version=expected_version,
            policy=policy,
        )
        return operator_id

    async def release(
        self,
        session: AsyncSession,
        conversation: Conversation,
        *,
        actor_id: str | None,
        expected_version: int | None,
        policy: Policy,
    ) -> None:
        """Put a conversation an operator had back in the operators' queue."""
        await self.lifecycle.move(
            session,
            conversation,
            Status.WAITING_HUMAN,
            Actor.OPERATOR,
            reason="released to the operators' queue",
            actor_id=actor_id,
            expected_version=expected_version,
            policy=policy,
        )

    async def give_back(
        self,
        session: AsyncSession,
        conversation: Conversation,
        actor: Actor,
        *,
        reason: str,
        actor_id: str | None = None,
        expected_version: int | None = None,
        policy: Policy,
        notice_kind: str = "assistant_back",
    ) -> None:
        """Return the conversation to the assistant, and tell the contact."""
        transition = await self.lifecycle.move(
            session,
            conversation,
            Status.ACTIVE,
            actor,
            reason=reason,
            actor_id=actor_id,
            expected_version=expected_version,
            policy=policy,
        )
        await self.lifecycle.say(
            session,
            conversation,
            notice(notice_kind, conversation.language),
            key=f"notice:{transition.id}",
            meta={"notice": notice_kind},
        )

    async def operator_reply(
        self,
        session: AsyncSession,
        conversation: Conversation,
        body: str,
        *,
        user_id: str | None,
        key_id: str | None,
        client_key: str | None,
        policy: Policy,
    ) -> Message:
        """Send an operator's message; replying takes the conversation from the assistant."""
        if conversation.status in ENDED:
            raise TransitionError(f"the conversation is {conversation.status}; start a new one")
        if conversation.status != Status.WITH_HUMAN:
            name = None
            if user_id is not None:
                name = (await self._operator(session, conversation.tenant_id, user_id)).name
                await self._state(session, conversation.tenant_id, user_id)
            await self.hand_to(
                session,
                conversation,
                user_id,
                name,
                Actor.OPERATOR,
                reason="an operator replied",
                actor_id=user_id or key_id,
                policy=policy,
            )
        message = await self.lifecycle.say(
            session,
            conversation,
            body,
            key=f"operator:{client_key or new_id()}",
            author="operator",
            author_id=user_id,
            meta={"key_id": key_id} if key_id else {},
        )
        conversation.last_operator_at = self.lifecycle.clock.now()
        schedule(conversation, policy)
        await self.lifecycle.touch(session, conversation)
        return message

    async def hand_to(
        self,
        session: AsyncSession,
        conversation: Conversation,
        operator_id: str | None,
        operator_name: str | None,
        actor: Actor,
        *,
        reason: str,
        policy: Policy,
        actor_id: str | None = None,
        expected_version: int | None = None,
        announce: bool = True,
    ) -> None:
        """Move the conversation to an operator and (``announce``) tell the contact who."""
        transition = await self.lifecycle.move(
            session,
            conversation,
            Status.WITH_HUMAN,
            actor,
            reason=reason,
            actor_id=actor_id,
            assignee_id=operator_id,
            expected_version=expected_version,
            policy=policy,
        )
        if announce:
            await self.lifecycle.say(
                session,
                conversation,
                took_over(conversation.language, operator_name),
                key=f"notice:{transition.id}",
                meta={"notice": "human_took_over"},
            )

    async def _operator(self, session: AsyncSession, tenant_id: str, user_id: str) -> OperatorLoad:
        user = await identity.get_user(session, tenant_id=tenant_id, user_id=user_id)
        if user is None or user.disabled_at is not None:
            raise OperatorError("no such active user in this tenant")
        if user.role not in OPERATOR_ROLES:
            raise OperatorError(f"a {user.role} cannot take conversations")
        return OperatorLoad(user.id, user.name, user.role, True, 0, None)

    async def _state(self, session: AsyncSession, tenant_id: str, user_id: str) -> OperatorState:
        """The operator's row, created when missing and locked until the transaction ends."""
        await insert_ignore(
            session,
            OperatorState,
            {"user_id": user_id, "tenant_id": tenant_id, "available": True},
            conflict=["user_id"],
        )
        state = await session.scalar(
            select(OperatorState)
            .where(OperatorState.tenant_id == tenant_id, OperatorState.user_id == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert state is not None
        return state

    async def _claim(
        self, session: AsyncSession, tenant_id: str, user_id: str, policy: Policy
    ) -> bool:
        """Take one of the operator's places if the limit allows (their row stays locked)."""
        state = await self._state(session, tenant_id, user_id)
        held = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(
                Conversation.tenant_id == tenant_id,
                Conversation.assignee_id == user_id,
                Conversation.status == Status.WITH_HUMAN,
            )
        )
        if int(held or 0) >= policy.operator_max_open:
            return False
        state.last_assigned_at = self.lifecycle.clock.now()
        return True
