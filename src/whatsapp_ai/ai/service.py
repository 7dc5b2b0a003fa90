"""AI service: the reply step the pipeline calls for each turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from whatsapp_ai.ai.router.encoder import get_encoder

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


_FIXED = {
    "attachment_failed": {
        "pt": "Não consegui abrir o arquivo que você enviou. Pode tentar de novo ou mandar em "
        "outro formato (foto, PDF ou áudio)?",
        "en": "I couldn't open the file you sent. Could you try again or send it in another "
        "format (photo, PDF or audio)?",
    },
    "unsupported_message": {
        "pt": "Não consegui entender esse tipo de mensagem. Pode escrever em texto?",
        "en": "I couldn't read that kind of message. Could you write it as text?",
    },
    "turn_failed": {
        "pt": "Desculpe, não consegui responder sua mensagem agora. Nossa equipe foi avisada; "
        "pode tentar de novo em alguns minutos.",
        "en": "Sorry, I couldn't answer your message right now. Our team has been told; "
        "please try again in a few minutes.",
    },
    "erasure_confirm": {
        "pt": "Você pediu para apagar todos os seus dados conosco: mensagens, arquivos e "
        "cadastro. Isso não pode ser desfeito. Para confirmar, responda APAGAR nos próximos "
        "10 minutos; qualquer outra resposta cancela.",
        "en": "You asked us to erase all your data: messages, files and profile. This cannot "
        "be undone. To confirm, reply DELETE within 10 minutes; any other reply cancels.",
    },
    "erasure_done": {
        "pt": "Pronto: apagamos todos os seus dados. Se escrever de novo, começamos do zero.",
        "en": "Done: we erased all your data. If you write again, we start from scratch.",
    },
    "profile_name": {
        "pt": "Combinado, vou te chamar de {name}.",
        "en": "Sure, I'll call you {name}.",
    },
    "profile_timezone": {
        "pt": "Combinado, a partir de agora uso o horário de {zone}.",
        "en": "Sure, from now on I'll use {zone} time.",
    },
    "profile_language": {
        "pt": "Combinado, a partir de agora respondo em português.",
        "en": "Sure, from now on I'll answer in English.",
    },
    "voice_unavailable": {
        "pt": "Recebi seu áudio, mas ainda não consigo ouvir mensagens de voz. Pode escrever?",
        "en": "I got your voice message, but I can't listen to voice notes yet. Could you type it?",
    },
}


def fixed_reply(kind: str, language: str) -> str:
    """A fixed message for situations the assistant must not improvise on."""
    texts = _FIXED[kind]
    return texts.get(language, texts["pt"])
