"""Knowledge service: the tenant's documents (text, Markdown, PDF) cut into passages with
sentence-encoder vectors, and the search the assistant answers from.

The encoder is passed in (``embed``, e.g. the shared encoder's ``aencode``): this module
never loads a model. Reading a file and encoding its passages are CPU work; both run off the
event loop, and neither happens inside a database transaction when ``prepare`` and ``store``
are called apart (as the API does).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete as delete_rows
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.db import insert_ignore
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.paging import Slice, by, paginate
from whatsapp_ai.core.text import fold
from whatsapp_ai.knowledge.errors import InvalidDocumentError, TooLargeError, UnreadableError
from whatsapp_ai.knowledge.models import Chunk, Document
from whatsapp_ai.knowledge.reading import (
    TERMINAL,
    TITLE_MAX,
    Passage,
    clean_filename,
    clean_title,
    content_type_of,
    read,
    sentences,
)

Vectors = npt.NDArray[np.float32]
Embed = Callable[[Sequence[str]], Awaitable[Vectors]]

MAX_BYTES = 10 * 1024 * 1024
# About 1.3 million characters: a 10 MB PDF of text, and about a minute of encoding.
MAX_CHUNKS = 2000
# Small batches let the intent router's sentences through between them (one model, one lock).
EMBED_BATCH = 32
# Calibrated on the bundled encoder with the documents of tests/integration/test_knowledge.py
# and 42 questions: those the documents answer score 0.25 to 0.57 (most above 0.3); unrelated
# ones stay under 0.18, except questions near a passage's subject that it does not answer
# ("gluten-free bread?" beside a passage on the bakery's bread), which reach 0.28.
MIN_SCORE = 0.25
# Or at least this share of the question's words, weighted by rarity (see ``relevant``).
MIN_MATCHED = 0.5
# At most this much is added for the question's words found in the passage (accents ignored).
KEYWORD_WEIGHT = 0.1


class Status(StrEnum):
    """Whether a document can be searched."""

    READY = "ready"
    FAILED = "failed"


# --- adding documents -------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A file read, cut and encoded, ready to store (or a PDF that failed, with the reason)."""

    title: str
    filename: str
    content_type: str
    size: int
    sha256: str
    passages: list[Passage] = field(default_factory=list)
    vectors: Vectors | None = None
    error: str | None = None

    @property
    def status(self) -> Status:
        """Ready when it has passages to search."""
        return Status.FAILED if self.error is not None else Status.READY


def digest(data: bytes) -> str:
    """The file's SHA-256 in hex (what makes a re-upload the same document)."""
    return hashlib.sha256(data).hexdigest()


def _embedded_text(passage: Passage) -> str:
    return f"{passage.heading}\n{passage.text}" if passage.heading else passage.text


def _unit_rows(vectors: Any, count: int) -> Vectors:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != count:
        raise ValueError(f"the encoder gave {matrix.shape} for {count} texts")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: Vectors = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


async def _embed_all(texts: list[str], embed: Embed) -> Vectors:
    batches = []
    for start in range(0, len(texts), EMBED_BATCH):
        batch = texts[start : start + EMBED_BATCH]
        batches.append(_unit_rows(await embed(batch), len(batch)))
    return np.concatenate(batches) if batches else np.empty((0, 0), dtype=np.float32)


