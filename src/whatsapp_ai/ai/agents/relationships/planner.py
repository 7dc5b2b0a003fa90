"""The agenda agent's offline planner: reminders (once, repeating, or ahead of an event),
meetings, people and what happened with them, read without a language model."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from whatsapp_ai.ai.agents import birthdays, people_fix, people_notes
from whatsapp_ai.ai.agents.context import Moment
from whatsapp_ai.ai.agents.offline_model import Plan
from whatsapp_ai.ai.agents.relationships.manage import plan_change
from whatsapp_ai.ai.dialogue import BACK_REFERENCE, elliptical
from whatsapp_ai.ai.extract import find_person_names, find_when
from whatsapp_ai.ai.extract._text import fold
from whatsapp_ai.ai.extract.reminders import (
    TRIGGER,
    blank,
    find_offset,
    find_repeat,
    first_occurrence,
    task_text,
    with_what_was_left,
)
from whatsapp_ai.core import i18n

DEFAULT_HOUR = 9

# "... e de mandar email", "... e 14h de buscar a encomenda": another task (its own time kept).
_MORE_TASKS = re.compile(
    r"\s+(?:e|and)\s+(?:(?:de|to|also|tambem|também)\s+"
    r"|(?=(?:as\s+|às\s+|at\s+)?\d{1,2}(?:[:h]\d{2})?\s*(?:h|hs|am|pm)\b))",
    re.IGNORECASE,
)
_MEETING_LEAD = re.compile(
    r"^\s*(?:marca(?:r)?|agenda(?:r)?|schedule|book|set up|(?:eu\s+)?tenho|vou ter|i have"
    r"|i've got)\b\s*(?:uma?\s+|an?\s+)?",
    re.IGNORECASE,
)
_NEXT_WEEK = re.compile(r"\b(?:semana que vem|proxima semana|next week)\b")
_WEEKDAY = re.compile(
    r"\b(?:segunda|terca|quarta|quinta|sexta|sabado|domingo|monday|tuesday|wednesday|thursday"
    r"|friday|saturday|sunday)\b"
)
_TIME_ONLY = re.compile(
    r"^\s*(?:(?:as|a|at|@|pras?|para as|por volta d[ae]s?|around|das|by)\s+)?\d{1,2}"
    r"(?:[:h]\d{2})?\s*(?:h|hs|hrs?|horas?|am|pm|o'?clock)?\s*$"
)
Call = tuple[str, dict[str, object]]


def plan(intent: str, text: str, moment: Moment) -> Plan:
    """Tool calls for an agenda message, read without a language model."""
    if intent in people_fix.INTENTS or people_fix.corrects(intent, text, moment):
        return people_fix.plan(
            "crm.person_forget" if intent == "crm.person_forget" else "crm.person_fix", text, moment
        )
    if intent in ("crm.person_info", "crm.list_reminders") and birthdays.asks_for_the_list(text):
        return Plan(calls=[("list_birthdays", {})])
    if intent in people_notes.INTENTS and not _ASKS_AGENDA.search(fold(text)):
        return people_notes.plan(intent, text, moment)
    if intent == "crm.list_reminders" or intent in people_notes.INTENTS:
        on = _day_asked(text, moment)
        listing: dict[str, object] = {"on": on.isoformat()} if on else {}
        named = [w for w in re.findall(r"[^\W\d_]{4,}", fold(text)) if w not in _ASK_WORDS]
        if named:
            listing["words"] = named[:8]  # "qnd é minha consulta?": the consultation
        return Plan(calls=[("upcoming", listing)])
    if intent in ("crm.cancel", "crm.move"):
        return plan_change(intent, text, moment)
    names = [re.sub(r"['’]s$", "", n.name) for n in find_person_names(text)]
    if intent in ("crm.add_reminder", "crm.add_meeting") and birthdays.asks_for_one(text):
        return birthdays.plan(text, moment)  # "me lembra do niver da Carla um dia antes"
    if intent == "crm.add_reminder" or (intent == "crm.add_meeting" and find_offset(text)):
        # An event with a warning ahead ("dentista dia 5 as 14h, me avisa 1h antes").
        return _reminders(text, moment)
    if intent == "crm.add_meeting":
        due, rest = due_at(text, moment)
        due = _leaning_on_the_last(text, due, moment, kind="crm.add_meeting", slot="starts_at")
        if due is None:
            return Plan(text=i18n.text(moment.language, "agenda.ask_when"))
        title = _another_meeting(text, names, moment) or _MEETING_LEAD.sub("", rest).strip(" .,:;!")
        title = title or i18n.text(moment.language, "agenda.meeting_title")
        meeting: dict[str, object] = {
            "title": title[:1].upper() + title[1:200],
            "starts_at": due.isoformat(),
        }
        if names:
            meeting["person"] = names[0]
        return Plan(calls=[("add_meeting", meeting)])
    if not names:
        return Plan(text=i18n.text(moment.language, "agenda.ask_who"))
    if intent == "crm.add_contact":
        return Plan(calls=[("add_person", {"name": names[0]})])
    return Plan(calls=[("log_interaction", {"person": names[0], "summary": text.strip()[:1000]})])


# "o que eu tenho na terça?", "tenho algo amanhã?", "what do I have on friday?"
_ASKS_AGENDA = re.compile(
    r"\b(?:o ?q(?:ue)? (?:eu )?tenho|tenho (?:algo|alguma coisa|compromisso)|what do i have"
    r"|what'?s on|anything on)\b"
)


# Words of a question about the agenda, never what a record is called.
_ASK_WORDS = frozenset((
    "quais", "quando", "minha", "minhas", "meus", "tenho", "algo", "marcado", "marcada",
    "marcados", "agendado", "agenda", "lembretes", "lembrete", "compromisso", "compromissos",
    "proximos", "proximas", "amanha", "hoje", "semana", "segunda", "terca", "quarta", "quinta",
    "sexta", "sabado", "domingo", "what", "when", "have", "anything", "scheduled", "reminders",
    "reminder", "appointments", "next", "today", "tomorrow", "week", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "sunday", "mostra", "lista", "show", "list",
    "pra", "para", "esta", "essa", "este"
))  # fmt: skip


def _day_asked(text: str, moment: Moment) -> date | None:
    """The one day a question about the agenda names ("amanhã", "na terça"), if any."""
    tz = ZoneInfo(moment.timezone)
    local = moment.now.astimezone(tz)
    for found in find_when(text, now=local, tz=moment.timezone, prefer="future"):
        if found.kind == "day":
            return found.start.astimezone(tz).date()
    return None


def _reminders(text: str, moment: Moment) -> Plan:
    repeat = find_repeat(text)
    offset = find_offset(text)
    spans = [s for s in (repeat and repeat.span, offset and offset.span) if s]
    readable = blank(text, spans)
    if repeat is not None:
        return _repeating(readable, repeat.rule, moment)
    due, used = _moment_of(readable, moment)
    eve = _EVE.search(fold(readable))
    if eve is not None:
        # "me lembra na véspera às 20h": the day before the event just told.
        due = _on_the_eve(due, moment)
        used = [*used, eve.span()]
    else:
        due = _leaning_on_the_last(readable, due, moment)
    if due is None and offset is not None:
        due = _event_moment(moment)  # "me avisa 1 dia antes", right after the event was told
    if due is None:
        return Plan(text=i18n.text(moment.language, "agenda.ask_when"))
    if offset is None and due <= moment.now:
        # "me lembra de pagar o IPVA às 10h" said at 10h: which day is meant is not known.
        return Plan(text=i18n.text(moment.language, "agenda.ask_day"))
    if offset is not None:
        # "e me avisa 1h antes tb": ahead of the reminder just made, for the same task.
        told = task_text(blank(readable, used))
        task = (
            told
            or _last_task(readable, moment)
            or offset.event
            or _event_told(moment)
            or text.strip()
        )
        calls: list[Call] = [
            ("add_reminder", _with_person({"text": task[:500]}, task, due - offset.before))
        ]
        if told and _names_the_event_itself(readable):
            # "dentista dia 5 as 14h, me avisa 1h antes": the event goes in the agenda too.
            title = task[:1].upper() + task[1:200]
            calls.append(("add_meeting", {"title": title, "starts_at": due.isoformat()}))
        return Plan(calls=calls)
    body = _carry_verb(task_text(blank(readable, used)), blank(readable, used), moment)
    body = body or _last_task(readable, moment) or (_event_told(moment) if eve else "")
    trigger = TRIGGER.search(readable)
    if body and trigger is not None:
        # "levei o carro no conserto, me lembra de buscar": fetch the car from the garage
        body = with_what_was_left(body, readable[: trigger.start()])
    if not body and TRIGGER.search(readable):
        # "me lembra amanhã": when, but not of what.
        return Plan(text=i18n.text(moment.language, "agenda.ask_what"))
    calls = []
    parts = _MORE_TASKS.split(body) if body else [text]
    for part in parts:
        # With several tasks each may say its own time ("... amanhã e de mandar email sexta
        # às 14h"); a single task keeps its words ("pegar o onibus das 8h").
        own, own_used = _moment_of(part, moment) if len(parts) > 1 else (None, [])
        if own is not None and due is not None and not _names_a_day(part, moment):
            # "amanhã 9h de ir no banco e 14h de buscar a encomenda": tomorrow at 14h too.
            own = datetime.combine(due.date(), own.timetz())
        clean = task_text(blank(part, own_used)) if own else part
        args: dict[str, object] = {"text": (clean or part.strip() or text.strip())[:500]}
        calls.append(("add_reminder", _with_person(args, part, own or due)))
    return Plan(calls=calls)


_EVE = re.compile(r"\b(?:na vespera|na noite anterior|the day before|the night before)\b")
# The hour of a warning on the eve when none is said.
EVE_HOUR = 20


def _event_moment(moment: Moment) -> datetime | None:
    """When the event or reminder just told happens (in the contact's zone), if one was."""
    slots = moment.dialogue.get("slots", {})
    event = slots.get("starts_at") or slots.get("due_at")
    if not isinstance(event, str):
        return None
    try:
        return datetime.fromisoformat(event).astimezone(ZoneInfo(moment.timezone))
    except ValueError:
        return None


def _on_the_eve(due: datetime | None, moment: Moment) -> datetime | None:
    """The moment on the day before the last event or reminder (its hour, or 20:00)."""
    day = _event_moment(moment)
    if day is None:
        return due
    clock = due.timetz() if due is not None else time(EVE_HOUR, tzinfo=day.tzinfo)
    return datetime.combine(day.date() - timedelta(days=1), clock)


_SAME_TIME = re.compile(r"\b(?:(?:mesmo|msm) (?:horario|hr|hora)|(?:mesma|msm) hora|same time)\b")


def _another_meeting(said: str, names: list[str], moment: Moment) -> str:
    """The title of a meeting like the last one with someone else ("e com a Laís no mesmo
    horário na sexta" after "Reunião com o Fábio"); empty when it is not that."""
    slots = moment.dialogue.get("slots", {})
    last = slots.get("title")
    if moment.dialogue.get("intent") != "crm.add_meeting" or not isinstance(last, str):
        return ""
    if not (elliptical(said) or BACK_REFERENCE.search(fold(said))):
        return ""  # "marca reunião com a Marta quinta às 14h": a meeting of its own
    if not names or names[0] == slots.get("person"):
        return ""
    lead = re.split(r"\s+(?:com|with)\s+", last, maxsplit=1)[0]
    joiner = "with" if moment.language == "en" else "com"
    return f"{lead} {joiner} {names[0]}"


def _leaning_on_the_last(
    text: str,
    due: datetime | None,
    moment: Moment,
    *,
    kind: str = "crm.add_reminder",
    slot: str = "due_at",
) -> datetime | None:
    """A follow-up of the last reminder or meeting ("e de pagar a internet tbm", "e amanhã no
    mesmo horário de regar as plantas") takes its moment, or its time of day, from it."""
    last = moment.dialogue.get("slots", {}).get(slot)
    if moment.dialogue.get("intent") != kind or not isinstance(last, str):
        return due
    folded = fold(text)
    if not (elliptical(text) or BACK_REFERENCE.search(folded)):
        return due
    try:
        before = datetime.fromisoformat(last).astimezone(ZoneInfo(moment.timezone))
    except ValueError:
        return due
    if due is None:
        return before
    said_a_time = any(
        w.has_time for w in find_when(text, now=moment.now, tz=moment.timezone, prefer="future")
    )
    if _SAME_TIME.search(folded) or not said_a_time:
        # "e depois de amanhã tb": another day, the same time.
        return datetime.combine(due.astimezone(before.tzinfo).date(), before.timetz())
    if not _names_a_day(text, moment):
        # "e pro Rafa tb, às 11h": the same day, another time.
        return datetime.combine(before.date(), due.astimezone(before.tzinfo).timetz())
    return due


def _event_told(moment: Moment) -> str:
    """What the event or reminder just told is ("Prova de calculo"), for a warning ahead of it
    that names nothing else ("me avisa na véspera")."""
    slots = moment.dialogue.get("slots", {})
    told = slots.get("title") or slots.get("text")
    return told if isinstance(told, str) else ""


def _last_task(text: str, moment: Moment) -> str:
    """The last reminder's task, for a follow-up that names only a new moment ("e no domingo
    tb, mesmo horário"); empty otherwise."""
    last = moment.dialogue.get("slots", {}).get("text")
    if moment.dialogue.get("intent") != "crm.add_reminder" or not isinstance(last, str):
        return ""
    leaning = elliptical(text) or BACK_REFERENCE.search(fold(text)) is not None
    return last if leaning else ""


# What a task without its own verb starts with ("and a card too", "e o pão tb").
_NO_VERB = re.compile(
    r"^(?:a|an|the|some|more|another|o|a|os|as|um|uma|uns|umas|mais|outr[oa]s?|pro|pra|pros"
    r"|pras|para|do|da|dos|das|de|to|for|with|com)\b",
    re.IGNORECASE,
)


# "e ... tb", "and ... too": the words around a follow-up, never its task.
_FOLLOW_UP_EDGES = re.compile(
    r"^\s*(?:e|and)\s+|\s*\b(?:tb|tbm|tambem|também|too|also)\b[\s.,;!]*$", re.IGNORECASE
)


def _carry_verb(task: str, text: str, moment: Moment) -> str:
    """A follow-up task without its own verb ("and a card too" after "buy flowers", "e pra
    Maria tb" after "ligar pro João") takes the verb of the last reminder's task."""
    last = _last_task(text, moment)
    if not task or not last:
        return task
    # A single word that is no infinitive ("e leite tb") is a thing, not something to do.
    thing = len(task.split()) == 1 and not fold(task).endswith(("ar", "er", "ir", "or"))
    if not (thing or _NO_VERB.match(task)):
        return task
    said = " ".join(_FOLLOW_UP_EDGES.sub("", text).split()).strip(" .,!")
    if _NO_VERB.match(said) and fold(task) in fold(said):
        task = said  # "pra Maria": the word that ties it to the verb is kept
    verb = last.split()[0]
    return task if fold(task).startswith(fold(verb)) else f"{verb} {task}"


def _names_a_day(text: str, moment: Moment) -> bool:
    local = moment.now.astimezone(ZoneInfo(moment.timezone))
    found = find_when(text, now=local, tz=moment.timezone, prefer="future")
    return any(
        not (w.has_time and _TIME_ONLY.match(fold(text[w.span[0] : w.span[1]]))) for w in found
    )


def _with_person(args: dict[str, object], task: str, due: datetime) -> dict[str, object]:
    args["due_at"] = due.isoformat()
    people = [n.name for n in find_person_names(task)]
    if people:
        args["person"] = people[0]
    return args


def _names_the_event_itself(readable: str) -> bool:
    """Whether the task sits before the trigger ("dentista ..., me avisa") with nothing after."""
    match = TRIGGER.search(readable)
    return bool(match and match.start() > 0 and not task_text(readable[match.start() :]))


def _repeating(readable: str, rule: str, moment: Moment) -> Plan:
    tz = ZoneInfo(moment.timezone)
    local = moment.now.astimezone(tz)
    clock, used = _clock(readable, moment)
    start = datetime.combine(local.date(), clock, tzinfo=tz)
    if rule.startswith(("FREQ=HOURLY", "FREQ=MINUTELY")) and not used:
        start = local.replace(second=0, microsecond=0)  # "a cada 2 horas": from now on
    first = first_occurrence(rule, start=start, after=local)
    if first is None:
        return Plan(text=i18n.text(moment.language, "agenda.ask_when"))
    task = task_text(blank(readable, used)) or readable.strip()
    args = _with_person({"text": task[:500], "rrule": rule}, task, first)
    return Plan(calls=[("add_reminder", args)])


def _clock(text: str, moment: Moment) -> tuple[time, list[tuple[int, int]]]:
    """The time of day a repeating reminder names (9:00 when none)."""
    tz = ZoneInfo(moment.timezone)
    for found in find_when(text, now=moment.now.astimezone(tz), tz=moment.timezone):
        if found.has_time:
            return found.start.astimezone(tz).time().replace(second=0, microsecond=0), [found.span]
    return time(DEFAULT_HOUR), []


def _moment_of(text: str, moment: Moment) -> tuple[datetime | None, list[tuple[int, int]]]:
    """When a reminder or meeting is due, and the spans of the words that said it: a day
    ("sexta", "dia 5"), "next week" moving that day into the next week, and a time."""
    tz = ZoneInfo(moment.timezone)
    local = moment.now.astimezone(tz)
    folded = fold(text)
    day = clock = week = None
    for found in find_when(text, now=local, tz=moment.timezone, prefer="future"):
        said = folded[found.span[0] : found.span[1]]
        if _NEXT_WEEK.search(said) and not _WEEKDAY.search(said):
            week = week or found
        elif found.has_time and _TIME_ONLY.match(said):
            clock = clock or found
        elif day is None:
            day = found
    if day is None and clock is None and week is None:
        return None, []
    used = [f.span for f in (day, week) if f is not None]
    if day is not None:
        on: date = day.start.astimezone(tz).date()
    elif week is not None:
        on = week.start.astimezone(tz).date()
    else:
        on = local.date()
    if week is not None and day is not None:
        monday = local.date() + timedelta(days=7 - local.weekday())
        while on < monday:
            on += timedelta(days=7)
    if day is not None and day.has_time:
        start = datetime.combine(on, day.start.astimezone(tz).timetz().replace(tzinfo=None), tz)
    elif clock is not None:
        used.append(clock.span)
        at = clock.start.astimezone(tz)
        start = datetime.combine(on, at.time(), tzinfo=tz)
        if day is None and week is None:
            start = at
    else:
        start = datetime.combine(on, time(DEFAULT_HOUR), tzinfo=tz)
        if start <= local:
            start = local + timedelta(hours=1)
    return start, used


def due_at(text: str, moment: Moment) -> tuple[datetime | None, str]:
    """When a reminder or meeting is due, and the text without the time words."""
    start, used = _moment_of(text, moment)
    if start is None:
        return None, text
    return start, " ".join(blank(text, used).split())
