"""Conversation REST API (tenant-scoped by the caller's API key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from whatsapp_ai.conversation import service
from whatsapp_ai.conversation.schemas import ConversationOut, MessageOut, MessagePage
from whatsapp_ai.core.http import Principal, require, runtime

router = APIRouter(prefix="/conversations", tags=["conversation"])
Caller = Annotated[Principal, Depends(require("conversations:read"))]


@router.get("", response_model=list[ConversationOut])
async def list_conversations(
    request: Request, caller: Caller, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[ConversationOut]:
    """The tenant's conversations, most recently active first."""
    async with runtime(request).db.read() as session:
        rows = await service.list_conversations(session, tenant_id=caller.tenant_id, limit=limit)
        return [ConversationOut.model_validate(row) for row in rows]


@router.get("/{conversation_id}/messages", response_model=MessagePage)
async def list_messages(
    request: Request,
    caller: Caller,
    conversation_id: str,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    """Messages of one conversation, oldest first, with cursor paging."""
    async with runtime(request).db.read() as session:
        found = await service.get(
            session, tenant_id=caller.tenant_id, conversation_id=conversation_id
        )
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "conversation not found")
        rows = await service.page_messages(
            session,
            tenant_id=caller.tenant_id,
            conversation_id=conversation_id,
            after=after,
            limit=limit,
        )
    items = [MessageOut.model_validate(row) for row in rows]
    return MessagePage(items=items, next_cursor=items[-1].id if len(items) == limit else None)