async def prepare(
    *,
    title: str | None,
    filename: str | None,
    content_type: str | None,
    data: bytes,
    embed: Embed,
) -> Prepared:
    """Check, read, cut and encode a file, touching no database.

    Raises ``TooLargeError`` (over ``MAX_BYTES``), ``UnsupportedTypeError`` (not text,
    Markdown or PDF) and ``InvalidDocumentError`` (empty, not UTF-8, too much text, a bad
    title). A PDF whose text cannot be taken out comes back failed, with the reason.
    """
    if len(data) > MAX_BYTES:
        raise TooLargeError(f"the file is over {MAX_BYTES // (1024 * 1024)} MB")
    name = clean_filename(filename)
    kind = content_type_of(content_type, name, data)
    given = clean_title(title)
    if not data.strip():
        raise InvalidDocumentError("the file is empty", field="file")
    fallback = given or PurePosixPath(name).stem[:TITLE_MAX] or name
    common: dict[str, Any] = {
        "filename": name,
        "content_type": kind,
        "size": len(data),
        "sha256": digest(data),
    }
    try:
        passages, own_title = await asyncio.to_thread(read, kind, data)
    except UnreadableError as exc:
        return Prepared(title=fallback, error=str(exc), **common)
    if not passages:
        raise InvalidDocumentError("the file has no text", field="file")
    if len(passages) > MAX_CHUNKS:
        raise InvalidDocumentError(
            f"too much text ({len(passages)} passages, at most {MAX_CHUNKS}): split the document",
            field="file",
        )
    vectors = await _embed_all([_embedded_text(p) for p in passages], embed)
    return Prepared(
        title=given or own_title or fallback, passages=passages, vectors=vectors, **common
    )


async def store(
    session: AsyncSession, *, tenant_id: str, prepared: Prepared, now: datetime
) -> tuple[Document, bool]:
    """Store a prepared document and its chunks once; (document, created). A file the tenant
    already has (same SHA-256) is not stored again: the stored document comes back."""
    values: dict[str, Any] = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "title": prepared.title,
        "filename": prepared.filename,
        "content_type": prepared.content_type,
        "size": prepared.size,
        "sha256": prepared.sha256,
        "status": prepared.status.value,
        "error": prepared.error,
        "chunk_count": len(prepared.passages),
        "created_at": now,
        "updated_at": now,
    }
    # A concurrent upload of the same file may store it between a lookup and here.
    created = await insert_ignore(session, Document, values, conflict=["tenant_id", "sha256"])
    if created is None:
        found = await get_by_sha256(session, tenant_id=tenant_id, sha256=prepared.sha256)
        assert found is not None
        return found, False
    if prepared.passages:
        assert prepared.vectors is not None
        rows = [
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "document_id": created.id,
                "position": position,
                "text": passage.text,
                "page": passage.page,
                "heading": passage.heading,
                "embedding": prepared.vectors[position].astype("<f4").tobytes(),
                "created_at": now,
            }
            for position, passage in enumerate(prepared.passages)
        ]
        await session.execute(insert(Chunk), rows)
    document = await get_document(session, tenant_id=tenant_id, document_id=created.id)
    assert document is not None
    return document, True


async def add_document(
    session: AsyncSession,
    *,
    tenant_id: str,
    title: str | None,
    filename: str | None,
    content_type: str | None,
    data: bytes,
    now: datetime,
    embed: Embed,
) -> tuple[Document, bool]:
    """Read, cut, encode and store a file; (document, created). The same file again returns
    the stored document without reading it. Errors as ``prepare``."""
    if len(data) <= MAX_BYTES:
        found = await get_by_sha256(session, tenant_id=tenant_id, sha256=digest(data))
        if found is not None:
            return found, False
    prepared = await prepare(
        title=title, filename=filename, content_type=content_type, data=data, embed=embed
    )
    return await store(session, tenant_id=tenant_id, prepared=prepared, now=now)


# --- reading and removing documents ------------------------------------------------------------


async def get_by_sha256(session: AsyncSession, *, tenant_id: str, sha256: str) -> Document | None:
    """The tenant's document made from the file with this SHA-256."""
    return await session.scalar(
        select(Document).where(Document.tenant_id == tenant_id, Document.sha256 == sha256)
    )


async def get_document(
    session: AsyncSession, *, tenant_id: str, document_id: str
) -> Document | None:
    """A document of the tenant by id."""
    return await session.scalar(
        select(Document).where(Document.tenant_id == tenant_id, Document.id == document_id)
    )


async def list_documents(
    session: AsyncSession, *, tenant_id: str, cursor: str | None, limit: int
) -> Slice[Document]:
    """A page of the tenant's documents in the order added."""
    query = select(Document)
    return await paginate(
        session,
        query.where(Document.tenant_id == tenant_id),
        order=by(Document.id),
        cursor=cursor,
        limit=limit,
    )


