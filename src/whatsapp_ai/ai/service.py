"""AI service: the reply step the pipeline calls for each turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from whatsapp_ai.ai.router.encoder import get_encoder
from whatsapp_ai.core.i18n import text

__all__ = [
    "AttachmentInfo",
    "HistoryItem",
    "NoSpeech",
    "Reply",
    "ReplyStep",
    "SpeechStep",
    "TurnInput",
    "fixed_reply",
    "get_encoder",
]


@dataclass(frozen=True)
class HistoryItem:
    """One earlier message of the conversation."""

    author: Literal["user", "assistant", "operator", "system"]
    body: str


@dataclass(frozen=True)
class AttachmentInfo:
    """A file the user sent with the message (stored, readable by operators)."""

    kind: str
    content_type: str


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
    attachments: list[AttachmentInfo] = field(default_factory=list)
    contact_language: str | None = None
    contact_timezone: str | None = None
    contact_preferences: dict[str, Any] = field(default_factory=dict)
    # The stored user message (keys the turn's writes, so a retried turn writes once).
    message_id: str = ""
    now: datetime | None = None
    # The tenant's assistant: its agents switched on (None: all), its name and description.
    enabled_agents: frozenset[str] | None = None
    assistant_name: str | None = None
    assistant_description: str | None = None


@dataclass(frozen=True)
class Reply:
    """What to answer, and how it was produced."""

    text: str
    model: str
    language: str
    # Set when the assistant decides a person must take over (why, for the operators).
    handoff: str | None = None
    # False when the reply could not help; a few in a row call a person.
    resolved: bool = True
    # How the reply was made (route, agents, tool calls, tokens, latency), for the audit trail.
    trace: dict[str, Any] | None = None
    # Features the tenant's plan lacks that the message asked for (answered with a fixed text).
    blocked: tuple[str, ...] = ()


class ReplyStep(Protocol):
    """Produces the assistant's reply to one user message."""

    async def reply(self, turn: TurnInput) -> Reply:
        """The reply for ``turn``."""
        ...


class SpeechStep(Protocol):
    """Turns a voice note into text."""

    async def transcribe(self, audio: bytes, content_type: str) -> str | None:
        """The transcript, or None when this step cannot transcribe."""
        ...


class NoSpeech:
    """No speech-to-text installed: voice notes get a fixed, honest reply."""

    async def transcribe(self, audio: bytes, content_type: str) -> str | None:
        """Always None."""
        del audio, content_type
        return None


# The fixed replies by kind; the profile ones have the profile's own section.
_KEYS = {
    "attachment_failed": "assistant.attachment_failed",
    "unsupported_message": "assistant.unsupported_message",
    "turn_failed": "assistant.turn_failed",
    "erasure_confirm": "assistant.erasure_confirm",
    "erasure_done": "assistant.erasure_done",
    "voice_unavailable": "assistant.voice_unavailable",
    "profile_name": "profile.name",
    "profile_timezone": "profile.timezone",
    "profile_language": "profile.language",
}


def fixed_reply(kind: str, language: str | None, **values: Any) -> str:
    """A fixed message for situations the assistant must not improvise on, ``values`` filled."""
    return text(language, _KEYS[kind], **values)
