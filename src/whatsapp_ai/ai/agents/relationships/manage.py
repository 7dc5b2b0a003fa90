"""Cancelling and moving the contact's own reminders and meetings by what they name ("cancela
o lembrete do dentista", "desmarca a reuniao de sexta", "move my 3pm meeting to 4"); "esse",
"it" or nothing named is the latest one. When several match, the assistant lists them and asks
which instead of guessing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from whatsapp_ai.ai.agents import say
from whatsapp_ai.ai.agents.context import Moment
from whatsapp_ai.ai.agents.offline_model import Plan
from whatsapp_ai.ai.agents.relationships.tools import AGENT, _refusal, _when
from whatsapp_ai.ai.agents.tools import Tool, ToolError, ToolOutcome, ToolRuntime
from whatsapp_ai.ai.dialogue import ORDINAL_REF, ORDINALS
from whatsapp_ai.ai.extract import find_when
from whatsapp_ai.ai.extract._text import fold
from whatsapp_ai.ai.extract.corrections import correction_words
from whatsapp_ai.core import i18n
from whatsapp_ai.relationships import service as crm
from whatsapp_ai.relationships.errors import RelationshipError


class ChangeArgs(BaseModel):
    """Which of the contact's reminders or meetings to cancel or move, and where to."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["cancel", "move"]
    kind: Literal["reminder", "meeting"] | None = None
    words: list[str] = Field(default_factory=list, max_length=8)
    weekday: int | None = Field(default=None, ge=0, le=6)
    hour: int | None = Field(default=None, ge=0, le=23)
    to_date: date | None = None
    to_time: time | None = None
    to_hour: int | None = Field(default=None, ge=0, le=23, description="a bare hour ('to 4')")
    by_minutes: int | None = Field(
        default=None, ge=-10080, le=10080, description="later (+) or earlier (-) by this much"
    )
    latest: int | None = Field(
        default=None, ge=2, le=5, description="cancel the last this many made ('os dois')"
    )
    record: str | None = Field(
        default=None, max_length=64, description="the id of the record just made, when meant"
    )


@dataclass(frozen=True)
class Item:
    """A reminder or meeting of the contact, as the choice among them needs it."""

    is_reminder: bool
    id: str
    label: str
    at: datetime
    changed: datetime


def _at(item: Item) -> datetime:
    return item.at


def _label(item: Item) -> str:
    return item.label


def _fits(item: Item, args: ChangeArgs, tz: ZoneInfo) -> bool:
    local = _at(item).astimezone(tz)
    if args.weekday is not None and local.weekday() != args.weekday:
        return False
    return args.hour is None or local.hour == args.hour


def shared_words(item: Item, words: list[str]) -> int:
    """How many of the words the contact used appear in the record's own words."""
    said = fold(_label(item))
    return sum(1 for word in words if re.search(r"\b" + re.escape(word[:5]), said))


def _chosen(items: list[Item], args: ChangeArgs, tz: ZoneInfo) -> list[Item]:
    """The records that fit the day and hour named and share the most words with the request
    ("desmarca com o Lucas, ele cancelou" is the meeting with Lucas); the record just made when
    that is what the request means."""
    if args.record is not None:
        meant = [item for item in items if item.id == args.record]
        if meant:
            return meant
    fitting = [item for item in items if _fits(item, args, tz)]
    if not args.words:
        return fitting
    best = max((shared_words(item, args.words) for item in fitting), default=0)
    return [item for item in fitting if best and shared_words(item, args.words) == best]


async def agenda(runtime: ToolRuntime, session: object) -> list[Item]:
    """Every reminder and meeting of the contact still ahead."""
    ctx = runtime.ctx
    ahead = await crm.upcoming(
        session,  # type: ignore[arg-type]
        tenant_id=ctx.tenant_id,
        contact_id=ctx.contact_id,
        now=ctx.now,
        days=None,
        limit=200,
    )
    items = [Item(True, r.id, r.text, r.due_at, r.updated_at) for r in ahead.reminders]
    return items + [Item(False, m.id, m.title, m.starts_at, m.updated_at) for m in ahead.meetings]