async def list_chunks(session: AsyncSession, *, tenant_id: str, document_id: str) -> list[Chunk]:
    """A document's chunks in reading order."""
    return list(
        await session.scalars(
            select(Chunk)
            .where(Chunk.tenant_id == tenant_id, Chunk.document_id == document_id)
            .order_by(Chunk.position)
        )
    )


async def delete_document(
    session: AsyncSession, *, tenant_id: str, document_id: str
) -> Document | None:
    """Remove a document and its chunks; the removed document, or None when not the tenant's."""
    document = await get_document(session, tenant_id=tenant_id, document_id=document_id)
    if document is None:
        return None
    await session.execute(
        delete_rows(Chunk).where(Chunk.tenant_id == tenant_id, Chunk.document_id == document_id)
    )
    await session.delete(document)
    await session.flush()
    return document


# --- search -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """A chunk that may answer a question, and how well (cosine plus the keyword bonus)."""

    document_id: str
    title: str
    chunk_text: str
    page: int | None
    heading: str | None
    score: float
    chunk_id: str = ""
    position: int = 0
    # How much of the question's own words the passage (with its heading) says, each word
    # weighted by how rare it is among the passages searched (0 to 1).
    matched: float = 0.0


_STOPWORD_TEXT = """
    que qual quais quem quando onde como quanto quanta quantos quantas porque por para pra pro
    com sem sobre ate entre uma umas uns dos das nos nas num numa esse essa isso este esta isto
    aquele aquela aquilo voce voces vcs seu sua seus suas meu minha meus minhas nosso nossa
    ele ela eles elas tem ter tenho temos posso pode podem podemos fazer faz faco queria quero
    gostaria saber existe existem mais muito muita the and for you your are can could what when
    where which who whom how does did doing with about have has had this that these those there
    from into our ours would should will shall please tell know want need any some also just
    qnto qnt qto qual qdo qnd pq por que tb tbm tmb hj amanha msm vlw blz mano pfv pf aqui ai
    voces vc vcs oq dai entao agora ainda tipo vou vai
    """
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def keywords(text: str) -> set[str]:
    """The content words of a text, accents and case ignored, cut to five letters so that
    "devolver" meets "devolução" and "entregam" meets "entrega"."""
    return {
        word[:5]
        for word in re.findall(r"[a-z0-9]+", fold(text))
        if (len(word) >= 3 or word.isdigit()) and word not in _STOPWORDS
    }


def overlap(question: set[str], text: str) -> float:
    """The share of the question's keywords found in ``text`` (0 to 1)."""
    if not question:
        return 0.0
    return len(question & keywords(text)) / len(question)


def _searchable(heading: str | None, text: str) -> str:
    # The nearest heading only: the top of the path is often the business's name, which
    # every question about it shares.
    return f"{(heading or '').rsplit(' › ', 1)[-1]}\n{text}"


def _unit(vector: Any) -> Vectors | None:
    query = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(query))
    if norm == 0 or not np.isfinite(norm):
        return None
    unit: Vectors = (query / norm).astype(np.float32)
    return unit


