"""What the personal CRM refuses, and why (the message is shown to the caller as is)."""

from __future__ import annotations


class RelationshipError(Exception):
    """A request the CRM cannot carry out."""


class NotFoundError(RelationshipError):
    """The tenant has no such contact, person, reminder or meeting (for this contact)."""


class DuplicateError(RelationshipError):
    """The record exists already: a person with the same name, or a reused source key."""


class InvalidInputError(RelationshipError):
    """A value the CRM cannot keep: an empty name, a text too long, a foreign cursor."""


class BadTimeError(InvalidInputError):
    """A time that makes no sense for the record: a reminder or meeting in the past, an
    interaction in the future, a meeting that ends before it starts."""


class InvalidChangeError(RelationshipError):
    """A change the record's state does not allow (e.g. completing a cancelled reminder)."""
