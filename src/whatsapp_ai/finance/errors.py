"""What finance refuses, and why (the message is shown to API callers as is)."""

from __future__ import annotations

from whatsapp_ai.core import errors as core


class FinanceError(core.DomainError):
    """A finance request that cannot be done."""


class InvalidEntryError(FinanceError, core.InvalidInputError):
    """A value an entry cannot hold; ``field`` names it."""


class UnknownContactError(FinanceError, core.InvalidInputError):
    """The contact an entry is for is not one of the tenant's (422 on ``contact_id``)."""

    def __init__(self, contact_id: str) -> None:
        super().__init__("no such contact in this tenant", field="contact_id")
        self.contact_id = contact_id


class EntryNotFoundError(FinanceError, core.NotFoundError):
    """The tenant has no such entry."""

    def __init__(self, message: str = "entry not found") -> None:
        super().__init__(message)


class ContactNotFoundError(FinanceError, core.NotFoundError):
    """A sum or summary asked for a contact the tenant does not have."""

    def __init__(self, message: str = "contact not found") -> None:
        super().__init__(message)