async def change(runtime: ToolRuntime, args: ChangeArgs) -> ToolOutcome:
    ctx = runtime.ctx
    tz = ZoneInfo(ctx.timezone)
    lang = ctx.language
    async with runtime.db.transaction() as session:
        kinds = {"meeting": (False,), "reminder": (True,)}.get(args.kind or "", (True, False))
        items = [i for i in await agenda(runtime, session) if i.is_reminder in kinds]
        if args.latest and args.action == "cancel":
            # "cancela os dois": the ones made or changed last.
            latest = sorted(items, key=lambda i: i.changed)[-args.latest :]
            try:
                said = [(await _cancel(runtime, session, item)).say for item in latest]
            except RelationshipError as exc:
                raise ToolError(_refusal(exc, lang)) from exc
            return ToolOutcome(say="\n".join(said), data={"cancelled": len(latest)})
        found = _chosen(items, args, tz)
        if not args.words and args.weekday is None and args.hour is None and found:
            # "cancela esse lembrete", "change it": the one made or changed last.
            found = [max(found, key=lambda i: i.changed)]
        if not found:
            return ToolOutcome(say=i18n.text(lang, "agenda.none_found"), data={"found": False})
        if args.action == "move":
            found = _without_warnings(found)  # a meeting moves with its warnings
        if len(found) > 1:
            options = "\n".join(f"• {_when(runtime, _at(i))}: {_label(i)}" for i in found)
            raise ToolError(i18n.text(lang, "agenda.which_one", options=options))
        [item] = found
        try:
            if args.action == "cancel":
                return await _cancel(runtime, session, item)
            return await _move(runtime, session, item, args, tz)
        except RelationshipError as exc:
            raise ToolError(_refusal(exc, lang)) from exc


async def _cancel(runtime: ToolRuntime, session: object, item: Item) -> ToolOutcome:
    ctx = runtime.ctx
    when = _when(runtime, _at(item))
    if item.is_reminder:
        await crm.cancel_reminder(
            session,  # type: ignore[arg-type]
            tenant_id=ctx.tenant_id,
            reminder_id=item.id,
            now=ctx.now,
        )
        text = i18n.text(ctx.language, "agenda.reminder_cancelled", text=item.label)
        return ToolOutcome(say=text, data={"reminder_id": item.id})
    await crm.cancel_meeting(
        session,  # type: ignore[arg-type]
        tenant_id=ctx.tenant_id,
        meeting_id=item.id,
        now=ctx.now,
    )
    text = i18n.text(ctx.language, "agenda.meeting_cancelled", title=item.label, when=when)
    return ToolOutcome(say=text, data={"meeting_id": item.id})


def _target(item: Item, args: ChangeArgs, tz: ZoneInfo) -> datetime | None:
    local = _at(item).astimezone(tz)
    if args.by_minutes:
        return local + timedelta(minutes=args.by_minutes)  # "1h mais tarde"
    on = args.to_date or local.date()
    clock = args.to_time
    if clock is None and args.to_hour is not None:
        hour = args.to_hour
        if hour < 12 and local.hour >= 12:
            hour += 12  # "my 3pm meeting to 4" is 16:00
        clock = time(hour)
    if args.to_date is None and clock is None:
        return None
    return datetime.combine(on, clock or local.time().replace(tzinfo=None), tzinfo=tz)


async def _move(
    runtime: ToolRuntime, session: object, item: Item, args: ChangeArgs, tz: ZoneInfo
) -> ToolOutcome:
    ctx = runtime.ctx
    target = _target(item, args, tz)
    if target is None:
        return ToolOutcome(say=i18n.text(ctx.language, "agenda.ask_when"))
    when = _when(runtime, target)
    if item.is_reminder:
        moved = await crm.reschedule_reminder(
            session,  # type: ignore[arg-type]
            tenant_id=ctx.tenant_id,
            reminder_id=item.id,
            due_at=target,
            now=ctx.now,
        )
        text = i18n.text(ctx.language, "agenda.reminder_moved", text=item.label, when=when)
        if moved.rrule:
            text = f"{text} {say.repeating(moved.rrule, ctx.language)}"
        return ToolOutcome(say=text, data={"reminder_id": item.id})
    await crm.update_meeting(
        session,  # type: ignore[arg-type]
        tenant_id=ctx.tenant_id,
        meeting_id=item.id,
        changes={"starts_at": target},
        now=ctx.now,
    )
    await _warnings_follow(runtime, session, item, target)
    text = i18n.text(ctx.language, "agenda.meeting_moved", title=item.label, when=when)
    return ToolOutcome(say=text, data={"meeting_id": item.id})


