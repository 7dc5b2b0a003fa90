"""Conversation errors: changes the state machine, the conversation's version or the operators
do not allow."""

from __future__ import annotations

from whatsapp_ai.core.errors import ConflictError, DomainError, InvalidInputError, NotFoundError


class ConversationError(DomainError):
    """A change to a conversation the platform refuses."""


class TransitionError(ConversationError, ConflictError):
    """A change the state machine does not allow; the message says why."""


class StaleConversationError(ConversationError, ConflictError):
    """The conversation changed since the version the caller saw."""


class NoOperatorFreeError(ConversationError, ConflictError):
    """Every operator is away or at the tenant's limit of open conversations."""


class OperatorError(ConversationError, InvalidInputError):
    """The operator named cannot take the conversation; the message says why."""


class OperatorNotFoundError(ConversationError, NotFoundError):
    """No active user of the tenant who can be an operator has this id."""
