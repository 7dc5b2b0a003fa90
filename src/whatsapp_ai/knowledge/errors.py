"""Knowledge errors: what cannot become a document, and why."""

from __future__ import annotations


class KnowledgeError(Exception):
    """A knowledge request that cannot be done."""


class UnsupportedTypeError(KnowledgeError, ValueError):
    """A file type the knowledge base does not read."""


class TooLargeError(KnowledgeError, ValueError):
    """A file over ``MAX_BYTES``."""


class InvalidDocumentError(KnowledgeError, ValueError):
    """A file or value that cannot become a document; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class UnreadableError(KnowledgeError):
    """A PDF whose text cannot be taken out (stored as a failed document, with the reason)."""
