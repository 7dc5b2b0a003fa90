"""People-notes of the agenda agent: save a person with their details, note what happened with
them (on the day it happened), set a detail by chat, and read it all back ("o que eu sei sobre
o Pedro?", "qual o telefone da Maria?", "quando foi a última vez que falei com o Pedro?")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from whatsapp_ai.ai.agents import debts, say
from whatsapp_ai.ai.agents.context import Moment
from whatsapp_ai.ai.agents.offline_model import Plan
from whatsapp_ai.ai.agents.tools import NoArgs, Tool, ToolError, ToolOutcome, ToolRuntime
from whatsapp_ai.ai.dialogue import elliptical
from whatsapp_ai.ai.extract import find_person_names, find_when
from whatsapp_ai.ai.extract.names import FIRST_NAMES
from whatsapp_ai.ai.extract.subjects import (
    RELATIONS,
    TELL_ABOUT,
    relation_name,
    statement_subject,
)
from whatsapp_ai.core import i18n
from whatsapp_ai.core.text import fold, stems
from whatsapp_ai.relationships import service as crm
from whatsapp_ai.relationships.errors import RelationshipError

AGENT = "crm"
# How many people a list shows at most in one WhatsApp message.
LISTED = 30
# The intents this module plans for (the agenda agent hands them over).
INTENTS = frozenset(
    {"crm.add_contact", "crm.log_interaction", "crm.person_info", "crm.person_update"}
)
Field_ = Literal["all", "phone", "email", "birthday", "last_talk", "debt"]


class PersonLookup(BaseModel):
    """Who to look up (a name, or words from their notes such as "encanador") and what."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=120)
    about: str | None = Field(default=None, max_length=200)
    field: Field_ = "all"


