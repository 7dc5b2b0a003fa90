"""Corrections to what the contact just told about a person: "na vdd foi pra Floripa" after "a
Julia se mudou pra Curitiba", "o final é 4321" after saving Carlos's number, "corrige, é
lucas.s@gmail.com", "esquece isso".

A detail said again (an e-mail, a phone or its last digits, a birthday) replaces that detail;
anything else revises the last note about the person with the correcting words
(`extract.corrections.revise`), so what is read back later is what is true now.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from whatsapp_ai.ai.agents.context import Moment
from whatsapp_ai.ai.agents.offline_model import Plan
from whatsapp_ai.ai.agents.people_notes import (
    BIRTHDAY,
    EMAIL,
    PHONE,
    PersonLookup,
    matching,
    person_in_thread,
)
from whatsapp_ai.ai.agents.tools import Tool, ToolError, ToolOutcome, ToolRuntime
from whatsapp_ai.ai.extract import find_person_names, find_when
from whatsapp_ai.ai.extract.corrections import correction_words, revise
from whatsapp_ai.core import i18n
from whatsapp_ai.core.text import fold, stems
from whatsapp_ai.relationships import service as crm

AGENT = "crm"
INTENTS = frozenset({"crm.person_fix", "crm.person_forget"})
# A note made this recently is the one a correction is about (else the person's own notes).
RECENT = timedelta(minutes=30)
Detail = Literal["note", "phone", "email", "birthday"]
# Words of asking to forget, never what a note says.
_FORGET_WORDS = stems(
    "apaga apagar esquece esqueca remove tira exclui deleta nota anotacao anotei delete forget note"
)
# ", ele já pagou", "porque ...": why a note goes, not which note it is.
_REASON = re.compile(
    r"[,.;]\s*(?:ele|ela|ja|he|she|pq|porque|pois|because|since)\b"
    r"|\s+(?:pq|porque|pois|because|since)\b"
)
_LAST_DIGITS = re.compile(r"\b(?:final|termina|terminando|ends?|ending|ultimos)\b")


class PersonFix(BaseModel):
    """A correction of what was noted about a person, in the contact's words."""

    model_config = ConfigDict(extra="forbid")

    person: str = Field(min_length=1, max_length=120)
    correction: str = Field(min_length=1, max_length=1000)
    detail: Detail = "note"


class PersonForget(BaseModel):
    """Forget something noted about a person: a detail, the note that says ``about``, or else
    the last note."""

    model_config = ConfigDict(extra="forbid")

    person: str = Field(min_length=1, max_length=120)
    detail: Detail = "note"
    about: str | None = Field(default=None, max_length=1000)


async def correct_person(runtime: ToolRuntime, args: PersonFix) -> ToolOutcome:
    ctx, lang = runtime.ctx, runtime.ctx.language
    async with runtime.db.transaction() as session:
        person = await _the_person(runtime, session, args.person)
        said = correction_words(args.correction, person.name)
        if args.detail != "note":
            value = _detail_value(args.detail, said, person.phone, runtime, person.birthday)
            if value is None:
                return ToolOutcome(say=i18n.text(lang, "people.fix_what"), ok=False)
            await crm.update_person(
                session,
                tenant_id=ctx.tenant_id,
                person_id=person.id,
                changes={args.detail: value},
                now=ctx.now,
            )
            shown = value if isinstance(value, str) else f"{value.day:02d}/{value.month:02d}"
            text = i18n.text(lang, f"people.{args.detail}", name=person.name, value=shown)
            return ToolOutcome(
                say=i18n.text(lang, "people.fixed", text=text), data={"person_id": person.id}
            )
        noted = await crm.latest_interaction(
            session, tenant_id=ctx.tenant_id, contact_id=ctx.contact_id, person_id=person.id
        )
        if noted is not None and (ctx.now - noted.created_at <= RECENT or not person.notes):
            summary = revise(noted.summary, args.correction, person.name)
            await crm.revise_interaction(session, interaction=noted, summary=summary)
        elif person.notes:
            *kept, last = person.notes.split("; ")
            summary = revise(last, args.correction, person.name)
            notes = "; ".join([*kept, summary])[:4000]
            await crm.update_person(
                session,
                tenant_id=ctx.tenant_id,
                person_id=person.id,
                changes={"notes": notes},
                now=ctx.now,
            )
        else:
            return ToolOutcome(say=i18n.text(lang, "people.never", name=person.name), ok=False)
    text = i18n.text(lang, "people.fixed_note", name=person.name, summary=summary.rstrip("."))
    return ToolOutcome(say=text, data={"person_id": person.id})


