"""The inbound turn's decisions: what to do with one message from a contact.

Nothing here reads or writes anything. The pipeline gathers what a turn knows (``Context``),
asks these functions what to answer (``Answer``) and what the answer changes in the
conversation (``Close``, ``HandOff``, ``CountUnresolved``), and the turn store carries that out
in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from whatsapp_ai.ai.closing import closes_the_order, wants_to_close
from whatsapp_ai.ai.handoff import accepts_offer, asks_for_human, mentions_topic
from whatsapp_ai.ai.privacy import asks_for_erasure, confirms_erasure
from whatsapp_ai.ai.profile import place_named
from whatsapp_ai.ai.service import HistoryItem, Reply, fixed_reply
from whatsapp_ai.conversation.notices import notice
from whatsapp_ai.conversation.policy import Policy
from whatsapp_ai.conversation.states import HUMAN, Actor, Status
from whatsapp_ai.core.i18n import text as catalogue_text
from whatsapp_ai.identity import service as identity

__all__ = [
    "PROFILE_ONLY_WORDS",
    "Answer",
    "Close",
    "Context",
    "CountUnresolved",
    "ErasureStep",
    "HandOff",
    "LeaseLostError",
    "Said",
    "Then",
    "Turn",
    "answer_of",
    "before_reply",
    "burst_text",
    "burst_wait",
    "erasure_confirmation",
    "erasure_step",
    "failed",
    "fixed_meta",
    "handoff_asked",
    "nothing_to_read",
    "over_quota",
    "profile_confirmations",
    "profile_only",
    "with_confirmations",
]

# A message this short that changes the profile is only that request: no reply step.
PROFILE_ONLY_WORDS = 8


class LeaseLostError(Exception):
    """The turn lease expired mid-turn; the reply is not stored (the next holder answers)."""


@dataclass(frozen=True)
class Turn:
    """The pending messages of a sender one reply answers (one, or a burst sent close
    together, oldest first), and the lease that makes this job their only answerer."""

    tenant_id: str
    event_ids: tuple[str, ...]
    lease_key: str
    # The job id tells apart jobs leased in one batch; the token, a job re-leased later.
    owner: str

    @property
    def event_id(self) -> str:
        """The first message's event; a retry of the turn starts from it again, so it keys
        what the turn writes."""
        return self.event_ids[0]


@dataclass(frozen=True)
class Said:
    """One message of the turn as stored in the conversation."""

    event_id: str
    external_id: str
    payload: dict[str, Any]
    text: str
    message_id: str


@dataclass
class Context:
    """What one turn knows once the user's messages are stored.

    ``text`` holds every message of the turn, one per line (each its own request);
    ``external_id`` and ``payload`` are the last message's (the reply answers it, at the
    address it came from); ``user_message_id`` is the first's (it keys the turn's writes)."""

    turn: Turn
    tenant_name: str
    external_id: str
    channel: str
    payload: dict[str, Any]
    text: str
    messages: list[Said]
    contact_id: str
    contact: identity.ContactContext
    recipient: str
    conversation_id: str
    status: Status
    policy: Policy
    user_message_id: str
    earlier: list[HistoryItem]
    erasure_requested_at: datetime | None
    language: str
    # The key of the messages-quota reservation this turn holds (settled with the reply).
    reservation: str | None = None
    # When the contact first wrote: a contact new this billing period counts in its quota.
    contact_since: datetime | None = None

    @property
    def tenant_id(self) -> str:
        """The tenant the message was sent to."""
        return self.turn.tenant_id

    @property
    def event_id(self) -> str:
        """The inbound event of the turn's first message."""
        return self.turn.event_id

    @property
    def message_ids(self) -> list[str]:
        """The stored user messages the reply answers, oldest first."""
        return [said.message_id for said in self.messages]


# --- what the reply changes in the conversation, as it is stored ------------------------------


@dataclass(frozen=True)
class Close:
    """The contact said goodbye: the conversation ends."""


