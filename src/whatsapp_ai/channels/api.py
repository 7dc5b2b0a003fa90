"""Media of inbound messages: list, download and delete (tenant-scoped)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import Response

from whatsapp_ai.channels import service
from whatsapp_ai.channels.schemas import MediaOut
from whatsapp_ai.core.http import Principal, require, runtime

router = APIRouter(prefix="/channels", tags=["channels: media"])
Reader = Annotated[Principal, Depends(require("media:read"))]
Writer = Annotated[Principal, Depends(require("media:write"))]


@router.get("/events/{event_id}/media", response_model=list[MediaOut])
async def list_media(request: Request, caller: Reader, event_id: str) -> list[MediaOut]:
    """The attachments of an inbound message, with what became of each."""
    async with runtime(request).db.read() as session:
        if await service.get_event(session, tenant_id=caller.tenant_id, event_id=event_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "message not found")
        rows = await service.list_media(session, tenant_id=caller.tenant_id, event_id=event_id)
        return [MediaOut.model_validate(row) for row in rows]


@router.get("/media/{media_id}", response_class=Response)
async def download_media(request: Request, caller: Reader, media_id: str) -> Response:
    """The stored file."""
    rt = runtime(request)
    async with rt.db.read() as session:
        item = await service.get_media(session, tenant_id=caller.tenant_id, media_id=media_id)
    if item is None or item.blob_key is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "media not found or not stored")
    try:
        content = await rt.blobs.get(item.blob_key)
    except KeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "media file was deleted") from exc
    return Response(content, media_type=item.content_type or "application/octet-stream")


@router.delete("/media/{media_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_media(request: Request, caller: Writer, media_id: str) -> Response:
    """Delete the stored file; the record stays, marked deleted."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        item = await service.get_media(session, tenant_id=caller.tenant_id, media_id=media_id)
        if item is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "media not found")
        blob_key = item.blob_key
        await service.finish_media(
            session,
            tenant_id=caller.tenant_id,
            media_id=media_id,
            status="deleted",
            reason="deleted through the API",
            content_type=item.content_type,
            size_bytes=None,
            blob_key=None,
            now=rt.clock.now(),
        )
    if blob_key is not None:
        await rt.blobs.delete(blob_key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