def _without_warnings(found: list[Item]) -> list[Item]:
    """The items, less the reminders that are warnings ahead of a meeting among them."""
    meetings = [i for i in found if not i.is_reminder]
    return [
        i
        for i in found
        if not i.is_reminder
        or not any(
            fold(i.label) == fold(m.label) and m.at - _WARNED_WITHIN <= i.at <= m.at
            for m in meetings
        )
    ]


# How long before an event a warning about it may be ("me avisa na véspera", "1 dia antes").
_WARNED_WITHIN = timedelta(days=7)


async def _warnings_follow(
    runtime: ToolRuntime, session: Any, item: Item, target: datetime
) -> None:
    """Move the pending warnings of a meeting with it: reminders of the same words due in the
    days before it ("Dentista" 1h before the dentist), kept as far ahead of it as they were."""
    ctx = runtime.ctx
    ahead = await crm.list_reminders(
        session,
        tenant_id=ctx.tenant_id,
        contact_id=ctx.contact_id,
        statuses=("pending",),
        due_from=item.at - _WARNED_WITHIN,
        due_to=item.at + timedelta(seconds=1),
    )
    for warning in ahead.items:
        if fold(warning.text) != fold(item.label):
            continue
        moved = target - (item.at - warning.due_at)
        if moved > ctx.now:
            await crm.reschedule_reminder(
                session, tenant_id=ctx.tenant_id, reminder_id=warning.id, due_at=moved, now=ctx.now
            )


TOOLS = [
    Tool(
        "change_agenda",
        AGENT,
        "Cancel or move one of the contact's reminders or meetings, chosen by the words, "
        "weekday or hour the contact names (none: the latest one).",
        ChangeArgs,
        change,
    )
]

# --- the offline reading ---------------------------------------------------------------------

_REMINDER = re.compile(r"\b(?:lembretes?|reminders?|alarmes?)\b")
_MEETING = re.compile(
    r"\b(?:reuni(?:ao|oes)|meetings?|calls?|consultas?|compromissos?|appointments?|eventos?)\b"
)
_DESTINATION = re.compile(r"\b(?:pra|para|pro|to|for|until|ate)\b(?!.*\b(?:pra|para|pro|to)\b)")
_WEEKDAYS = (
    ("segunda", "monday"),
    ("terca", "tuesday"),
    ("quarta", "wednesday"),
    ("quinta", "thursday"),
    ("sexta", "friday"),
    ("sabado", "saturday"),
    ("domingo", "sunday"),
)
_HOUR = re.compile(r"\b(\d{1,2})(?:[:h](\d{2}))?\s*(am|pm|h|hs|horas)?\b")
_BARE_HOUR = re.compile(r"^\s*(?:as\s+|at\s+)?(\d{1,2})\s*$")
# "actually make it 11", "melhor as 9": a bare hour closing the request.
_LAST_HOUR = re.compile(r"\b(?:make it|it|as|at|pras|pra)\s+(\d{1,2})\s*[.!]*$")
# Words that say what to do or point at the record, not which record it is.
_NOISE = frozenset(
    [
        "pode",
        "ser",
        "fica",
        "deixa",
        "melhor",
        "entao",
        "msm",
        "cancela",
        "cancelar",
        "cancele",
        "desmarca",
        "desmarcar",
        "desmarque",
        "apaga",
        "apagar",
        "apague",
        "remove",
        "remover",
        "exclui",
        "excluir",
        "deleta",
        "deletar",
        "tira",
        "tirar",
        "esquece",
        "esquecer",
        "muda",
        "mudar",
        "mude",
        "passa",
        "passar",
        "passe",
        "troca",
        "trocar",
        "adia",
        "adiar",
        "move",
        "mover",
        "transfere",
        "remarca",
        "remarcar",
        "altera",
        "alterar",
        "cancel",
        "delete",
        "remove",
        "drop",
        "move",
        "change",
        "push",
        "reschedule",
        "shift",
        "postpone",
        "forget",
        "o",
        "a",
        "os",
        "as",
        "do",
        "da",
        "dos",
        "das",
        "de",
        "esse",
        "essa",
        "este",
        "esta",
        "isso",
        "aquele",
        "aquela",
        "ultimo",
        "ultima",
        "meu",
        "minha",
        "meus",
        "minhas",
        "e",
        "ai",
        "pfv",
        "por",
        "favor",
        "no",
        "na",
        "em",
        "um",
        "uma",
        "that",
        "this",
        "it",
        "the",
        "my",
        "last",
        "of",
        "on",
        "at",
        "for",
        "please",
        "can",
        "you",
        "just",
        "lembrete",
        "lembretes",
        "reminder",
        "reminders",
        "reuniao",
        "reunioes",
        "meeting",
        "meetings",
        "call",
        "calls",
        "compromisso",
        "compromissos",
        "appointment",
        "mesmo",
        "horario",
        "same",
        "time",
        "hora",
        "dia",
        "day",
        "nao",
        "not",
        "adianta",
        "adiantar",
        "antecipa",
        "antecipar",
        "joga",
        "jogar",
        "bota",
        "coloca",
        "melhor",
        "opa",
        "ops",
        "vdd",
        "verdade",
        "actually",
        "make",
        "bring",
        "forward",
        "one",
        "com",
        "with",
        "ele",
        "ela",
        "eles",
        "elas",
        "isso",
        "isto",
        "coloca",
        "them",
        "primeiro",
        "primeira",
        "segundo",
        "terceiro",
        "first",
        "second",
        "third",
    ]
)


