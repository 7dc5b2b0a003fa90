"""Sandbox channel API: what the chat simulator talks to."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from whatsapp_ai.channels import service
from whatsapp_ai.channels.sandbox import service as sandbox
from whatsapp_ai.channels.sandbox.schemas import (
    OutboxItem,
    OutboxPage,
    SandboxAccepted,
    SandboxMessageIn,
)
from whatsapp_ai.core.http import Principal, require, runtime
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.identity import service as identity

router = APIRouter(prefix="/channels/sandbox", tags=["channels: sandbox"])
Writer = Annotated[Principal, Depends(require("channels:write"))]
Reader = Annotated[Principal, Depends(require("channels:read"))]
POLL_STEP_S = 0.1


def _address(raw: str) -> str:
    try:
        return identity.normalize_address(raw)
    except identity.InvalidAddressError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


@router.post("/messages", status_code=status.HTTP_202_ACCEPTED, response_model=SandboxAccepted)
async def receive(request: Request, caller: Writer, body: SandboxMessageIn) -> SandboxAccepted:
    """Accept a message from a simulated WhatsApp user; the reply arrives in the outbox."""
    rt = runtime(request)
    sender = _address(body.sender)
    message_id = body.id or new_id()
    accepted: service.Accepted = await rt.batcher.submit(
        service.INBOUND_BULK,
        service.InboundItem(
            tenant_id=caller.tenant_id,
            channel=sandbox.CHANNEL,
            external_id=message_id,
            sender=sender,
            body=body.text,
            profile_name=body.profile_name,
            now=rt.clock.now(),
        ),
    )
    outcome = "duplicate" if accepted.duplicate else "accepted"
    rt.metrics.inbound_messages.labels(sandbox.CHANNEL, outcome).inc()
    return SandboxAccepted(
        message_id=message_id, event_id=accepted.event_id, duplicate=accepted.duplicate
    )


@router.get("/outbox", response_model=OutboxPage)
async def outbox(
    request: Request,
    caller: Reader,
    to: str,
    after: str | None = None,
    wait: Annotated[float, Query(ge=0, le=60, description="Long-poll seconds")] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OutboxPage:
    """Messages sent to a simulated user after the cursor; waits up to ``wait`` s for new ones."""
    rt = runtime(request)
    recipient = _address(to)
    deadline = time.monotonic() + min(wait, rt.settings.sandbox.long_poll_max_s)
    while True:
        async with rt.db.read() as session:
            rows = await sandbox.list_outbox(
                session, tenant_id=caller.tenant_id, recipient=recipient, after=after, limit=limit
            )
        if rows or time.monotonic() >= deadline or await request.is_disconnected():
            break
        await asyncio.sleep(POLL_STEP_S)
    items = [OutboxItem.model_validate(row) for row in rows]
    return OutboxPage(items=items, cursor=items[-1].id if items else after)
