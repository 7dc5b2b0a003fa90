"""Knowledge API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DocumentOut(BaseModel):
    """A document as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    filename: str
    content_type: str
    size: int = Field(description="Bytes.")
    sha256: str
    status: str = Field(description="ready: searchable; failed: see error.")
    error: str | None
    chunk_count: int
    created_at: datetime
    updated_at: datetime


class ChunkOut(BaseModel):
    """A passage of a document, as it is searched."""

    model_config = ConfigDict(from_attributes=True)

    position: int
    page: int | None
    heading: str | None
    text: str


class DocumentDetail(DocumentOut):
    """A document with its passages in reading order."""

    chunks: list[ChunkOut]


class HitOut(BaseModel):
    """A passage that may answer the question."""

    model_config = ConfigDict(from_attributes=True)

    document_id: str
    title: str
    page: int | None
    heading: str | None
    position: int
    score: float
    text: str = Field(validation_alias="chunk_text")


class SearchOut(BaseModel):
    """What the assistant would find for a question."""

    query: str
    answered: bool = Field(description="Whether the best passage is close enough to answer.")
    min_score: float = Field(description="Below this score the assistant says it doesn't know.")
    answer: str | None = Field(
        description="The part of the best passage the assistant would quote, when answered."
    )
    hits: list[HitOut]