def plan_change(intent: str, text: str, moment: Moment) -> Plan:
    """A cancel or move of an agenda record, read without a language model."""
    if _just_made(moment):
        # "quer dizer, sábado", "oops, 11am*": only the correcting words say anything.
        text = correction_words(text) or text
    folded = fold(text)
    action = "cancel" if intent == "crm.cancel" else "move"
    args: dict[str, object] = {"action": action}
    if _REMINDER.search(folded):
        args["kind"] = "reminder"
    elif _MEETING.search(folded):
        args["kind"] = "meeting"
    selector, destination = folded, ""
    shift = _SHIFT.search(folded) if action == "move" else None
    if shift is not None:
        # "joga a call 1h mais tarde", "push it back 30 min": by how much, not to when.
        amount = int(shift.group("n")) * (60 if shift.group("unit").startswith("h") else 1)
        later = shift.group("way") in _LATER
        args["by_minutes"] = amount if later else -amount
        folded = selector = (folded[: shift.start()] + " " + folded[shift.end() :]).strip()
    if action == "move" and shift is None:
        cut = _DESTINATION.search(folded)
        if cut:
            selector, destination = folded[: cut.start()], folded[cut.end() :]
        elif _just_made(moment):
            # "melhor 16h", "opa, quinta*", "ops, depois de amanhã": every time word says where
            # the record goes.
            selector, destination = _TIME_WORDS.sub(" ", _without_moments(folded, moment)), folded
        _read_destination(text[cut.end() :] if cut else destination, destination, moment, args)
    for number, (pt, en) in enumerate(_WEEKDAYS):
        if re.search(rf"\b(?:{pt}|{en})\b", selector):
            args["weekday"] = number
    hour = next((h for h in _HOUR.finditer(selector) if h.group(3) or h.group(2)), None)
    if hour:
        value = int(hour.group(1)) % 12 + (12 if hour.group(3) == "pm" else 0)
        args["hour"] = value if hour.group(3) in ("am", "pm") else int(hour.group(1))
    words = [
        w
        for w in re.findall(r"[^\W\d_]{3,}", selector)
        if w not in _NOISE and not any(w in pair for pair in _WEEKDAYS) and w not in ("am", "pm")
    ]
    several = _SEVERAL.search(folded) if action == "cancel" else None
    if several is not None:
        count = several.group(1) or several.group(2)
        args["latest"] = int(count) if count.isdigit() else _COUNTS[count]
        return Plan(calls=[("change_agenda", args)])
    picked = _picked_from_list(folded, moment)
    if picked is not None:
        args["record"] = picked
        args.pop("weekday", None)  # "a segunda" of a list is its second item, not Monday's
        return Plan(calls=[("change_agenda", args)])
    args["words"] = words[:8]
    record = _just_made(moment)
    if record is not None and not words and "weekday" not in args and "hour" not in args:
        args["record"] = record
    return Plan(calls=[("change_agenda", args)])


