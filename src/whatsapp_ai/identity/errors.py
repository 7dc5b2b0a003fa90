"""Identity errors: addresses, names and e-mails the platform cannot take."""

from __future__ import annotations

from whatsapp_ai.core.errors import ConflictError, DomainError, InvalidInputError


class IdentityError(DomainError):
    """An identity request the platform refuses."""


class InvalidAddressError(IdentityError, InvalidInputError, ValueError):
    """A sender address that is not an E.164 phone number (or WhatsApp user id).

    Also a ValueError: request models validate addresses with it.
    """


class InvalidSlugError(IdentityError, InvalidInputError, ValueError):
    """A tenant slug that is not lowercase letters, digits and dashes."""


class InvalidRoleError(IdentityError, InvalidInputError, ValueError):
    """A role that does not fit the user (platform admins belong to no tenant)."""


class DuplicateEmailError(IdentityError, ConflictError):
    """A user with this e-mail exists already."""

    def __init__(self, email: str) -> None:
        super().__init__("a user with this e-mail exists", field="email")
        self.email = email


class DuplicateSlugError(IdentityError, ConflictError):
    """A tenant with this slug exists already."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"the name {slug} is taken", field="slug")
        self.slug = slug


class RegistrationRaceError(IdentityError, ConflictError):
    """The same e-mail or business name was registered by a concurrent request."""
