"""Domain errors: one base every module derives from, mapped to HTTP once (in ``app.py``).

A service raises what went wrong in its own words; the status, the machine-readable code and
the field it concerns travel with the exception, so no router translates errors by hand.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A request the domain refuses. ``field`` names the value at fault, when there is one.

    ``status`` and ``code`` are class attributes: 422 ``validation_error`` unless a subclass
    says otherwise. The message is shown to API callers as is (never to WhatsApp users).
    """

    status: ClassVar[int] = 422
    code: ClassVar[str] = "validation_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.message = message
        self.field = field


class InvalidInputError(DomainError):
    """A value the domain cannot keep (422)."""


class NotFoundError(DomainError, LookupError):
    """No such record for this tenant (404)."""

    status = 404
    code = "not_found"


class ConflictError(DomainError):
    """The request clashes with the record's current state or another record (409)."""

    status = 409
    code = "conflict"
