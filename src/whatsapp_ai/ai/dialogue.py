"""Where a conversation stands between messages: the last request (its intent and slots) and
any question the assistant asked, so "e com uber?" or "349,99" are read in that light.

The decisions are plain functions of the message's shape, the router's confidence and the
stored state; the state is one row per conversation, gone with the conversation and ignored
once it has gone quiet for a while.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.ai.extract import find_when
from whatsapp_ai.ai.extract.subjects import TELL_ABOUT, statement_subject
from whatsapp_ai.ai.models import DialogueState
from whatsapp_ai.core.privacy import ContactRef, Erased
from whatsapp_ai.core.text import fold

# A conversation quiet for longer than this starts afresh: an old question is no longer open.
TTL = timedelta(minutes=30)
# Messages this short can be an answer or an ellipsis; longer ones are requests of their own.
SHORT_WORDS = 7
# A router this sure of another agent overrides the conversation's thread.
SURE = 0.75
# The request that raised a question, kept whole up to this many characters.
TEXT_MAX = 500

# "e com uber?", "e no mês passado?", "what about last month?", "and uber?"
_ELLIPSIS = re.compile(r"^(?:e|and|what about|how about|e quanto a|e o|e a|e os|e as)\b")
# Words that point back at the last request ("tbm", "no mesmo horário", "same time").
BACK_REFERENCE = re.compile(
    r"\b(?:tbm|tb|tambem|too|also|(?:mesmo|msm) (?:horario|hr|hora)|(?:mesma|msm) hora"
    r"|same time|do mesmo jeito)\b"
)
_WORD = re.compile(r"\w+")
# "melhor 16h", "opa, quinta*", "*83", "actually make it 11": the record just made, corrected.
_CORRECTING = re.compile(
    r"\*|\b(?:na vdd|na verdade|melhor|opa|ops|actually|make it|muda|mude|troca|corrige|errei"
    r"|digo|quer dizer|i mean|wait|sorry|oops|nao era|era pra ser|coloca (?:como|em|no|na)"
    r"|poe (?:como|em)|bota (?:como|em)|put it (?:as|in|under)|file it under)\b"
)
# "foi de uber", "foi no pix", "paguei no débito", "it was on my card": how or on what the
# record just made was, said right after it.
SAID_OF_THE_LAST = re.compile(
    r"^(?:(?:e\s+)?(?:foi|era|eh|e|paguei|comprei|was|it was|it's|paid|i paid)\s+(?:tudo\s+)?"
    r"(?:de|do|da|no|na|com|pelo|pela|em|via|on|with|by|at|for|in|using)\b"
    # "no mercado", "de gasolina": the place or thing alone, with no amount of its own
    r"|(?:de|do|da|no|na|num|numa|com|em|pro|pra|on|at|for)\s+(?!.*\d)[^\W\d_]+"
    # "paid cash", "paguei no pix": how it was paid
    r"|(?:(?:paguei|paid|pago|pagou)\s+)?(?:(?:no|na|em|in|with|by|on)\s+)?(?:o\s+|a\s+)?"
    r"(?:pix|cash|dinheiro|cartao|card|credito|debito|credit|debit|boleto)\b)"
)
_CORRECTION_LEAD = re.compile(
    r"^(?:(?:oh|ah|ai)\s+)?(?:na vdd|na verdade|errei|me enganei|corrigindo|quer dizer|pera|perai"
    r"|opa|ops|oops|wait|sorry|actually|i mean|correction)\b"
)
# The other kind of record, named: a change of it is not a change of the last one made.
_KIND_NAMED = {
    "finance": re.compile(
        r"\b(?:lembrete|reuniao|compromisso|consulta|agenda|reminder|meeting|appointment)s?\b"
    ),
    "crm": re.compile(r"\b(?:gasto|lancamento|despesa|entrada|expense|entry|spending)s?\b"),
}
# "send me ...", "me passa ...": a request of its own, never a remark about the last record.
_COMMAND = re.compile(
    r"^(?:send|give|tell|show|list|me passa|passa|manda|me manda|me da|me diz|mostra|lista)\b"
)
# "o segundo", "a primeira", "the second one": a position in a list the assistant showed.
ORDINAL_REF = re.compile(
    r"\b(?:o|a|the|esse|essa|este|esta|that|this)\s+(?:primeir[oa]|segund[oa]|terceir[oa]|quart[oa]|quint[oa]|ultim[oa]"
    r"|first|second|third|fourth|fifth|last)\b(?!\s+(?:feira|semana|week))"
)
ORDINALS = {
    "primeiro": 1, "primeira": 1, "first": 1, "segundo": 2, "segunda": 2, "second": 2,
    "terceiro": 3, "terceira": 3, "third": 3, "quarto": 4, "quarta": 4, "fourth": 4,
    "quinto": 5, "quinta": 5, "fifth": 5, "ultimo": -1, "ultima": -1, "last": -1,
}  # fmt: skip
# "ele", "ela", "isso", "it": the record just made.
_POINTS_BACK = re.compile(r"\b(?:ele|ela|isso|esse|essa|isto|it|that one|this one)\b")
_REMOVING = re.compile(
    r"\b(?:apag\w*|exclu\w*|delet\w*|remov\w*|tira|cancel\w*|desmarc\w*|esquece|drop|erase)\b"
)
_CHANGING = re.compile(
    r"\b(?:muda|mude|mudar|passa|coloca|bota|joga|move|push|change|make|foi|era|was|troca"
    r"|adia|adianta|remarca)\b"
)
_REMOVAL_OF = {
    "crm.move": "crm.cancel",
    "crm.person_fix": "crm.person_forget",
    "finance.edit_last": "finance.delete_last",
}
# A question ("?", "quanto", "how much"), and the intents that answer questions.
_ASKS = re.compile(r"\?|\b(?:quanto|qnto|qto|quais|qual|quando|onde|how much|what|which|when)\b")
ASKING = frozenset(
    {
        "finance.query",
        "finance.summary",
        "crm.list_reminders",
        "crm.person_info",
        "knowledge.question",
        "sales.browse",
        "sales.order_view",
    }
)
# The request that changes what each kind of request made.
CHANGE_OF = {
    "crm.add_reminder": "crm.move",
    "crm.add_meeting": "crm.move",
    "crm.move": "crm.move",
    "finance.add_expense": "finance.edit_last",
    "finance.add_income": "finance.edit_last",
    "finance.edit_last": "finance.edit_last",
    "crm.log_interaction": "crm.person_fix",
    "crm.add_contact": "crm.person_fix",
    "crm.person_update": "crm.person_fix",
    "crm.person_fix": "crm.person_fix",
    # "na vdd ela mudou pra Floripa" right after reading Carla's notes back
    "crm.person_info": "crm.person_fix",
}
# Slots worth carrying over from a tool call's arguments (the rest are the request's own).
SLOTS = frozenset(
    {
        "kind",
        "start",
        "end",
        "category",
        "description",
        "day",
        "which",
        "when",
        "person",
        "due_at",
        "text",
        "title",
        "starts_at",
        "name",
        "listed",
    }
)
# A person's details a request set: a correction right after it ("o final é 4321") is of them.
DETAILS = ("phone", "email", "birthday")

How = Literal["new", "answer", "follow_up"]


@dataclass(frozen=True)
class Dialogue:
    """The state of one conversation."""

    intent: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    question: str | None = None
    pending_intent: str | None = None
    pending_text: str | None = None
    updated_at: datetime | None = None

    def live(self, now: datetime) -> Dialogue:
        """This state, or an empty one when the conversation has been quiet too long."""
        if self.updated_at is None or now - self.updated_at > TTL:
            return Dialogue()
        return self

    def shown(self) -> dict[str, Any]:
        """What a model is told (nothing when there is nothing to tell)."""
        said: dict[str, Any] = {}
        if self.intent:
            said["intent"] = self.intent
            said["slots"] = self.slots
        if self.question:
            said["question"] = self.question
            said["pending"] = self.pending_intent
        return said


@dataclass(frozen=True)
class Reading:
    """How one clause is read: under which intent, with which words, and why."""

    how: How
    intent: str | None
    text: str


def _agent(intent: str | None) -> str:
    return (intent or "").split(".", 1)[0]


def words(text: str) -> int:
    """How many words a message has."""
    return len(_WORD.findall(text))


def elliptical(text: str) -> bool:
    """A short message that leans on the one before ("e ontem?", "and on uber?")."""
    folded = fold(text).strip()
    if not _ELLIPSIS.match(folded):
        return False
    # "e amanhã no mesmo horário de regar as plantas": longer, but it says what it leans on.
    return words(folded) <= SHORT_WORDS or (
        words(folded) <= 2 * SHORT_WORDS and BACK_REFERENCE.search(folded) is not None
    )


# "2", "o segundo", "opção 1", "the last one": a pick from the options a question listed.
_PICK = re.compile(
    r"^(?:(?:e |eh |é )?(?:o|a|the|opcao|option|numero|number|n)\s+)?(\d|"
    + "|".join(ORDINALS)
    + r")(?:\s+(?:one|opcao|option|deles|delas|of them))?[.!]*$"
)
# Numbered options ("1) R$ 15,00 em padaria; 2) ...") or bullets ("• sexta 14:00: dentista").
_OPTION = re.compile(r"(?:^|[;:\n]\s*)(?:\d\)|•)\s*([^;\n]+)")
_MONEY = re.compile(r"(?:R\$|US\$|\$|€|£)\s?\d[\d.,]*\d|\d[\d.,]*\s?(?:BRL|USD|EUR)")


# "opa, lancei errado", "errei", "foi mal": saying a mistake was made, before saying which.
_ONLY_A_MISTAKE = re.compile(
    r"^(?:(?:opa|ops|ih|putz|nossa|pera|ah|eita)[\s,!.]*)*(?:eu\s+)?(?:(?:lancei|anotei|digitei"
    r"|coloquei|mandei|escrevi|botei)\s+(?:tudo\s+)?errado|errei|me enganei|foi mal|my bad"
    r"|oops|i made a mistake|nao|no|nope|errado|wrong)[\s,!.]*$"
)


# A message that opens as a question, even without its "?".
_ASKS_BACK = re.compile(
    r"^(?:e\s+)?(?:(?:o\s*)?(?:q|que|oq)\s+(?:vc|voce|eu)\s+(?:sabe|sei|tem|tenho|anotou|anotei)"
    r"|quais|qual (?:e|eh|o|a|os|as|meu|minha|meus|minhas)|quanto|qnto|qto|quem|onde|cade"
    r"|what|which|who|where|how much|do i have|what's)\b"
)
# Any fixed moment will do to ask whether words say a moment.
_ANY_MOMENT = datetime(2026, 1, 1, tzinfo=UTC)
_FILLER = re.compile(
    r"\b(?:e|eh|as|às|a|o|no|na|pra|para|at|on|the|in|melhor|better|then|entao|foi|era|was|it"
    r"|is|sera|make it)\b"
)


def only_a_moment(clause: str) -> bool:
    """Whether a clause says a moment and nothing else ("9 e meia", "sexta às 10")."""
    found = find_when(clause, now=_ANY_MOMENT, tz="UTC")
    if not found:
        return False
    rest = clause
    for when in reversed(found):
        rest = rest[: when.span[0]] + " " + rest[when.span[1] :]
    return not re.search(r"\w", _FILLER.sub(" ", fold(rest)))


def only_a_mistake(clause: str) -> bool:
    """Whether a clause only says a mistake was made ("opa, lancei errado")."""
    return _ONLY_A_MISTAKE.match(fold(clause).strip()) is not None


def chosen_option(question: str, clause: str) -> str | None:
    """The option a short answer picks from the ones the question listed, told the way the
    request names a record: by its amount ("o de R$ 40,00") or by its own words."""
    picked = _PICK.match(fold(clause).strip())
    options = [found.group(1).strip() for found in _OPTION.finditer(question)]
    if picked is None or len(options) < 2:
        return None
    word = picked.group(1)
    number = int(word) if word.isdigit() else ORDINALS[word]
    index = len(options) - 1 if number == -1 else number - 1
    if not 0 <= index < len(options):
        return None
    option = options[index]
    money = _MONEY.search(option)
    if money is not None:
        return f"o de {money.group(0)}"
    return option  # "06/03 às 10:00: ligar pro João": its moment tells it from a namesake


def read(
    clause: str, *, intent: str | None, agent: str | None, score: float, state: Dialogue
) -> Reading:
    """Read a clause against the conversation: an answer to the assistant's open question
    fills that request under its intent; an elliptical follow-up keeps the last intent; a
    router sure of another agent, or a long message, is a new request."""
    short = words(clause) <= SHORT_WORDS
    # A question back ("quanto gastei hj?", "o q vc sabe do Rafa") is not an answer to the
    # assistant's question.
    asking = clause.rstrip().endswith("?") or _ASKS_BACK.match(fold(clause)) is not None
    sure_elsewhere = asking or (
        intent is not None and score >= SURE and agent not in (None, _agent(state.pending_intent))
    )
    if state.question and state.pending_intent and short and not sure_elsewhere:
        clause = chosen_option(state.question, clause) or clause
        text = f"{state.pending_text or ''} {clause}".strip()[-TEXT_MAX:]
        return Reading("answer", state.pending_intent, text)
    folded = fold(clause)
    if state.slots.get("listed") and short and ORDINAL_REF.search(folded):
        # "cancela o segundo", "push the second one to the 12th", "o segundo foi 28": an item
        # of the list shown, of the kind the list was.
        removing = _REMOVING.search(folded) is not None
        if _agent(state.intent) == "finance":
            return Reading(
                "follow_up", "finance.delete_last" if removing else "finance.edit_last", clause
            )
        return Reading("follow_up", "crm.cancel" if removing else "crm.move", clause)
    listed = state.slots.get("listed") or []
    if len(listed) == 1 and short and _CORRECTING.search(folded) and not asking:
        # "ops, eh quarta*" after a list of one: that record, corrected
        kind = "finance.edit_last" if _agent(state.intent) == "finance" else "crm.move"
        if _REMOVING.search(folded):
            kind = _REMOVAL_OF[kind]
        return Reading("follow_up", kind, clause)
    # "qto ja foi de mercado esse mes?": a question about the records, never a change of one;
    # "muda o lembrete da luz" right after an expense: a change of another kind of record.
    change = None if asking or _ASKS.match(folded) else CHANGE_OF.get(state.intent or "")
    if change and _KIND_NAMED[_agent(change)].search(folded):
        change = None
    if change and state.slots.get("record") and short and _POINTS_BACK.search(folded):
        # "muda ele pra 15h", "delete it", "isso foi anteontem": the record just made.
        if _REMOVING.search(folded):
            change = _REMOVAL_OF[change]
        if _CHANGING.search(folded) or _REMOVING.search(folded) or _CORRECTING.search(folded):
            return Reading("follow_up", change, clause)
    correcting = (
        _CORRECTING.search(folded)
        or (change == "finance.edit_last" and SAID_OF_THE_LAST.search(folded))
        # "9 e meia", "sexta" right after a record: its moment, said again
        or only_a_moment(clause)
    )
    # "na vdd ela mudou pra Sorocaba mes passado": a correction said first may run longer.
    led = words(clause) <= 2 * SHORT_WORDS and _CORRECTION_LEAD.match(folded) is not None
    if change and state.slots.get("record") and (short or led) and correcting:
        sure_other = intent is not None and score >= SURE and agent != _agent(change)
        if not sure_other:
            return Reading("follow_up", change, clause)
    if state.intent and elliptical(clause):
        sure_other = intent is not None and score >= SURE and agent != _agent(state.intent)
        # "e quanto gastei hj?" after a record: a question never takes a record's intent.
        asks_after_a_record = _ASKS.search(folded) is not None and state.intent not in ASKING
        if not sure_other and not asks_after_a_record:
            return Reading("follow_up", state.intent, clause)
    # "a Bia trabalha na Globo" right after an expense is about Bia, not about the expense.
    remark = not (
        _ASKS.search(folded)
        or TELL_ABOUT.search(folded)
        or _COMMAND.match(folded)
        or _REMOVING.search(folded)
        or statement_subject(clause) is not None
    )
    if (
        intent is None
        and state.intent not in ASKING
        and state.slots.get("record")
        and short
        and remark
    ):
        # The router has no idea, and a record was just made: a short remark is about it
        # ("the dinner was actually yesterday").
        return Reading("follow_up", state.intent, clause)
    return Reading("new", intent, clause)


def after(
    state: Dialogue,
    *,
    reading: Reading,
    calls: Iterable[tuple[str, Mapping[str, Any], Mapping[str, Any]]],
    reply: str,
    now: datetime,
) -> Dialogue:
    """The state once a clause is answered: the request's intent and slots, and the
    question left open when the reply asks one without doing anything."""
    done = list(calls)
    slots: dict[str, Any] = {}
    if reading.how == "follow_up" and reading.intent == state.intent:
        slots.update(state.slots)
    for _tool, args, data in done:
        slots.update({k: v for k, v in args.items() if k in SLOTS})
        details = [k for k in DETAILS if args.get(k)]
        if details:
            slots["details"] = details
        if isinstance(data.get("listed"), list):
            slots["listed"] = data["listed"][:20]  # what a list showed, in its order
        record = next((v for k, v in data.items() if k.endswith("_id") and v), None)
        if record is not None:
            slots["record"] = record
    lines = reply.strip().splitlines() or [""]
    # A question ends the reply, or heads the options it lists ("Qual deles?\n• ...").
    asks = lines[-1].rstrip().endswith("?") or (
        lines[0].rstrip().endswith("?") and _OPTION.search(reply) is not None
    )
    asked = asks and not any(_wrote(data) for *_, data in done)
    return Dialogue(
        intent=reading.intent or state.intent,
        slots=slots if done or reading.how != "answer" else state.slots,
        question=reply.strip()[:TEXT_MAX] if asked else None,
        pending_intent=reading.intent if asked else None,
        pending_text=reading.text[-TEXT_MAX:] if asked else None,
        updated_at=now,
    )


def _wrote(data: Mapping[str, Any]) -> bool:
    return not data.get("error")


def tool_call(args: str, result: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A traced call's arguments and result data, as dictionaries (empty when unreadable)."""
    try:
        parsed_args = json.loads(args)
        outcome = json.loads(result)
    except ValueError:
        return {}, {}
    data = outcome.get("data", {}) if isinstance(outcome, dict) else {}
    return (
        parsed_args if isinstance(parsed_args, dict) else {},
        data if isinstance(data, dict) else {},
    )


