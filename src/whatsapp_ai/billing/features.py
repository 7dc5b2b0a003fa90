"""The features a plan can hold: what the code gates and meters. Plans (data) give each one a
value; this catalogue says what kind of value it takes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a plan gives a feature."""

    FLAG = "flag"  # on or off
    QUOTA = "quota"  # an amount per billing period, metered
    LIMIT = "limit"  # a ceiling on one thing (a voice note's length, the console seats)


@dataclass(frozen=True)
class Feature:
    """One feature: its key, kind, unit and what it means."""

    key: str
    kind: Kind
    description: str
    unit: str = ""


# The agents as the README names them, and the name the assistant stores ("crm": the agenda).
AGENTS = {
    "finance": "finance",
    "agenda": "crm",
    "knowledge": "knowledge",
    "sales": "sales",
    "profile": "profile",
}

VOICE_NOTES = "voice_notes"
HUMAN_HANDOFF = "human_handoff"
KNOWLEDGE_BASE = "knowledge_base"
OWN_MODELS = "own_models"
MESSAGES = "messages"
AI_TOKENS = "ai_tokens"
TRANSCRIPTION_MINUTES = "transcription_minutes"
CONTACTS = "contacts"
KNOWLEDGE_DOCUMENTS = "knowledge_documents"
KNOWLEDGE_MB = "knowledge_mb"
VOICE_NOTE_SECONDS = "voice_note_seconds"
CONSOLE_SEATS = "console_seats"

_ALL = [
    *(Feature(f"agent.{name}", Kind.FLAG, f"the {name} agent answers contacts") for name in AGENTS),
    Feature(VOICE_NOTES, Kind.FLAG, "voice notes are transcribed and answered"),
    Feature(HUMAN_HANDOFF, Kind.FLAG, "conversations can be handed to the tenant's operators"),
    Feature(KNOWLEDGE_BASE, Kind.FLAG, "documents can be uploaded for the assistant to quote"),
    Feature(OWN_MODELS, Kind.FLAG, "the tenant may set its own hosted chat models"),
    Feature(MESSAGES, Kind.QUOTA, "messages the assistant answers per period", "messages"),
    Feature(AI_TOKENS, Kind.QUOTA, "hosted-model tokens per period", "tokens"),
    Feature(
        TRANSCRIPTION_MINUTES, Kind.QUOTA, "voice-note minutes transcribed per period", "minutes"
    ),
    Feature(CONTACTS, Kind.QUOTA, "new contacts per period", "contacts"),
    Feature(KNOWLEDGE_DOCUMENTS, Kind.QUOTA, "documents uploaded per period", "documents"),
    Feature(KNOWLEDGE_MB, Kind.QUOTA, "megabytes of documents uploaded per period", "MB"),
    Feature(VOICE_NOTE_SECONDS, Kind.LIMIT, "the longest voice note transcribed", "seconds"),
    Feature(CONSOLE_SEATS, Kind.LIMIT, "console users (admins, operators, members)", "users"),
]
FEATURES: dict[str, Feature] = {feature.key: feature for feature in _ALL}


def agent_feature(stored_agent: str) -> str:
    """The feature key of an agent by the name the assistant stores it under."""
    shown = {stored: shown for shown, stored in AGENTS.items()}.get(stored_agent, stored_agent)
    return f"agent.{shown}"


def kind_of(key: str) -> Kind:
    """The kind of a known feature; KeyError for an unknown one."""
    return FEATURES[key].kind
