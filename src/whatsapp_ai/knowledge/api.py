"""Knowledge REST API (tenant-scoped): the documents the assistant answers from, and a search
for operators to see what it would find. The tenant always comes from the credential."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status

from whatsapp_ai.ai.service import get_encoder
from whatsapp_ai.billing import service as billing
from whatsapp_ai.core.errors import InvalidInputError, NotFoundError
from whatsapp_ai.core.http import Principal, require, runtime
from whatsapp_ai.core.inputs import PlainText
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Cursor, Limit, Page
from whatsapp_ai.knowledge import reading, service
from whatsapp_ai.knowledge.schemas import ChunkOut, DocumentDetail, DocumentOut, HitOut, SearchOut
from whatsapp_ai.knowledge.service import Embed

router = APIRouter(prefix="/knowledge", tags=["knowledge"])
Reader = Annotated[Principal, Depends(require("knowledge:read"))]
Writer = Annotated[Principal, Depends(require("knowledge:write"))]


def encoder() -> Embed:
    """The sentence encoder documents and questions are embedded with (off the event loop)."""
    return get_encoder().aencode


Embedder = Annotated[Embed, Depends(encoder)]


@router.post(
    "/documents",
    response_model=DocumentOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "The same file was uploaded before: the stored document."},
        413: {"description": "The file is over 10 MB."},
        415: {"description": "Not a text, Markdown or PDF file."},
    },
)
async def upload_document(
    request: Request,
    response: Response,
    caller: Writer,
    embed: Embedder,
    file: Annotated[UploadFile, File(description="A .txt, .md or .pdf file, at most 10 MB.")],
    title: Annotated[
        PlainText | None,
        Form(max_length=reading.TITLE_MAX, description="Empty: the first heading or file name."),
    ] = None,
) -> DocumentOut:
    """Add a document: its text is cut into passages and encoded for search. A PDF without
    text is kept as failed, with the reason. The same file again answers 200 with the stored
    document. The plan must include the knowledge base (402), and each new document counts
    against its documents and megabytes of the period."""
    rt = runtime(request)
    meter = billing.Meter.of(rt)
    async with rt.db.read() as session:
        await meter.check(session, tenant_id=caller.tenant_id, feature=billing.KNOWLEDGE_BASE)
    data = await file.read(service.MAX_BYTES + 1)
    if len(data) <= service.MAX_BYTES:
        async with rt.db.read() as session:
            found = await service.get_by_sha256(
                session, tenant_id=caller.tenant_id, sha256=service.digest(data)
            )
        if found is not None:
            response.status_code = status.HTTP_200_OK
            return DocumentOut.model_validate(found)
    # Reading and encoding take a while: no transaction is open meanwhile.
    prepared = await service.prepare(
        title=title,
        filename=file.filename,
        content_type=file.content_type,
        data=data,
        embed=embed,
    )
    async with rt.db.transaction() as session:
        document, created = await service.store(
            session, tenant_id=caller.tenant_id, prepared=prepared, now=rt.clock.now()
        )
        if created:
            # Over a quota: 402 and the document is not kept (the transaction rolls back).
            for feature, quantity in (
                (billing.KNOWLEDGE_DOCUMENTS, 1),
                (billing.KNOWLEDGE_MB, max(1, math.ceil(len(data) / 1_000_000))),
            ):
                await meter.consume(
                    session,
                    tenant_id=caller.tenant_id,
                    feature=feature,
                    quantity=quantity,
                    key=f"{feature}:{document.id}",
                )
        out = DocumentOut.model_validate(document)
    if not created:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("/documents", response_model=Page[DocumentOut])
async def list_documents(
    request: Request, caller: Reader, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[DocumentOut]:
    """The tenant's documents in the order added."""
    async with runtime(request).db.read() as session:
        found = await service.list_documents(
            session, tenant_id=caller.tenant_id, cursor=cursor, limit=limit
        )
        return Page[DocumentOut].of(found, DocumentOut.model_validate)


@router.get("/documents/{document_id}", response_model=DocumentDetail)
async def get_document(request: Request, caller: Reader, document_id: str) -> DocumentDetail:
    """One document and its passages, as the assistant searches them."""
    async with runtime(request).db.read() as session:
        document = await service.get_document(
            session, tenant_id=caller.tenant_id, document_id=document_id
        )
        if document is None:
            raise NotFoundError("document not found")
        chunks = await service.list_chunks(
            session, tenant_id=caller.tenant_id, document_id=document_id
        )
    return DocumentDetail(
        **DocumentOut.model_validate(document).model_dump(),
        chunks=[ChunkOut.model_validate(chunk) for chunk in chunks],
    )


@router.delete("/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_document(request: Request, caller: Writer, document_id: str) -> None:
    """Remove a document and its passages."""
    async with runtime(request).db.transaction() as session:
        removed = await service.delete_document(
            session, tenant_id=caller.tenant_id, document_id=document_id
        )
        if removed is None:
            raise NotFoundError("document not found")


@router.get("/search", response_model=SearchOut)
async def search(
    request: Request,
    caller: Reader,
    embed: Embedder,
    q: Annotated[str, Query(min_length=1, max_length=500, description="A contact's question.")],
    limit: Annotated[int, Query(ge=1, le=20)] = 4,
) -> SearchOut:
    """The passages the assistant would find for a question, best first, and the part of the
    best one it would quote (none when it would say it doesn't know)."""
    question = " ".join(q.split())
    if not question:
        raise InvalidInputError("the question is empty", field="q")
    [vector] = await embed([question])
    async with runtime(request).db.read() as session:
        hits = await service.search(
            session,
            tenant_id=caller.tenant_id,
            query_vector=vector,
            query_text=question,
            limit=limit,
        )
    answered = bool(hits) and service.relevant(hits[0])
    answer = None
    if answered:
        answer = await service.passage(
            hits[0].chunk_text, query_vector=vector, query_text=question, embed=embed
        )
    return SearchOut(
        query=question,
        answered=answered,
        min_score=service.MIN_SCORE,
        answer=answer,
        hits=[HitOut.model_validate(hit) for hit in hits],
    )