@dataclass(frozen=True)
class HandOff:
    """Put the conversation in the operators' queue and tell the contact (``notice``).

    ``only_if_staffed``: the assistant's own call, made only when some operator is available.
    """

    actor: Actor
    reason: str
    notice: str
    only_if_staffed: bool = False


@dataclass(frozen=True)
class CountUnresolved:
    """Keep count of replies in a row that could not help; at the tenant's limit, call a person
    (``reason`` says so to the operators)."""

    resolved: bool
    reason: str


type Then = Close | HandOff | CountUnresolved


@dataclass(frozen=True)
class Answer:
    """What the turn answers. ``text`` None: the message is kept without a reply (a person has
    the conversation). ``quiet_unless_active``: the reply is dropped the same way if a person
    took the conversation, or it ended, while the reply was being made."""

    text: str | None
    meta: dict[str, Any] = field(default_factory=dict)
    then: Then | None = None
    event_status: str = "processed"
    quiet_unless_active: bool = True


def fixed_meta(context: Context) -> dict[str, Any]:
    """The meta of a reply the assistant did not compose."""
    return {"model": "fixed", "language": context.language}


# --- the decisions, in the order the pipeline asks them -----------------------------------------


class ErasureStep(StrEnum):
    """What a message does to the contact's request to be erased."""

    ERASE = "erase"  # the contact confirmed a pending request
    ASK = "ask"  # the contact asks: remember it and ask to confirm
    CANCEL = "cancel"  # any other reply cancels a pending request


def erasure_step(context: Context, *, now: datetime) -> ErasureStep | None:
    """The step "erase my data" in chat takes with this message; None when it has none."""
    pending = identity.erasure_pending(context.erasure_requested_at, now=now)
    if pending and confirms_erasure(context.text):
        return ErasureStep.ERASE
    if asks_for_erasure(context.text):
        return ErasureStep.ASK
    return ErasureStep.CANCEL if pending else None


def erasure_confirmation(context: Context) -> Answer:
    """The question that asks the contact to confirm the erasure (sent in any state)."""
    return Answer(
        fixed_reply("erasure_confirm", context.language),
        fixed_meta(context),
        quiet_unless_active=False,
    )


def before_reply(context: Context) -> Answer | None:
    """An answer the message gets without the reply step: silence while a person has the
    conversation, a farewell, or a handoff; None when the reply step answers."""
    if context.status in HUMAN:
        # A person has (or is about to have) this conversation: the assistant stays quiet.
        return Answer(None)
    last = context.earlier[-1] if context.earlier else None
    shown = last.body if last is not None and last.author == "assistant" else None
    if wants_to_close(context.text) and not closes_the_order(context.text, shown):
        return Answer(notice("farewell", context.language), fixed_meta(context), Close())
    handoff = handoff_asked(context)
    if handoff is not None:
        return Answer("", fixed_meta(context), handoff)
    return None


def handoff_asked(context: Context) -> HandOff | None:
    """A handoff the message itself calls for: the contact asks, or a human-only topic."""
    if asks_for_human(context.text):
        return HandOff(Actor.USER, "the contact asked for a person", "handoff_requested")
    last = context.earlier[-1] if context.earlier else None
    if last is not None and last.author == "assistant" and accepts_offer(last.body, context.text):
        return HandOff(
            Actor.USER, "the contact accepted the offer of a person", "handoff_requested"
        )
    topic = mentions_topic(context.text, context.policy.human_only_topics)
    if topic is not None:
        return HandOff(Actor.ASSISTANT, f"human-only topic: {topic}", "handoff_topic")
    return None


def profile_confirmations(changes: dict[str, str], language: str, message: str = "") -> list[str]:
    """What the contact is told of the profile changes their ``message`` made (its words
    name the place)."""
    said = []
    if "display_name" in changes:
        said.append(fixed_reply("profile_name", language, name=changes["display_name"]))
    if "language" in changes:
        said.append(fixed_reply("profile_language", language))
    if "timezone" in changes:
        place = place_named(message) or changes["timezone"].rsplit("/", 1)[-1].replace("_", " ")
        said.append(fixed_reply("profile_timezone", language, zone=place))
    return said


