"""The conversation state machine: its states, who may move a conversation, and where to.

Every change goes through :func:`check`; the transition table below is the whole truth.
"""

from __future__ import annotations

from enum import StrEnum

from whatsapp_ai.conversation.errors import TransitionError

__all__ = [
    "ENDED",
    "HUMAN",
    "OPEN",
    "TRANSITIONS",
    "Actor",
    "Status",
    "TransitionError",
    "check",
]


class Status(StrEnum):
    """Where a conversation stands."""

    ACTIVE = "active"  # the assistant answers
    WAITING_HUMAN = "waiting_human"  # handed off; in the operators' queue
    WITH_HUMAN = "with_human"  # an operator has it; the assistant is silent
    IDLE = "idle"  # the contact went quiet
    CLOSED = "closed"  # ended by the contact, the assistant or an operator
    EXPIRED = "expired"  # ended by silence
    FAILED = "failed"  # could not go on (the contact cannot be reached)


class Actor(StrEnum):
    """Who changes a conversation."""

    USER = "user"  # the contact, by what they wrote
    ASSISTANT = "assistant"  # the AI, by its decision
    OPERATOR = "operator"  # a person of the tenant (console or API)
    SYSTEM = "system"  # timers and delivery outcomes


ENDED = frozenset({Status.CLOSED, Status.EXPIRED, Status.FAILED})
# Open conversations receive the contact's next message; ended ones are never reopened, save a
# failed one whose message a retried delivery got through after all (and only while the
# contact has no newer conversation).
OPEN = frozenset(set(Status) - ENDED)
# The assistant stays silent in these; messages go to the operators.
HUMAN = frozenset({Status.WAITING_HUMAN, Status.WITH_HUMAN})

_U, _A, _O, _S = Actor.USER, Actor.ASSISTANT, Actor.OPERATOR, Actor.SYSTEM

# (from, to) → the actors allowed to make that change.
TRANSITIONS: dict[tuple[Status, Status], frozenset[Actor]] = {
    (Status.ACTIVE, Status.WAITING_HUMAN): frozenset({_U, _A, _O, _S}),
    (Status.ACTIVE, Status.WITH_HUMAN): frozenset({_O}),
    (Status.ACTIVE, Status.IDLE): frozenset({_S}),
    (Status.ACTIVE, Status.CLOSED): frozenset({_U, _A, _O}),
    (Status.ACTIVE, Status.FAILED): frozenset({_S}),
    (Status.WAITING_HUMAN, Status.WITH_HUMAN): frozenset({_O, _S}),  # taken, or auto-assigned
    (Status.WAITING_HUMAN, Status.ACTIVE): frozenset({_O, _S}),  # returned, or nobody came
    (Status.WAITING_HUMAN, Status.CLOSED): frozenset({_U, _O}),
    (Status.WAITING_HUMAN, Status.FAILED): frozenset({_S}),
    (Status.WITH_HUMAN, Status.ACTIVE): frozenset({_O, _S}),  # returned, or operator went quiet
    (Status.WITH_HUMAN, Status.WAITING_HUMAN): frozenset({_O}),  # released to the queue
    (Status.WITH_HUMAN, Status.WITH_HUMAN): frozenset({_O}),  # reassigned to another operator
    (Status.WITH_HUMAN, Status.CLOSED): frozenset({_U, _O}),
    (Status.WITH_HUMAN, Status.FAILED): frozenset({_S}),
    (Status.IDLE, Status.ACTIVE): frozenset({_U}),  # the contact wrote again
    (Status.IDLE, Status.WAITING_HUMAN): frozenset({_U, _O}),
    (Status.IDLE, Status.WITH_HUMAN): frozenset({_O}),
    (Status.IDLE, Status.CLOSED): frozenset({_U, _O}),
    (Status.IDLE, Status.EXPIRED): frozenset({_S}),
    (Status.IDLE, Status.FAILED): frozenset({_S}),
    (Status.FAILED, Status.ACTIVE): frozenset({_S}),  # delivered after all
    (Status.FAILED, Status.WAITING_HUMAN): frozenset({_S}),  # delivered; a person had it
}


def check(current: str, target: str, actor: str) -> tuple[Status, Status, Actor]:
    """Validate a change; the parsed (from, to, actor), or TransitionError."""
    try:
        source, dest, who = Status(current), Status(target), Actor(actor)
    except ValueError as exc:
        raise TransitionError(str(exc)) from exc
    allowed = TRANSITIONS.get((source, dest))
    if allowed is None:
        if source in ENDED:
            raise TransitionError(f"the conversation is {source}; it cannot change any more")
        raise TransitionError(f"a conversation cannot go from {source} to {dest}")
    if who not in allowed:
        raise TransitionError(f"the {who} cannot move a conversation from {source} to {dest}")
    return source, dest, who
