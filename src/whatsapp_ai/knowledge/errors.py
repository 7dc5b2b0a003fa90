"""Knowledge errors: what cannot become a document, and why."""

from __future__ import annotations

from typing import ClassVar

from whatsapp_ai.core.errors import DomainError, InvalidInputError


class KnowledgeError(DomainError):
    """A knowledge request that cannot be done."""


class UnsupportedTypeError(KnowledgeError, ValueError):
    """A file type the knowledge base does not read (415)."""

    status: ClassVar[int] = 415
    code: ClassVar[str] = "unsupported_media_type"


class TooLargeError(KnowledgeError, ValueError):
    """A file over ``MAX_BYTES`` (413)."""

    status: ClassVar[int] = 413
    code: ClassVar[str] = "body_too_large"


class InvalidDocumentError(KnowledgeError, InvalidInputError, ValueError):
    """A file or value that cannot become a document; ``field`` names it (422)."""

    field: str

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, field=field)


class UnreadableError(KnowledgeError):
    """A PDF whose text cannot be taken out (stored as a failed document, with the reason)."""