async def load(
    session: AsyncSession, *, tenant_id: str, conversation_id: str, now: datetime
) -> Dialogue:
    """The conversation's live state (empty when none, or gone quiet)."""
    row = await session.get(DialogueState, conversation_id)
    if row is None or row.tenant_id != tenant_id:
        return Dialogue()
    return Dialogue(
        intent=row.intent,
        slots=dict(row.slots or {}),
        question=row.question,
        pending_intent=row.pending_intent,
        pending_text=row.pending_text,
        updated_at=row.updated_at,
    ).live(now)


async def save(
    session: AsyncSession, *, tenant_id: str, conversation_id: str, state: Dialogue
) -> None:
    """Keep the conversation's state (one row per conversation)."""
    row = await session.get(DialogueState, conversation_id)
    if row is None:
        row = DialogueState(conversation_id=conversation_id, tenant_id=tenant_id)
        session.add(row)
    elif row.tenant_id != tenant_id:
        return
    row.intent = state.intent
    row.slots = dict(state.slots)
    row.question = state.question
    row.pending_intent = state.pending_intent
    row.pending_text = state.pending_text
    row.updated_at = state.updated_at or datetime.now().astimezone()
    await session.flush()


def without_question(state: Dialogue) -> Dialogue:
    """The same state with no open question."""
    return replace(state, question=None, pending_intent=None, pending_text=None)


def _of_contact(ref: ContactRef) -> list[str]:
    return list(ref.related.get("conversation_ids", []))


async def export_contact(session: AsyncSession, ref: ContactRef) -> dict[str, Any]:
    """Where the contact's conversations stand (the open question and the last request)."""
    rows = await session.scalars(
        select(DialogueState)
        .where(
            DialogueState.tenant_id == ref.tenant_id,
            DialogueState.conversation_id.in_(_of_contact(ref)),
        )
        .order_by(DialogueState.conversation_id)
    )
    return {
        "dialogue": [
            {
                "conversation_id": row.conversation_id,
                "intent": row.intent,
                "slots": row.slots,
                "question": row.question,
                "pending_text": row.pending_text,
                "updated_at": row.updated_at.isoformat(),
            }
            for row in rows
        ]
    }


async def erase_contact(session: AsyncSession, ref: ContactRef) -> Erased:
    """Forget where the contact's conversations stand."""
    result = await session.execute(
        delete(DialogueState).where(
            DialogueState.tenant_id == ref.tenant_id,
            DialogueState.conversation_id.in_(_of_contact(ref)),
        )
    )
    return Erased(rows=int(result.rowcount))  # type: ignore[attr-defined]