# Days and times in a correction ("quinta", "as 16h", "11"): where to, never which one.
_TIME_WORDS = re.compile(
    r"\b(?:segunda|terca|quarta|quinta|sexta|sabado|domingo|monday|tuesday|wednesday|thursday"
    r"|friday|saturday|sunday|hoje|amanha|today|tomorrow|\d{1,2}(?:[:h]\d{2})?\s*(?:h|hs|am|pm)?)"
    r"(?!\w)"
)


# "cancela os dois", "apaga os 3 últimos", "cancel both": the last ones made.
_COUNTS = {"dois": 2, "duas": 2, "ambos": 2, "ambas": 2, "both": 2, "tres": 3, "three": 3}
_SEVERAL = re.compile(
    r"\b(?:os|as|the|esses|essas|these|those)?\s*(dois|duas|tres|three|[2-5])\b"
    r"(?:\s+(?:ultim[oa]s|last|lembretes|reminders|reunioes|meetings))?\s*$"
    r"|\b(ambos|ambas|both)\b"
)


def _without_moments(folded: str, moment: Moment) -> str:
    """The text with the moments it names blanked ("depois de amanhã", "sexta às 10")."""
    tz = ZoneInfo(moment.timezone)
    found = find_when(folded, now=moment.now.astimezone(tz), tz=moment.timezone, prefer="future")
    for when in reversed(found):
        begin, end = when.span
        folded = folded[:begin] + " " * (end - begin) + folded[end:]
    return folded


def _picked_from_list(folded: str, moment: Moment) -> str | None:
    """The record at the position the request names in the list just shown, if any."""
    listed = moment.dialogue.get("slots", {}).get("listed")
    said = ORDINAL_REF.search(folded)
    if not isinstance(listed, list) or not listed or said is None:
        return None
    word = said.group(0).split()[-1]
    number = ORDINALS.get(word)
    if number is None:
        return None
    index = len(listed) - 1 if number == -1 else number - 1
    found = listed[index] if 0 <= index < len(listed) else None
    return found if isinstance(found, str) else None


def _just_made(moment: Moment) -> str | None:
    """The reminder or meeting the conversation just made or moved, if any."""
    state = moment.dialogue
    slots = state.get("slots", {})
    record = slots.get("record")
    if state.get("intent") in ("crm.add_reminder", "crm.add_meeting", "crm.move") and isinstance(
        record, str
    ):
        return record
    listed = slots.get("listed") or []
    if state.get("intent") == "crm.list_reminders" and len(listed) == 1:
        return str(listed[0])  # the only one a list showed ("ops, eh quarta*")
    return None


_SHIFT = re.compile(
    r"(?P<n>\d{1,3})\s*(?P<unit>h|hs|hr|hrs|hora|horas|hour|hours|min|mins|minutos|minutes)\b"
    r"\s*(?:a\s+)?(?P<way>mais tarde|depois|pra frente|later|back|mais cedo|antes|earlier)\b"
)
_LATER = frozenset({"mais tarde", "depois", "pra frente", "later", "back"})


def _read_destination(raw: str, folded: str, moment: Moment, args: dict[str, object]) -> None:
    bare = _BARE_HOUR.match(folded) or _LAST_HOUR.search(folded)
    if bare and int(bare.group(1)) < 24:
        args["to_hour"] = int(bare.group(1))
        return
    tz = ZoneInfo(moment.timezone)
    local = moment.now.astimezone(tz)
    for found in find_when(raw, now=local, tz=moment.timezone, prefer="future"):
        start = found.start.astimezone(tz)
        said = fold(raw[found.span[0] : found.span[1]])
        only_time = found.has_time and not re.search(
            r"[^\W\d_]{4,}|\bdia\s+\d|\d+/\d+", said.replace("pra", "")
        )
        if not only_time and "to_date" not in args:
            args["to_date"] = start.date().isoformat()
        if found.has_time and "to_time" not in args:
            args["to_time"] = start.time().replace(tzinfo=None).isoformat(timespec="minutes")
