"""Knowledge REST API (tenant-scoped): the documents the assistant answers from, and a search
for operators to see what it would find. The tenant always comes from the credential."""

from __future__ import annotations

from typing import Annotated, NoReturn

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)
from fastapi.exceptions import RequestValidationError

from whatsapp_ai.ai.service import get_encoder
from whatsapp_ai.core.http import Principal, require, runtime
from whatsapp_ai.knowledge import reading, service
from whatsapp_ai.knowledge.errors import (
    InvalidDocumentError,
    TooLargeError,
    UnsupportedTypeError,
)
from whatsapp_ai.knowledge.schemas import (
    ChunkOut,
    DocumentDetail,
    DocumentOut,
    DocumentPage,
    HitOut,
    SearchOut,
)
from whatsapp_ai.knowledge.service import Embed

router = APIRouter(prefix="/knowledge", tags=["knowledge"])
Reader = Annotated[Principal, Depends(require("knowledge:read"))]
Writer = Annotated[Principal, Depends(require("knowledge:write"))]


def encoder() -> Embed:
    """The sentence encoder documents and questions are embedded with (off the event loop)."""
    return get_encoder().aencode


Embedder = Annotated[Embed, Depends(encoder)]


def _invalid(where: str, name: str, message: str) -> NoReturn:
    """Answer 422 in the same shape as request validation, naming the field."""
    raise RequestValidationError([{"loc": (where, name), "msg": message, "type": "value_error"}])


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
        str | None,
        Form(max_length=reading.TITLE_MAX, description="Empty: the first heading or file name."),
    ] = None,
) -> DocumentOut:
    """Add a document: its text is cut into passages and encoded for search. A PDF without
    text is kept as failed, with the reason. The same file again answers 200 with the stored
    document."""
    rt = runtime(request)
    data = await file.read(service.MAX_BYTES + 1)
    try:
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
    except TooLargeError as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc)) from None
    except UnsupportedTypeError as exc:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from None
    except InvalidDocumentError as exc:
        _invalid("body", exc.field, exc.message)
    async with rt.db.transaction() as session:
        document, created = await service.store(
            session, tenant_id=caller.tenant_id, prepared=prepared, now=rt.clock.now()
        )
        out = DocumentOut.model_validate(document)
    if not created:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("/documents", response_model=DocumentPage)
async def list_documents(
    request: Request,
    caller: Reader,
    after: Annotated[str | None, Query(max_length=64, description="The last id seen.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DocumentPage:
    """The tenant's documents in the order added, with cursor paging."""
    async with runtime(request).db.read() as session:
        rows = await service.list_documents(
            session, tenant_id=caller.tenant_id, after=after, limit=limit
        )
    items = [DocumentOut.model_validate(row) for row in rows]
    return DocumentPage(items=items, next_cursor=items[-1].id if len(items) == limit else None)


@router.get("/documents/{document_id}", response_model=DocumentDetail)
async def get_document(request: Request, caller: Reader, document_id: str) -> DocumentDetail:
    """One document and its passages, as the assistant searches them."""
    async with runtime(request).db.read() as session:
        document = await service.get_document(
            session, tenant_id=caller.tenant_id, document_id=document_id
        )
        if document is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "document not found")
        chunks = await service.list_chunks(
            session, tenant_id=caller.tenant_id, document_id=document_id
        )
    return DocumentDetail(
        **DocumentOut.model_validate(document).model_dump(),
        chunks=[ChunkOut.model_validate(chunk) for chunk in chunks],
    )


@router.delete("/documents/{document_id}", response_model=DocumentOut)
async def delete_document(request: Request, caller: Writer, document_id: str) -> DocumentOut:
    """Remove a document and its passages; answers with what was removed."""
    async with runtime(request).db.transaction() as session:
        removed = await service.delete_document(
            session, tenant_id=caller.tenant_id, document_id=document_id
        )
        if removed is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "document not found")
        return DocumentOut.model_validate(removed)


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
        _invalid("query", "q", "the question is empty")
    [vector] = await embed([question])
    async with runtime(request).db.read() as session:
        hits = await service.search(
            session,
            tenant_id=caller.tenant_id,
            query_vector=vector,
            query_text=question,
            limit=limit,
        )
    answered = bool(hits) and hits[0].score >= service.MIN_SCORE
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