async def forget_note(runtime: ToolRuntime, args: PersonForget) -> ToolOutcome:
    ctx, lang = runtime.ctx, runtime.ctx.language
    async with runtime.db.transaction() as session:
        person = await _the_person(runtime, session, args.person)
        if args.detail != "note":
            if getattr(person, args.detail) is None:
                say = i18n.text(lang, f"people.no_{args.detail}", name=person.name)
                return ToolOutcome(say=say, ok=False)
            await crm.update_person(
                session,
                tenant_id=ctx.tenant_id,
                person_id=person.id,
                changes={args.detail: None},
                now=ctx.now,
            )
            said = i18n.text(lang, f"people.forgot_{args.detail}", name=person.name)
            return ToolOutcome(say=said, data={"person_id": person.id})
        noted = await _the_note(runtime, session, person.id, args.about)
        if noted is None:
            return ToolOutcome(say=i18n.text(lang, "people.never", name=person.name), ok=False)
        await crm.delete_interaction(session, tenant_id=ctx.tenant_id, interaction_id=noted.id)
    text = i18n.text(lang, "people.forgot", name=person.name, summary=noted.summary)
    return ToolOutcome(say=text, data={"person_id": person.id})


async def _the_note(runtime: ToolRuntime, session: Any, person_id: str, about: str | None) -> Any:
    """The note about a person that says most of ``about`` ("a nota de que o Marcos me
    deve"), else the last one noted."""
    ctx = runtime.ctx
    noted = await crm.list_interactions(
        session,
        tenant_id=ctx.tenant_id,
        contact_id=ctx.contact_id,
        person_id=person_id,
        limit=200,
    )
    wanted = stems(about or "") - _FORGET_WORDS
    best, shared = None, 0
    for note in noted.items:
        common = len(wanted & stems(note.summary))
        if common > shared:
            best, shared = note, common
    if best is not None:
        return best
    return await crm.latest_interaction(
        session, tenant_id=ctx.tenant_id, contact_id=ctx.contact_id, person_id=person_id
    )


async def _the_person(runtime: ToolRuntime, session: object, name: str) -> Any:
    """The one person the contact keeps by this name (else the question which, or that there
    is nobody so called)."""
    lang = runtime.ctx.language
    people = await matching(runtime, session, PersonLookup(name=name))
    if not people:
        raise ToolError(i18n.text(lang, "people.unknown", name=name))
    if len(people) > 1:
        names = ", ".join(p.name for p in people[:5])
        raise ToolError(i18n.text(lang, "people.which", names=names))
    return people[0]


_MONTH_SAID = re.compile(
    r"\b(?:jan\w*|fev\w*|mar\w*|abr\w*|mai\w*|jun\w*|jul\w*|ago\w*|set\w*|out\w*|nov\w*"
    r"|dez\w*|feb\w*|apr\w*|may|aug\w*|sep\w*|oct\w*|dec\w*)\b|\d{1,2}\s*/\s*\d{1,2}"
)


def _detail_value(
    detail: Detail,
    said: str,
    phone: str | None,
    runtime: ToolRuntime,
    old_birthday: date | None = None,
) -> str | date | None:
    """The corrected detail: an e-mail, a phone (or its last digits), a birthday."""
    if detail == "email":
        found = EMAIL.search(said)
        return found.group() if found else None
    if detail == "phone":
        return _phone(said, phone)
    ctx = runtime.ctx
    days = find_when(said, now=ctx.local_now, tz=ctx.timezone, prefer="future")
    if not days:
        return None
    day = days[0].start.date()
    if old_birthday is not None and _MONTH_SAID.search(fold(said)) is None:
        # "na vdd é dia 13" of a birthday on 12 May: the 13th of May
        try:
            return old_birthday.replace(day=day.day)
        except ValueError:
            return None
    return day