async def search(
    session: AsyncSession,
    *,
    tenant_id: str,
    query_vector: Any,
    query_text: str,
    limit: int = 4,
) -> list[Hit]:
    """The tenant's chunks closest to the question, best first: cosine of the vectors plus
    up to ``KEYWORD_WEIGHT`` for the question's words they contain. Only the tenant's ready
    documents are searched (brute force: fine for thousands of chunks)."""
    query = _unit(query_vector)
    if query is None or limit < 1:
        return []
    rows = (
        await session.execute(
            select(
                Chunk.id,
                Chunk.document_id,
                Chunk.position,
                Chunk.text,
                Chunk.page,
                Chunk.heading,
                Chunk.embedding,
                Document.title,
            )
            .join(Document, Document.id == Chunk.document_id)
            .where(
                Chunk.tenant_id == tenant_id,
                Document.tenant_id == tenant_id,
                Document.status == Status.READY.value,
            )
        )
    ).all()
    # Vectors of another size came from another encoder: they cannot be compared.
    usable = [row for row in rows if len(row.embedding) == query.nbytes]
    if not usable:
        return []
    matrix = np.frombuffer(b"".join(row.embedding for row in usable), dtype="<f4")
    cosine = matrix.reshape(len(usable), query.shape[0]) @ query
    # The keyword bonus is small: it reorders the nearest chunks, it does not find new ones.
    pool = min(len(usable), max(limit * 8, 32))
    nearest = np.argsort(-cosine, kind="stable")[:pool]
    words = keywords(query_text)
    said = {
        int(i): keywords(_searchable(usable[int(i)].heading, usable[int(i)].text)) for i in nearest
    }
    weights = _rarity(words, list(said.values()))
    hits = []
    for index in nearest:
        row = usable[int(index)]
        bonus = KEYWORD_WEIGHT * overlap(words, _searchable(row.heading, row.text))
        found = sum(w for word, w in weights.items() if word in said[int(index)])
        hits.append(
            Hit(
                document_id=row.document_id,
                title=row.title,
                chunk_text=row.text,
                page=row.page,
                heading=row.heading,
                score=float(cosine[index]) + bonus,
                chunk_id=row.id,
                position=row.position,
                matched=found / sum(weights.values()) if weights else 0.0,
            )
        )
    hits.sort(key=lambda hit: (-hit.score, hit.document_id, hit.position))
    return hits[:limit]


def _rarity(words: set[str], passages: list[set[str]]) -> dict[str, float]:
    """Each question word's weight: rarer among the passages weighs more (inverse document
    frequency, smoothed); a word no passage has still counts, as the part left unanswered."""
    count = len(passages)
    return {
        word: math.log((count + 1) / (sum(word in said for said in passages) + 0.5))
        for word in words
    }


def relevant(hit: Hit) -> bool:
    """Whether a passage found answers the question at all (else "not found" is said): close
    in meaning, or saying most of the question's own rarer words."""
    return hit.score >= MIN_SCORE or hit.matched >= MIN_MATCHED


def _joined(parts: list[str]) -> str:
    text = ""
    for part in parts:
        if text:
            text += " " if text.endswith(tuple(TERMINAL)) else "\n"
        text += part
    return text


def _title_like(part: str) -> bool:
    return len(part) <= 80 and not part.endswith(tuple(TERMINAL))


def trim(text: str, max_chars: int) -> str:
    """``text`` cut between words to at most ``max_chars`` (an ellipsis marks the cut)."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > 0 else max_chars - 1].rstrip(" ,;:-") + "…"


async def passage(
    text: str, *, query_vector: Any, query_text: str, embed: Embed, max_chars: int = 400
) -> str:
    """The part of a chunk that answers the question: all of it when it fits in
    ``max_chars`` (a section's hours for every day, not one line of them), else its best
    sentence and the one after it (or before, at the end)."""
    parts = sentences(text)
    if len(parts) > 1 and _title_like(parts[0]):
        parts = parts[1:]  # the section's own title line ("Limpeza e manutenção")
    if not parts:
        return ""
    if len(_joined(parts)) <= max_chars:
        return _joined(parts)
    query = _unit(query_vector)
    words = keywords(query_text)
    scores = np.array([KEYWORD_WEIGHT * overlap(words, part) for part in parts])
    if query is not None:
        vectors = _unit_rows(await embed(parts), len(parts))
        if vectors.shape[1] == query.shape[0]:
            scores = scores + vectors @ query
    # A title line ("Returns and refunds") resembles the question but answers nothing.
    titles = np.array([_title_like(part) for part in parts])
    if not titles.all():
        scores = np.where(titles, -np.inf, scores)
    best = int(np.argmax(scores))
    chosen = [best]
    for neighbour in (best + 1, best - 1):
        if len(chosen) < 2 and 0 <= neighbour < len(parts):
            wider = sorted([*chosen, neighbour])
            if len(_joined([parts[i] for i in wider])) <= max_chars:
                chosen = wider
    return trim(_joined([parts[i] for i in chosen]), max_chars)