class PersonDetails(BaseModel):
    """A person and the details to keep about them (new notes are added to the old)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    birthday: date | None = None
    notes: str | None = Field(default=None, max_length=1000)


class PersonEvent(BaseModel):
    """Something that happened with a person, on the day it happened."""

    model_config = ConfigDict(extra="forbid")

    person: str = Field(min_length=1, max_length=120)
    summary: str = Field(min_length=1, max_length=1000)
    happened_on: date | None = None


async def matching(runtime: ToolRuntime, session: object, args: PersonLookup) -> list[Any]:
    ctx = runtime.ctx
    found = await crm.list_people(
        session,  # type: ignore[arg-type]
        tenant_id=ctx.tenant_id,
        contact_id=ctx.contact_id,
        limit=200,
    )
    people = list(found.items)
    if args.name:
        named = crm.match_people(people, args.name)
        if named:
            return named
        # "o Cadu", "minha irmã", "meu chefe": a nickname or what they are to the contact,
        # kept in their notes.
        words = [fold(args.name)]
        exact = True
    else:
        words, exact = _about_words(args), False
    by_notes = [p for p in people if _mentions(words, p.notes or "", exact=exact)]
    if by_notes or not words:
        return by_notes
    # What was noted as it happened ("o Marcos me deve 100") answers "quem me deve?" too.
    noted = await crm.list_interactions(
        session,  # type: ignore[arg-type]
        tenant_id=ctx.tenant_id,
        contact_id=ctx.contact_id,
        limit=200,
    )
    about = {
        e.person_id for e in noted.items if e.person_id and _mentions(words, e.summary, exact=exact)
    }
    if _DEBT_ASKED.search(" ".join(words)) or _OWE_STEMS & stems(" ".join(words)):
        about = _still_owing(noted.items, about, ctx.currency)  # not who has paid since
    return [p for p in people if p.id in about]


_OWE_STEMS = stems("deve devendo owes owe")


def _still_owing(notes: Sequence[Any], about: set[str], currency: str) -> set[str]:
    """Of the people a "who owes me?" fits, those whose notes (most recent first) leave them
    owing, or that say no amount."""
    told: dict[str, list[str]] = {}
    for note in reversed(notes):
        if note.person_id:
            told.setdefault(note.person_id, []).append(note.summary)
    kept = set()
    for person_id in about:
        owed = debts.balance(told.get(person_id, []), currency)
        if owed is None or owed > 0:
            kept.add(person_id)
    return kept


async def _each_with_notes(
    runtime: ToolRuntime, session: Any, people: list[Any], args: PersonLookup
) -> str:
    """One line per person a question about their notes fits, with the notes that fit it."""
    ctx = runtime.ctx
    words = _about_words(args)
    noted = await crm.list_interactions(
        session, tenant_id=ctx.tenant_id, contact_id=ctx.contact_id, limit=200
    )
    lines = [i18n.text(ctx.language, "people.several")]
    for person in people[:LISTED]:
        said = [person.notes or ""] + [e.summary for e in noted.items if e.person_id == person.id]
        fits = [text for text in said if text and _mentions(words, text)]
        lines.append(f"• {person.name}: {'; '.join(fits[:3]) or '…'}")
    return "\n".join(lines)


def _about_words(args: PersonLookup) -> list[str]:
    return [w for w in re.findall(r"\w+", fold(args.about or "")) if len(w) > 3]


def _mentions(words: list[str], text: str, *, exact: bool = False) -> bool:
    """Whether a note says one of the words, as written or in another form of it ("quem tá
    me devendo?" finds "me deve 50"); ``exact``: as a whole word only (a nickname)."""
    folded = fold(text)
    if exact:
        return any(re.search(rf"\b{re.escape(w)}\b", folded) for w in words)
    if any((w[:-1] if w.endswith("s") else w) in folded for w in words):
        return True
    return bool(words) and not stems(" ".join(words)).isdisjoint(stems(text))


def _day(runtime: ToolRuntime, moment: datetime) -> str:
    zone = ZoneInfo(runtime.ctx.timezone)
    return say.day(
        moment.astimezone(zone).date(), runtime.ctx.language, runtime.ctx.local_now.date()
    )


async def person_info(runtime: ToolRuntime, args: PersonLookup) -> ToolOutcome:
    ctx, lang = runtime.ctx, runtime.ctx.language
    async with runtime.db.read() as session:
        people = await matching(runtime, session, args)
        if not people:
            who = args.name or args.about or ""
            return ToolOutcome(say=i18n.text(lang, "people.unknown", name=who), ok=False)
        if len(people) > 1 and args.name is None:
            # "quem me deve?": everyone it fits, with what was noted that fits.
            return ToolOutcome(say=await _each_with_notes(runtime, session, people, args))
        if len(people) > 1:
            names = ", ".join(p.name for p in people[:5])
            return ToolOutcome(say=i18n.text(lang, "people.which", names=names), ok=False)
        person = people[0]
        recent = await crm.list_interactions(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            person_id=person.id,
            limit=5,
        )
    events = list(recent.items)
    data = {"person_id": person.id}
    if args.field == "debt":
        said = await _debt(runtime, person)
        if said is not None:
            return ToolOutcome(say=said, data=data)
    if args.field == "last_talk":
        if not events:
            return ToolOutcome(say=i18n.text(lang, "people.never", name=person.name), data=data)
        last = events[0]
        when = _day(runtime, last.happened_at)
        text = i18n.text(
            lang, "people.last_talk", name=person.name, when=when, summary=last.summary
        )
        return ToolOutcome(say=text, data=data)
    if args.field in ("phone", "email", "birthday"):
        value = getattr(person, args.field)
        if value:
            shown = f"{value.day:02d}/{value.month:02d}" if args.field == "birthday" else value
            text = i18n.text(lang, f"people.{args.field}", name=person.name, value=shown)
            return ToolOutcome(say=text, data=data)
    lines = [i18n.text(lang, "people.about", name=person.name)]
    if args.field in ("phone", "email", "birthday"):
        # "e o aniversário dele?" with none noted: say so, then what there is.
        lines.insert(0, i18n.text(lang, f"people.no_{args.field}", name=person.name))
    if person.phone:
        lines.append(i18n.text(lang, "people.line_phone", value=person.phone))
    if person.email:
        lines.append(i18n.text(lang, "people.line_email", value=person.email))
    if person.birthday:
        day = f"{person.birthday.day:02d}/{person.birthday.month:02d}"
        lines.append(i18n.text(lang, "people.line_birthday", value=day))
    if person.notes:
        lines.append(i18n.text(lang, "people.line_notes", value=person.notes))
    lines += [f"• {_day(runtime, e.happened_at)}: {e.summary}" for e in events]
    header = 2 if args.field in ("phone", "email", "birthday") else 1
    if len(lines) == header == 2:
        return ToolOutcome(say=lines[0], data=data)  # nothing else noted: the missing detail
    if len(lines) == header:
        lines.append(i18n.text(lang, "people.nothing_yet"))
    return ToolOutcome(say="\n".join(lines), data=data)


async def _owed(runtime: ToolRuntime, session: Any, person: Any) -> Decimal | None:
    """What the notes about a person leave owed between them and the contact (negative: the
    contact owes), oldest note first; None when no note speaks of a debt."""
    ctx = runtime.ctx
    noted = await crm.list_interactions(
        session,
        tenant_id=ctx.tenant_id,
        contact_id=ctx.contact_id,
        person_id=person.id,
        limit=200,
    )
    told = [person.notes or "", *(e.summary for e in reversed(noted.items))]
    return debts.balance([t for t in told if t], ctx.currency)


async def _debt(runtime: ToolRuntime, person: Any) -> str | None:
    """What is owed between a person and the contact, said; None when no note speaks of a
    debt."""
    ctx = runtime.ctx
    async with runtime.db.read() as session:
        owed = await _owed(runtime, session, person)
    if owed is None:
        return None
    amount = say.money(abs(owed), ctx.currency, ctx.language)
    key = "debts.they_owe" if owed > 0 else "debts.you_owe" if owed < 0 else "debts.even"
    return i18n.text(ctx.language, key, name=person.name, amount=amount)


async def settles_a_debt(runtime: ToolRuntime, clause: str, intent: str | None) -> bool:
    """Whether money paid to ("paguei 20 pra Bruna") or received from ("recebi os 100 do
    Marcos") a person the contact keeps pays off what the notes say is owed between them:
    then it is a note about that debt, not an expense or income."""
    if intent not in ("finance.add_expense", "finance.add_income"):
        return False
    names = [n.name for n in find_person_names(clause)]
    if not names:
        return False
    async with runtime.db.read() as session:
        people = await matching(runtime, session, PersonLookup(name=names[0][:120]))
        if len(people) != 1:
            return False
        owed = await _owed(runtime, session, people[0])
    if owed is None or owed == 0:
        return False
    return (owed < 0) == (intent == "finance.add_expense")


async def add_person(runtime: ToolRuntime, args: PersonDetails) -> ToolOutcome:
    ctx = runtime.ctx
    try:
        return await _save(runtime, args)
    except RelationshipError as exc:
        reason = i18n.text(ctx.language, "agenda.not_saved", reason=exc.message)
        raise ToolError(reason) from exc


async def _save(runtime: ToolRuntime, args: PersonDetails) -> ToolOutcome:
    ctx = runtime.ctx
    async with runtime.db.transaction() as session:
        person, created = await crm.find_or_create_person(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            name=args.name,
            source_key=runtime.key("crm.person"),
            now=ctx.now,
        )
        changes: dict[str, object] = {
            name: value
            for name, value in (
                ("phone", args.phone),
                ("email", args.email),
                ("birthday", args.birthday),
            )
            if value is not None
        }
        if args.notes and fold(args.notes) not in fold(person.notes or ""):
            changes["notes"] = "; ".join(filter(None, [person.notes, args.notes]))[:4000]
        if changes:
            await crm.update_person(
                session, tenant_id=ctx.tenant_id, person_id=person.id, changes=changes, now=ctx.now
            )
    key = "agenda.person_saved" if created else "people.updated"
    if not created and not changes:
        key = "agenda.person_known"
    return ToolOutcome(
        say=i18n.text(ctx.language, key, name=person.name), data={"person_id": person.id}
    )


async def log_interaction(runtime: ToolRuntime, args: PersonEvent) -> ToolOutcome:
    ctx = runtime.ctx
    when = ctx.now
    if args.happened_on is not None and args.happened_on < ctx.local_now.date():
        when = datetime.combine(args.happened_on, time(12), tzinfo=ZoneInfo(ctx.timezone))
    async with runtime.db.transaction() as session:
        person, _ = await crm.find_or_create_person(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            name=args.person,
            now=ctx.now,
        )
        await crm.add_interaction(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            person_id=person.id,
            summary=args.summary,
            happened_at=when,
            source_key=runtime.key("crm.interaction"),
            now=ctx.now,
        )
    text = i18n.text(ctx.language, "agenda.noted", person=args.person, summary=args.summary)
    return ToolOutcome(say=text.rstrip(".") + ".", data={"person_id": person.id})


async def list_people(runtime: ToolRuntime, args: NoArgs) -> ToolOutcome:
    ctx = runtime.ctx
    async with runtime.db.read() as session:
        found = await crm.list_people(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            limit=LISTED,
        )
    people = list(found.items)
    if not people:
        return ToolOutcome(say=i18n.text(ctx.language, "people.nobody"))
    names = ", ".join(p.name for p in people)
    return ToolOutcome(say=i18n.text(ctx.language, "people.listed", names=names))


TOOLS = [
    Tool(
        "list_people",
        AGENT,
        "The people the contact keeps, by name.",
        NoArgs,
        list_people,
    ),
    Tool(
        "person_info",
        AGENT,
        "What the contact keeps about a person they know: details, notes, recent interactions.",
        PersonLookup,
        person_info,
    ),
    Tool(
        "add_person",
        AGENT,
        "Save a person the contact knows, or set their phone, e-mail, birthday or notes.",
        PersonDetails,
        add_person,
    ),
    Tool(
        "log_interaction",
        AGENT,
        "Note something that happened with a person, on the day it happened.",
        PersonEvent,
        log_interaction,
    ),
]

# --- the offline planner -------------------------------------------------------------------

PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
BIRTHDAY = re.compile(r"\b(?:aniversario|niver|birthday|nasceu|born)\b")
_LAST = re.compile(
    r"\b(?:ultima vez|last time|last (?:talk|spoke|spoken|saw|met)|when did i last"
    r"|faz quanto tempo|ha quanto tempo|how long since|how long has it been)\b|"
    r"\b(?:quando|qnd|qdo) (?:eu )?(?:falei|conversei|vi|encontrei)\b"
)
_ASKS = {
    "phone": re.compile(
        r"\b(?:telefone|tel|fone|numero|celular|zap|whats|whatsapp|phone|number|cel)\b"
    ),
    "email": re.compile(r"\b(?:e-?mail)\b"),
    "birthday": BIRTHDAY,
}
_NOTE_LEAD = re.compile(
    r"^\s*(?:anota(?:r)?|registra|note|lembra)\s+(?:que|sobre|about|that)\s+(?:[oa]\s+)?",
    re.IGNORECASE,
)
_SAVE_LEAD = re.compile(
    r"^\s*(?:salva|salvar|adiciona|cadastra|guarda|anota|add|save|create|new contact:?|novo "
    r"contato:?)\b[^,:]*?(?:[,:]|$)",
    re.IGNORECASE,
)
_SAVE_VERB = re.compile(
    r"\b(?:salva\w*|adiciona\w*|cadastra\w*|guarda\w*|anota\w*|novo|nova|add|save|create|new)\b"
)
_STOP = re.compile(
    r"\b(?:qual|quais|o|a|os|as|do|da|de|dos|das|meu|minha|my|the|what'?s|what|is|of|numero|"
    r"telefone|tel|fone|email|e-mail|phone|number|me|passa|s|cade|kd|tem|manda|contato|zap|cel"
    r"|celular"
    r"|whats|send|give|have)\b"
)


# Pronouns a name reader may take for a name ("Dela", "Him").
PRONOUNS = frozenset(
    {"ele", "ela", "dele", "dela", "eles", "elas", "him", "her", "he", "she", "them", "his"}
)


def plan(intent: str, text: str, moment: Moment) -> Plan:
    """Tool calls for a people-notes message, read without a language model."""
    folded = fold(text)
    said = EMAIL.sub(" ", text)  # "ryan.blake@..." names nobody
    names = [
        re.sub(r"['’]s$", "", n.name)
        for n in find_person_names(said)
        if fold(n.name) not in PRONOUNS
    ]
    subject = statement_subject(said)
    if subject is not None and subject not in names[:1]:
        names = [subject, *names]  # "Omar moved to Denver": Omar, not Denver
    family = FAMILY.search(folded)
    if not names and family is not None:
        names = [relation_name(family.group(1))]  # "minha mãe": the person the contact calls so
    last = person_in_thread(moment)
    if last is not None and (
        _SAID_OF_THEM.match(folded) or (not names and _PRONOUN.search(folded))
    ):
        names = [last]  # "ela mora em Floripa", "e quando falei com ela?"

    gives_detail = EMAIL.search(text) is not None or _LONG_PHONE.search(text) is not None
    if intent == "crm.add_contact" and not _SAVE_VERB.search(folded) and not gives_detail:
        # nothing asks to save: "ele é meu cardiologista" tells of them, else it asks
        told = _SAID_OF_THEM.match(folded) and not _ASKING.search(folded)
        intent = "crm.log_interaction" if told else "crm.person_info"
    if intent == "crm.person_info" and _EVERYONE.search(folded):
        return Plan(calls=[("list_people", {})])
    if intent == "crm.person_info" or (intent == "crm.log_interaction" and _LAST.search(folded)):
        field: Field_ = "last_talk" if _LAST.search(folded) else "all"
        for name, pattern in _ASKS.items():
            if field == "all" and pattern.search(folded):
                field = name  # type: ignore[assignment]
        if field == "all" and debts.ASKED.search(folded):
            field = "debt"  # "qnt a Rebeca ainda me deve?"
        lookup: dict[str, object] = {"field": field}
        lower = _LOWER_NAME.search(folded)
        if names:
            lookup["name"] = names[0]
        elif lower is not None and lower.group(1) in FIRST_NAMES:
            lookup["name"] = lower.group(1).capitalize()  # "qual e-mail da carol?"
        elif last is not None and elliptical(text):
            lookup["name"] = last  # "e o email?", "and her birthday?": the same person
        else:
            about = _STOP.sub(" ", re.sub(r"[^\w\s]", " ", folded.replace("'s", " ")))
            lookup["about"] = " ".join(about.split())[:200]
        return Plan(calls=[("person_info", lookup)])
    if not names:
        return Plan(text=i18n.text(moment.language, "agenda.ask_who"))
    name = names[0]
    if intent == "crm.log_interaction" and (EMAIL.search(text) or _LONG_PHONE.search(text)):
        # "meu chefe se chama Ricardo, o email dele é ...": the detail kept as one, the rest
        # as their notes
        intent = "crm.add_contact"
    details = _details(name, text, moment, intent)
    if intent == "crm.person_update" and details.keys() == {"name"}:
        intent = "crm.log_interaction"  # no phone, e-mail or birthday: something to note
    if intent == "crm.log_interaction":
        event: dict[str, object] = {"person": name, "summary": note_text(text, name)[:1000]}
        happened = _past_day(text, moment)
        if happened is not None:
            event["happened_on"] = happened.isoformat()
        return Plan(calls=[("log_interaction", event)])
    return Plan(calls=[("add_person", details)])


# "ela mora em ...", "she moved to ...": the person the conversation is about, said again.
_SAID_OF_THEM = re.compile(
    r"^(?:(?:na vdd|na verdade|actually|e|and|mas|but)[\s,]+)?(?:ele|ela|he|she)\b"
)
# "... da carol?", "... do rafa": a person named in lower case after "do"/"da".
_LOWER_NAME = re.compile(r"\b(?:d[oa]|de|of)\s+([a-z]+)\W*$")
# "anota q", "anota ai:", "note that", "anota sobre o Caio:": the command, not the note.
_NOTE_COMMAND = re.compile(
    r"^\s*(?:(?:entao|então|ah|ok|blz|ei|mano|oi|e|so|please|pls)[\s,]+)*"
    r"(?:anota|anote|anotar|nota|guarda|registra|salva|lembra|note|write down|remember)"
    r"(?:\s+(?:ai|aí|isso|ae|pra mim|for me))?(?:\s*:\s*|\s+(?:que|q|that|sobre|about)\b\s*:?\s*"
    r"|\s+)",
    re.IGNORECASE,
)


# "quem são meus contatos?", "lista meus contatos", "who do I have saved?"
_EVERYONE = re.compile(
    r"\b(?:(?:meus|todos os) contatos|minha lista de contatos|quem (?:eu )?tenho (?:salvo|anotado)"
    r"|(?:quais|que) contatos|lista de contatos|quem ta (?:salvo|na lista)|my contacts"
    r"|who do i have|everyone i (?:saved|know)|(?:which|what) contacts)\b"
)


# "minha irmã", "meu chefe", "my boss": what a person is to the contact.
RELATION = re.compile(r"\b(?:minha|meu|my|o|a|the)\s+(?:" + "|".join(sorted(RELATIONS)) + r")\b")
_LONG_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{7,}\d")
FAMILY = re.compile(
    r"\b(?:minha|meu|my)\s+(mae|pai|irma|irmao|vo|vovo|avo|tia|tio|prima|primo|esposa|marido"
    r"|namorada|namorado|filha|filho|chefe|sogra|sogro|madrinha|padrinho|mom|dad|mother|father"
    r"|sister|brother|wife|husband|boss|grandma|grandpa)\b"
)
_PRONOUN = re.compile(r"\b(?:ele|ela|dele|dela|him|her|he|she|his)\b")


def person_in_thread(moment: Moment) -> str | None:
    """The person the conversation was just about, if any."""
    slots = moment.dialogue.get("slots") or {}
    found = slots.get("name") or slots.get("person")
    return found if isinstance(found, str) and found else None


def note_text(text: str, name: str) -> str:
    """What to keep about a person: the note without the command that asked for it, and
    without their name opening it ("anota q o Pedro gosta de café" → "gosta de café")."""
    rest = _NOTE_COMMAND.sub("", text, count=1).strip()
    if rest == text.strip():
        return rest
    subject = re.compile(rf"^(?:(?:o|a|the)\s+)?{re.escape(name)}(?:\s*[:,-])?\s+", re.IGNORECASE)
    kept = subject.sub("", rest, count=1).strip()
    return kept or rest or text.strip()


def _details(name: str, text: str, moment: Moment, intent: str) -> dict[str, object]:
    args: dict[str, object] = {"name": name}
    rest = text
    email = EMAIL.search(rest)
    if email:
        args["email"] = email.group()
        rest = rest.replace(email.group(), " ")
    phone = PHONE.search(rest)
    if phone and sum(c.isdigit() for c in phone.group()) >= 7:
        args["phone"] = phone.group().strip()
        rest = rest.replace(phone.group(), " ")
    if BIRTHDAY.search(fold(rest)):
        found = find_when(rest, now=moment.now, tz=moment.timezone, prefer="future")
        if found:
            args["birthday"] = found[0].start.date().isoformat()
            return args
    relation = RELATION.search(fold(text))
    if intent == "crm.person_update":
        if relation is not None:
            args["notes"] = relation.group(0)  # "minha irmã Julia": found again as "minha irmã"
        return args
    lead = _NOTE_LEAD.sub("", rest) if _NOTE_LEAD.search(rest) else _SAVE_LEAD.sub("", rest)
    notes = re.sub(rf"^\W*(?:{re.escape(name)}\W*)?", "", lead.strip(), flags=re.IGNORECASE)
    notes = re.sub(r"\b(?:email|e-mail|telefone|phone|number|numero)\s*$", "", notes.strip())
    notes = " ".join(notes.split()).strip(" ,.:;-")
    if fold(notes) not in ("", "nos contatos", "to my contacts", "number", "numero"):
        args["notes"] = notes[:1000]
    elif relation is not None:
        args["notes"] = relation.group(0)  # "salva o encanador Jorge 11 9...": the plumber
    return args


# "ela volta de férias dia 16", "vai pagar dia 15": a day ahead, not when it happened.
_AHEAD = re.compile(
    r"\b(?:vai|vou|vao|volta|voltar|voltara|vem|pretende|will|going to|amanha|semana que vem"
    r"|proxim\w*|next)\b"
)


def _past_day(text: str, moment: Moment) -> date | None:
    if _AHEAD.search(fold(text)):
        return None
    zone = ZoneInfo(moment.timezone)
    for found in find_when(
        text, now=moment.now.astimezone(zone), tz=moment.timezone, prefer="past"
    ):
        if found.kind == "period":
            return None  # "vai casar em junho": a month says no day it happened on
        return found.start.astimezone(zone).date()
    return None


# A question ("onde fica o consultório da Helena?", "what's my accountant's number?").
_ASKING = re.compile(
    r"\?|\b(?:qual|quais|onde|quando|qnd|qdo|quem|qm|como|o que|oq|what|where|when|who|which"
    r"|how)\b"
)

# "qnd o Mateus vai me pagar?", "does Tom still owe me?": a debt noted about them, asked after.
_DEBT_ASKED = re.compile(r"\b(?:me pag\w*|me dev\w*|owes? me|pay me)\b")
_MONEY_TALK = re.compile(
    r"\b(?:gast\w*|pag\w*|receb\w*|ganh\w*|saldo|spen[dt]\w*|paid|pay\w*|earn\w*|balance"
    r"|expenses?)\b"
)
# Words of any question, never what a person is known by.
_QUESTION_WORDS = re.compile(
    r"\b(?:onde|quando|quem|como|fica|ficam|mora|trabalha|tenho|tem|sabe|sei|voces|vcs|aqui"
    r"|where|when|who|which|how|does|do|lives?|works?|have|know|you|your|that|this|with)\b"
)
# "me passa o email do Renan", "manda o zap da Kelly": a person's detail asked for.
_GIVE = re.compile(
    r"\b(?:qual|quais|me passa|passa|manda|me manda|me da|me diz|what'?s|whats|give me|send me"
    r"|tell me)\b"
)
_DETAIL = re.compile(
    r"\b(?:telefone|tel|fone|numero|celular|cel|zap|whats|whatsapp|e-?mail|endereco|aniversario"
    r"|niver|phone|number|address|birthday)\b"
)
# Intents that do the contact's own work (record, change, save), never a question about a person.
_OWN_WORK = ("finance.", "crm.", "profile.")
# What the router may take a question about a known person for.
_MISREAD = frozenset({"knowledge.question", "finance.query"})


async def about_someone_known(runtime: ToolRuntime, clause: str, intent: str | None) -> bool:
    """Whether a question the router could not place, or placed with the documents or the
    finances, asks about a person the contact keeps (by name, or by what their notes say,
    such as "dermatologista" or "accountant")."""
    folded = fold(clause)
    asks_detail = _GIVE.search(folded) is not None and _DETAIL.search(folded) is not None
    if intent in ("crm.person_info", "crm.person_update"):
        return False
    told_about = TELL_ABOUT.search(folded) is not None
    if (
        not asks_detail
        and not told_about
        and (
            (intent is not None and intent not in _MISREAD and intent.startswith(_OWN_WORK))
            or not _ASKING.search(folded)
        )
    ):
        return False
    if _MONEY_TALK.search(folded) and not _DEBT_ASKED.search(folded):
        return False
    names = [re.sub(r"['’]s$", "", n.name) for n in find_person_names(clause)]
    kept = _QUESTION_WORDS.sub(" ", _STOP.sub(" ", folded.replace("'s", " ")))
    about = " ".join(kept.split())[:200]
    lookup = PersonLookup(name=names[0][:120] if names else None, about=about or None)
    if lookup.name is None and lookup.about is None:
        return False
    async with runtime.db.read() as session:
        return bool(await matching(runtime, session, lookup))