def _phone(said: str, old: str | None) -> str | None:
    """A whole new number, or the old one with its last digits replaced ("o final é 4321")."""
    whole = PHONE.search(said)
    if whole is not None and sum(c.isdigit() for c in whole.group()) >= 8:
        return whole.group().strip()
    digits = re.sub(r"\D", "", said)
    if not digits or old is None or len(digits) >= sum(c.isdigit() for c in old):
        return None
    chars, left = list(old), list(digits)
    for index in range(len(chars) - 1, -1, -1):
        if not left:
            break
        if chars[index].isdigit():
            chars[index] = left.pop()
    return "".join(chars)


def _detail_of(text: str, moment: Moment) -> Detail:
    """Which detail a correction says again (else the note)."""
    folded = fold(text)
    details = (moment.dialogue.get("slots") or {}).get("details") or []
    if EMAIL.search(text):
        return "email"
    digits = sum(c.isdigit() for c in text)
    if digits and (_LAST_DIGITS.search(folded) or "phone" in details or digits >= 8):
        return "phone"
    said_a_day = bool(find_when(text, now=moment.now, tz=moment.timezone))
    if BIRTHDAY.search(folded) or ("birthday" in details and said_a_day):
        return "birthday"
    return "note"


_FORGOTTEN: dict[Detail, re.Pattern[str]] = {
    "email": re.compile(r"\b(?:e-?mail|email)\b"),
    "phone": re.compile(r"\b(?:telefone|tel|fone|numero|celular|cel|zap|whats\w*|phone|number)\b"),
    "birthday": re.compile(r"\b(?:aniversario|niver|birthday)\b"),
}


def _forgotten_detail(folded: str) -> Detail | None:
    """The detail a request to forget names ("esquece o email do Augusto"), if any."""
    return next((d for d, said in _FORGOTTEN.items() if said.search(folded)), None)


# Words that correct what was just noted, wherever they are in the message.
_FIXING = re.compile(
    r"\b(?:errei|me enganei|na vdd|na verdade|corrig\w*|o final (?:e|eh|é)|termina (?:em|com)"
    r"|actually|i mean|correction|wrong)\b"
)


def corrects(intent: str, text: str, moment: Moment) -> bool:
    """Whether a note about someone the conversation is about corrects what was just noted
    ("errei o numero do Wagner, o final é 1133")."""
    return (
        intent in ("crm.log_interaction", "crm.person_update", "crm.add_contact")
        and person_in_thread(moment) is not None
        and _FIXING.search(fold(text)) is not None
    )


def plan(intent: str, text: str, moment: Moment) -> Plan:
    """The correction (or forgetting) of what was just noted about a person."""
    person = person_in_thread(moment) or next((n.name for n in find_person_names(text)), None)
    if person is None:
        return Plan(text=i18n.text(moment.language, "agenda.ask_who"))
    if intent == "crm.person_forget":
        which = _REASON.split(text, maxsplit=1)[0]
        forget: dict[str, object] = {"person": person, "about": which.strip()[:1000]}
        detail = _forgotten_detail(fold(text))
        if detail is not None:
            forget["detail"] = detail
        return Plan(calls=[("forget_note", forget)])
    fix = {"person": person, "correction": text.strip()[:1000], "detail": _detail_of(text, moment)}
    return Plan(calls=[("correct_person", fix)])


TOOLS = [
    Tool(
        "correct_person",
        AGENT,
        "Correct what was noted about a person (a detail, or the last note) in the contact's "
        "own words.",
        PersonFix,
        correct_person,
    ),
    Tool(
        "forget_note",
        AGENT,
        "Forget the last thing noted about a person.",
        PersonForget,
        forget_note,
    ),
]
