"""Conversation REST API: tenant-scoped listing, history, handoff and operator actions, the
tenant's conversation policy, operators, and a live stream of events for the console."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, Any, Protocol, cast

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.billing import service as billing
from whatsapp_ai.conversation import policy as policies
from whatsapp_ai.conversation import service
from whatsapp_ai.conversation.errors import OperatorError
from whatsapp_ai.conversation.handoff import Handoff
from whatsapp_ai.conversation.lifecycle import Lifecycle
from whatsapp_ai.conversation.models import Conversation
from whatsapp_ai.conversation.notices import notice
from whatsapp_ai.conversation.policy import Policy
from whatsapp_ai.conversation.schemas import (
    Action,
    AssignIn,
    AvailabilityIn,
    ConversationOut,
    MessageOut,
    OperatorOut,
    PolicyIn,
    PolicyOut,
    ReplyIn,
    TransitionOut,
)
from whatsapp_ai.conversation.states import HUMAN, Actor, Status
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.db import Database
from whatsapp_ai.core.errors import NotFoundError
from whatsapp_ai.core.events import EventBus
from whatsapp_ai.core.http import Principal, require
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Cursor, Limit, Page

router = APIRouter(prefix="/conversations", tags=["conversation"])
settings_router = APIRouter(tags=["conversation"])
Reader = Annotated[Principal, Depends(require("conversations:read"))]
Writer = Annotated[Principal, Depends(require("conversations:write"))]
KEEPALIVE_S = 15.0
POLL_S = 1.0
STREAM_MAX_S = 600.0
RECONNECT_MS = 2000


class _Runtime(Protocol):
    db: Database
    clock: Clock
    bus: EventBus
    lifecycle: Lifecycle
    stopping: asyncio.Event


def _runtime(request: Request) -> _Runtime:
    return cast(_Runtime, request.app.state.runtime)


async def _handoff_in_plan(request: Request, session: AsyncSession, caller: Principal) -> None:
    """402 unless the tenant's plan includes human handoff."""
    await billing.check(
        session,
        tenant_id=caller.tenant_id,
        feature=billing.HUMAN_HANDOFF,
        now=_runtime(request).clock.now(),
    )


def _actor_id(caller: Principal) -> str | None:
    return caller.user_id or caller.key_id


@router.get("", response_model=Page[ConversationOut])
async def list_conversations(
    request: Request,
    caller: Reader,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    assignee_id: str | None = None,
    contact_id: str | None = None,
    needs_human: bool | None = None,
    q: Annotated[str | None, Query(min_length=2, max_length=100)] = None,
) -> Page[ConversationOut]:
    """The tenant's conversations, most recently active first; filter by status (repeat it),
    assigned operator, contact, needing a person (waiting for or with one), and text."""
    statuses: set[str] = {s.value for s in status_ or ()}
    if needs_human is not None:
        wanted = {s.value for s in HUMAN} if needs_human else {s.value for s in Status} - HUMAN
        statuses = statuses & wanted if statuses else wanted
        if not statuses:
            return Page[ConversationOut](items=[], next_cursor=None)
    async with _runtime(request).db.read() as session:
        found = await service.list_conversations(
            session,
            tenant_id=caller.tenant_id,
            cursor=cursor,
            limit=limit,
            statuses=sorted(statuses),
            assignee_id=assignee_id,
            contact_id=contact_id,
            text=q,
        )
        return Page[ConversationOut].of(found, ConversationOut.model_validate)


@router.get("/events")
async def stream_events(request: Request, caller: Reader) -> StreamingResponse:
    """Server-sent events of the tenant's conversations and messages, live. Events carry ids
    and states, never message text (fetch the messages). A stream ends after a while or when
    the server stops; EventSource clients reconnect by themselves."""
    rt = _runtime(request)

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + STREAM_MAX_S
        quiet_since = loop.time()
        async with rt.bus.subscribe(caller.tenant_id) as subscription:
            yield f"retry: {RECONNECT_MS}\n: connected\n\n"
            while not (subscription.closed or rt.stopping.is_set() or loop.time() > ends_at):
                if await request.is_disconnected():
                    return
                event = await subscription.get(timeout=POLL_S)
                if event is not None:
                    quiet_since = loop.time()
                    yield f"id: {event.id}\nevent: {event.kind}\ndata: {event.to_json()}\n\n"
                elif loop.time() - quiet_since >= KEEPALIVE_S:
                    quiet_since = loop.time()
                    yield ": keep-alive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/{conversation_id}", response_model=ConversationOut)
async def get_conversation(
    request: Request, caller: Reader, conversation_id: str
) -> ConversationOut:
    """One conversation, with its state, assignment, timers and version."""
    async with _runtime(request).db.read() as session:
        found = await _found(session, caller, conversation_id)
        return ConversationOut.model_validate(found)