def profile_only(context: Context, confirmations: list[str], meta: dict[str, Any]) -> Answer | None:
    """The whole answer when the message was only a profile request: its confirmations (a
    burst says more than that: its other messages are answered too)."""
    if (
        confirmations
        and len(context.messages) <= 1
        and len(context.text.split()) <= PROFILE_ONLY_WORDS
    ):
        return Answer("\n\n".join(confirmations), meta)
    return None


def nothing_to_read(
    context: Context, text: str, notes: list[str], has_files: bool
) -> Answer | None:
    """The fixed answer when the message has no text for the reply step (an unsupported
    type, an empty body, files that could not be read); None when there is some."""
    if text.strip():
        return None
    if not has_files and not notes:
        notes = [fixed_reply("unsupported_message", context.language)]
    if notes or not has_files:
        return Answer("\n\n".join(notes), fixed_meta(context))
    return None


def answer_of(context: Context, reply: Reply, notes: list[str]) -> Answer:
    """The reply step's answer after the notes on unreadable files; a handoff the assistant
    decided, or else the count of replies that could not help."""
    meta: dict[str, Any] = {"model": reply.model, "language": reply.language}
    if reply.blocked:
        meta["billing"] = {"blocked": list(reply.blocked)}
    if reply.trace is not None:
        meta["trace"] = reply.trace
    text = "\n\n".join([*notes, reply.text])
    if reply.handoff:
        # A customer's complaint, refund or change for the team is queued even when nobody is on
        # duty (the contact needs a person, not a better answer from the assistant).
        support = reply.handoff.startswith("support:")
        notice = "handoff_topic" if support else "handoff_assistant"
        return Answer(
            text,
            meta,
            HandOff(Actor.ASSISTANT, reply.handoff, notice, only_if_staffed=not support),
        )
    reason = f"{context.policy.handoff_after_failures} replies in a row could not help"
    return Answer(text, meta, CountUnresolved(reply.resolved, reason))


def over_quota(context: Context, feature: str) -> Answer:
    """The fixed answer when the plan's quota is used up: no model is asked; the message is
    stored and the operators see it."""
    return Answer(
        catalogue_text(context.language, "billing.quota_reached", tenant=context.tenant_name),
        {**fixed_meta(context), "billing": {"blocked": feature}},
    )


def with_confirmations(answer: Answer, confirmations: list[str]) -> Answer:
    """The answer preceded by the profile confirmations, if any."""
    if not confirmations:
        return answer
    return replace(answer, text="\n\n".join([*confirmations, answer.text or ""]))


def failed(context: Context, error: Exception) -> Answer:
    """The fixed answer to a message whose turn cannot succeed; the event is marked failed."""
    reason = f"{context.policy.handoff_after_failures} turns in a row failed"
    return Answer(
        fixed_reply("turn_failed", context.language),
        {**fixed_meta(context), "error": repr(error)[:300]},
        CountUnresolved(False, reason),
        event_status="failed",
    )


def burst_wait(
    received: list[datetime], *, now: datetime, window: timedelta, max_wait: timedelta
) -> timedelta:
    """How long to wait for more messages of a burst before answering it: until ``window``
    passed without a new one, but never beyond ``max_wait`` after the first; zero when due."""
    if not received or window <= timedelta(0):
        return timedelta(0)
    due = min(max(received) + window, min(received) + max_wait)
    return max(timedelta(0), due - now)


def burst_text(texts: list[str]) -> str:
    """The messages of a burst as one text for the assistant: one per line, each closed as a
    sentence, so each stays a request of its own even where line breaks are folded away."""
    lines = [text.strip() for text in texts if text.strip()]
    return "\n".join(
        line if line.endswith((".", "!", "?", ";")) or n == len(lines) - 1 else f"{line};"
        for n, line in enumerate(lines)
    )
