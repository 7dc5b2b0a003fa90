"""Knowledge tables: a tenant's documents and their searchable chunks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_ai.core.db import Base, IdType, TenantScoped, UTCDateTime


class Document(TenantScoped, Base):
    """A file the tenant gave the assistant to answer from (the business's, not a contact's)."""

    __tablename__ = "knowledge_documents"
    __table_args__ = (
        # The same file uploaded again is the same document.
        Index("ux_knowledge_documents_sha256", "tenant_id", "sha256", unique=True),
        CheckConstraint("status IN ('ready', 'failed')", name="status"),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Chunk(TenantScoped, Base):
    """A passage of a document (a few paragraphs) and its sentence-encoder vector."""

    __tablename__ = "knowledge_chunks"
    __table_args__ = (
        Index("ux_knowledge_chunks_position", "document_id", "position", unique=True),
        Index("ix_knowledge_chunks_tenant", "tenant_id"),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    document_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge_documents.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    heading: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # float32, little-endian, L2-normalised (512 values for the bundled encoder).
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