@router.get("/{conversation_id}/messages", response_model=Page[MessageOut])
async def list_messages(
    request: Request,
    caller: Reader,
    conversation_id: str,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[MessageOut]:
    """Messages of one conversation, oldest first."""
    async with _runtime(request).db.read() as session:
        await _found(session, caller, conversation_id)
        found = await service.page_messages(
            session,
            tenant_id=caller.tenant_id,
            conversation_id=conversation_id,
            cursor=cursor,
            limit=limit,
        )
        return Page[MessageOut].of(found, MessageOut.model_validate)


@router.get("/{conversation_id}/transitions", response_model=Page[TransitionOut])
async def list_transitions(
    request: Request,
    caller: Reader,
    conversation_id: str,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[TransitionOut]:
    """Every change of state, oldest first: from, to, who, why, when."""
    async with _runtime(request).db.read() as session:
        await _found(session, caller, conversation_id)
        found = await service.transitions(
            session,
            tenant_id=caller.tenant_id,
            conversation_id=conversation_id,
            cursor=cursor,
            limit=limit,
        )
        return Page[TransitionOut].of(found, TransitionOut.model_validate)


type Change[T] = Callable[[AsyncSession, Conversation, Policy, Handoff], Awaitable[T]]


async def _change[T](
    request: Request, caller: Principal, conversation_id: str, run: Change[T]
) -> T:
    """Run an operator action on the locked conversation."""
    rt = _runtime(request)
    async with rt.db.transaction() as session:
        conversation = await _found(session, caller, conversation_id, lock=True)
        policy = await rt.lifecycle.policy(session, caller.tenant_id)
        return await run(session, conversation, policy, Handoff(rt.lifecycle))


async def _changed(
    request: Request, caller: Principal, conversation_id: str, run: Change[Any]
) -> ConversationOut:
    async def apply(
        session: AsyncSession, conversation: Conversation, policy: Policy, handoff: Handoff
    ) -> ConversationOut:
        await run(session, conversation, policy, handoff)
        await session.flush()
        return ConversationOut.model_validate(conversation)

    return await _change(request, caller, conversation_id, apply)


@router.post("/{conversation_id}/close", response_model=ConversationOut)
async def close(
    request: Request, caller: Writer, conversation_id: str, body: Action | None = None
) -> ConversationOut:
    """End the conversation (the contact's next message opens a new, linked one)."""
    action = body or Action()

    async def run(session: AsyncSession, c: Conversation, p: Policy, h: Handoff) -> object:
        return await h.lifecycle.move(
            session,
            c,
            Status.CLOSED,
            Actor.OPERATOR,
            reason=action.reason or "closed by an operator",
            actor_id=_actor_id(caller),
            expected_version=action.version,
            policy=p,
        )

    return await _changed(request, caller, conversation_id, run)


@router.post("/{conversation_id}/handoff", response_model=ConversationOut)
async def hand_off(
    request: Request, caller: Writer, conversation_id: str, body: Action | None = None
) -> ConversationOut:
    """Put the conversation in the operators' queue (given at once to a free operator when
    the tenant auto-assigns); the contact is told."""
    action = body or Action()

    async def run(session: AsyncSession, c: Conversation, p: Policy, h: Handoff) -> object:
        await _handoff_in_plan(request, session, caller)
        await h.request(
            session,
            c,
            Actor.OPERATOR,
            reason=action.reason or "handed off by an operator",
            actor_id=_actor_id(caller),
            expected_version=action.version,
            policy=p,
        )
        if c.status == Status.WAITING_HUMAN:
            await h.lifecycle.say(
                session,
                c,
                notice("handoff_operator", c.language),
                key=f"notice:handoff:{c.version}",
                meta={"notice": "handoff_operator"},
            )
        return None

    return await _changed(request, caller, conversation_id, run)


@router.post("/{conversation_id}/assign", response_model=ConversationOut)
async def assign(
    request: Request, caller: Writer, conversation_id: str, body: AssignIn | None = None
) -> ConversationOut:
    """Give the conversation to an operator (``operator_id``), or to the next free one.
    Taking it from another operator needs the conversation's ``version``."""
    action = body or AssignIn()

    async def run(session: AsyncSession, c: Conversation, p: Policy, h: Handoff) -> object:
        await _handoff_in_plan(request, session, caller)
        return await h.assign(
            session,
            c,
            operator_id=action.operator_id,
            actor_id=_actor_id(caller),
            expected_version=action.version,
            policy=p,
        )

    return await _changed(request, caller, conversation_id, run)


@router.post("/{conversation_id}/take", response_model=ConversationOut)
async def take(
    request: Request, caller: Writer, conversation_id: str, body: Action | None = None
) -> ConversationOut:
    """The calling operator takes the conversation (console sign-in needed)."""
    action = body or Action()

    async def run(session: AsyncSession, c: Conversation, p: Policy, h: Handoff) -> object:
        await _handoff_in_plan(request, session, caller)
        if caller.user_id is None:
            raise OperatorError("an API key is not an operator: use assign with operator_id")
        return await h.assign(
            session,
            c,
            operator_id=caller.user_id,
            actor_id=caller.user_id,
            expected_version=action.version,
            policy=p,
        )

    return await _changed(request, caller, conversation_id, run)


@router.post("/{conversation_id}/release", response_model=ConversationOut)
async def release(
    request: Request, caller: Writer, conversation_id: str, body: Action | None = None
) -> ConversationOut:
    """Put a conversation an operator had back in the operators' queue."""
    action = body or Action()

    async def run(session: AsyncSession, c: Conversation, p: Policy, h: Handoff) -> object:
        await h.release(
            session, c, actor_id=_actor_id(caller), expected_version=action.version, policy=p
        )
        return None

    return await _changed(request, caller, conversation_id, run)


@router.post("/{conversation_id}/return", response_model=ConversationOut)
async def return_to_assistant(
    request: Request, caller: Writer, conversation_id: str, body: Action | None = None
) -> ConversationOut:
    """Give the conversation back to the assistant; the contact is told."""
    action = body or Action()

    async def run(session: AsyncSession, c: Conversation, p: Policy, h: Handoff) -> object:
        await h.give_back(
            session,
            c,
            Actor.OPERATOR,
            reason=action.reason or "returned to the assistant by an operator",
            actor_id=_actor_id(caller),
            expected_version=action.version,
            policy=p,
        )
        return None

    return await _changed(request, caller, conversation_id, run)


@router.post(
    "/{conversation_id}/messages", response_model=MessageOut, status_code=status.HTTP_201_CREATED
)
async def reply(
    request: Request,
    caller: Writer,
    conversation_id: str,
    body: ReplyIn,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> MessageOut:
    """Send a message to the contact as the calling operator, through the same path as the
    assistant's replies (24-hour window and templates included). Replying takes the
    conversation from the assistant. The same ``client_key`` (or Idempotency-Key) sends once."""

    async def run(session: AsyncSession, c: Conversation, p: Policy, h: Handoff) -> MessageOut:
        message = await h.operator_reply(
            session,
            c,
            body.body,
            user_id=caller.user_id,
            key_id=caller.key_id,
            client_key=body.client_key or idempotency_key,
            policy=p,
        )
        return MessageOut.model_validate(message)

    return await _change(request, caller, conversation_id, run)


# --- the tenant's policy and its operators ------------------------------------------------


@settings_router.get("/conversation-policy", response_model=PolicyOut)
async def get_policy(
    request: Request, caller: Annotated[Principal, Depends(require("settings:read"))]
) -> PolicyOut:
    """The conversation policy in force for the tenant."""
    rt = _runtime(request)
    async with rt.db.read() as session:
        return await _policy_out(session, rt.lifecycle, caller.tenant_id)


@settings_router.patch("/conversation-policy", response_model=PolicyOut)
async def update_policy(
    request: Request,
    caller: Annotated[Principal, Depends(require("settings:write"))],
    body: PolicyIn,
) -> PolicyOut:
    """Change some of the tenant's values; null resets one to the platform default. Open
    conversations follow the new values from their next timer."""
    rt = _runtime(request)
    changes = body.model_dump(exclude_unset=True)
    async with rt.db.transaction() as session:
        await policies.update(
            session, tenant_id=caller.tenant_id, changes=changes, now=rt.lifecycle.clock.now()
        )
        return await _policy_out(session, rt.lifecycle, caller.tenant_id)


async def _policy_out(session: AsyncSession, lifecycle: Lifecycle, tenant_id: str) -> PolicyOut:
    current = await lifecycle.policy(session, tenant_id)
    values = asdict(current)
    values["human_only_topics"] = list(current.human_only_topics)
    return PolicyOut(**values, overridden=await policies.overrides(session, tenant_id=tenant_id))


@settings_router.get("/operators", response_model=list[OperatorOut])
async def list_operators(request: Request, caller: Reader) -> list[OperatorOut]:
    """The tenant's operators: availability and open conversations."""
    rt = _runtime(request)
    async with rt.db.read() as session:
        loads = await Handoff(rt.lifecycle).operators(session, caller.tenant_id)
    return [OperatorOut.model_validate(load) for load in loads]


@settings_router.put("/operators/{user_id}/availability", response_model=list[OperatorOut])
async def set_availability(
    request: Request, caller: Writer, user_id: str, body: AvailabilityIn
) -> list[OperatorOut]:
    """Whether an operator takes new conversations automatically (their own, or any with
    users:* permission)."""
    if user_id != caller.user_id and not caller.can("users:write"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not allowed: users:write")
    rt = _runtime(request)
    handoff = Handoff(rt.lifecycle)
    async with rt.db.transaction() as session:
        await handoff.set_available(
            session, tenant_id=caller.tenant_id, user_id=user_id, available=body.available
        )
        loads = await handoff.operators(session, caller.tenant_id)
    return [OperatorOut.model_validate(load) for load in loads]


async def _found(
    session: AsyncSession, caller: Principal, conversation_id: str, *, lock: bool = False
) -> Conversation:
    found = await service.get(
        session, tenant_id=caller.tenant_id, conversation_id=conversation_id, lock=lock
    )
    if found is None:
        raise NotFoundError("conversation not found")
    return found
