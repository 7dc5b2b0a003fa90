"""What a run of the assistant knows that the model never decides: who, where, when."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from whatsapp_ai.core.money import CURRENCIES

DEFAULT_TIMEZONE = "America/Sao_Paulo"
_HEADER = re.compile(
    r"^\[context\] now=(\S+) tz=(\S+) language=(\w+)(?: currency=([A-Z]{3}))?$", re.MULTILINE
)
DEFAULT_CURRENCY = "BRL"
_ROUTE = re.compile(r"^\[route\] intent=(\S+)$", re.MULTILINE)
_DIALOGUE = re.compile(r"^\[dialogue\] (\{.*\})$", re.MULTILINE)


@dataclass(frozen=True)
class RunContext:
    """The tenant, contact, conversation and message of one turn.

    Tools take these from here, never from the model's arguments, so no text can make the
    assistant act for another contact or tenant. ``message_id`` keys every write, so a retried
    turn does not record twice.
    """

    tenant_id: str
    contact_id: str
    conversation_id: str
    message_id: str
    now: datetime
    timezone: str = DEFAULT_TIMEZONE
    language: str = "pt"
    contact_name: str | None = None
    # The currency an amount without a marker is in ("gastei 50": reais in Brazil, dollars
    # for a +1 number), from the contact's preferences.
    currency: str = DEFAULT_CURRENCY
    enabled_agents: frozenset[str] = field(default_factory=frozenset)

    @property
    def local_now(self) -> datetime:
        """Now, in the contact's time zone."""
        return self.now.astimezone(ZoneInfo(self.timezone))

    def header(self) -> str:
        """The line that tells any model (hosted or offline) the moment, zone and language."""
        moment = self.local_now.isoformat()
        return (
            f"[context] now={moment} tz={self.timezone} language={self.language}"
            f" currency={self.currency}"
        )


@dataclass(frozen=True)
class Moment:
    """The context header read back (what the offline model sees of the run)."""

    now: datetime
    timezone: str
    language: str
    intent: str | None = None
    # Where the conversation stands (the last request's intent and slots, an open question).
    dialogue: dict[str, Any] = field(default_factory=dict)
    currency: str = DEFAULT_CURRENCY


def route_line(intent: str) -> str:
    """The line that tells the model which intent the router saw in the message."""
    return f"[route] intent={intent}"


def dialogue_line(state: dict[str, Any]) -> str:
    """The line that tells the model where the conversation stands (one JSON object)."""
    return "[dialogue] " + json.dumps(state, ensure_ascii=False, sort_keys=True, default=str)


def read_dialogue(text: str) -> dict[str, Any]:
    """The dialogue line in a system message read back (empty when there is none)."""
    found = _DIALOGUE.search(text)
    if found is None:
        return {}
    try:
        state = json.loads(found[1])
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def read_header(text: str) -> Moment | None:
    """The context header in a system message, if there is one."""
    found = _HEADER.search(text)
    if found is None:
        return None
    route = _ROUTE.search(text)
    intent = route[1] if route else None
    return Moment(
        datetime.fromisoformat(found[1]),
        found[2],
        found[3],
        intent,
        read_dialogue(text),
        found[4] or DEFAULT_CURRENCY,
    )


def contact_currency(preferences: dict[str, Any]) -> str:
    """The contact's currency (from their number's country or their own choice), if known."""
    chosen = str(preferences.get("currency") or "").upper()
    return chosen if chosen in CURRENCIES else DEFAULT_CURRENCY
