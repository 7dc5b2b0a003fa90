"""What the personal CRM refuses, and why (the message is shown to the caller as is)."""

from __future__ import annotations

from whatsapp_ai.core import errors as core


class RelationshipError(core.DomainError):
    """A request the CRM cannot carry out."""


class NotFoundError(RelationshipError, core.NotFoundError):
    """The tenant has no such contact, person, reminder or meeting (for this contact)."""


class DuplicateError(RelationshipError, core.ConflictError):
    """The record exists already: a person with the same name, or a reused source key."""


class InvalidInputError(RelationshipError, core.InvalidInputError):
    """A value the CRM cannot keep: an empty name, a text too long, a search without letters."""


class BadTimeError(InvalidInputError):
    """A time that makes no sense for the record: a reminder or meeting in the past, an
    interaction in the future, a meeting that ends before it starts."""


class PastTimeError(BadTimeError):
    """A reminder or meeting set for a time already gone (the assistant asks for a later one)."""


class InvalidChangeError(RelationshipError, core.ConflictError):
    """A change the record's state does not allow (e.g. completing a cancelled reminder)."""
