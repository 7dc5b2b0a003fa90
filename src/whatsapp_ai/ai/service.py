"""AI service: the reply step the pipeline calls for each turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True)
class HistoryItem:
    """One earlier message of the conversation."""

    author: Literal["user", "assistant", "operator", "system"]
    body: str


@dataclass(frozen=True)
class TurnInput:
    """What the reply step may use; tenant and contact come from the platform, not the text."""

    tenant_id: str
    tenant_name: str
    contact_id: str
    contact_name: str | None
    conversation_id: str
    text: str
    history: list[HistoryItem] = field(default_factory=list)


@dataclass(frozen=True)
class Reply:
    """What to answer, and how it was produced."""

    text: str
    model: str
    language: str


class ReplyStep(Protocol):
    """Produces the assistant's reply to one user message."""

    async def reply(self, turn: TurnInput) -> Reply:
        """The reply for ``turn``."""
        ...
