"""The relationships agent (personal CRM): reminders, meetings, people and what happened with
them. A reminder is later sent on WhatsApp at its time by the scheduler."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from whatsapp_ai.ai.agents import people_notes, say
from whatsapp_ai.ai.agents.context import Moment
from whatsapp_ai.ai.agents.offline_model import Plan
from whatsapp_ai.ai.agents.tools import Tool, ToolError, ToolOutcome, ToolRuntime
from whatsapp_ai.ai.extract import find_person_names, find_when
from whatsapp_ai.core import i18n
from whatsapp_ai.relationships import service as crm
from whatsapp_ai.relationships.errors import PastTimeError, RelationshipError

AGENT = "crm"
PROMPT = (
    "You keep the contact's personal agenda: reminders (sent on WhatsApp at their time), "
    "meetings, the people they know and what happened with them. Ask for the time when a "
    "reminder or meeting has none."
)
DEFAULT_HOUR = 9


class ReminderArgs(BaseModel):
    """A reminder to send the contact."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=500)
    due_at: AwareDatetime
    person: str | None = Field(default=None, max_length=120)


class MeetingArgs(BaseModel):
    """A meeting in the contact's agenda."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime
    person: str | None = Field(default=None, max_length=120)
    location: str | None = Field(default=None, max_length=200)


class UpcomingArgs(BaseModel):
    """How far ahead to look."""

    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=7, ge=1, le=90)


def _today(runtime: ToolRuntime) -> datetime:
    return runtime.ctx.local_now


def _when(runtime: ToolRuntime, moment: datetime) -> str:
    local = moment.astimezone(ZoneInfo(runtime.ctx.timezone))
    return say.moment(local, runtime.ctx.language, _today(runtime).date())


async def _person_id(runtime: ToolRuntime, session: object, name: str | None) -> str | None:
    if not name:
        return None
    person, _ = await crm.find_or_create_person(
        session,  # type: ignore[arg-type]
        tenant_id=runtime.ctx.tenant_id,
        contact_id=runtime.ctx.contact_id,
        name=name,
        now=runtime.ctx.now,
    )
    return person.id


async def add_reminder(runtime: ToolRuntime, args: ReminderArgs) -> ToolOutcome:
    ctx = runtime.ctx
    try:
        async with runtime.db.transaction() as session:
            reminder, _ = await crm.add_reminder(
                session,
                tenant_id=ctx.tenant_id,
                contact_id=ctx.contact_id,
                text=args.text,
                due_at=args.due_at,
                person_id=await _person_id(runtime, session, args.person),
                source_key=runtime.key("crm.reminder"),
                now=ctx.now,
            )
    except RelationshipError as exc:
        raise ToolError(_refusal(exc, ctx.language)) from exc
    when = _when(runtime, reminder.due_at)
    text = i18n.text(ctx.language, "agenda.reminder_set", when=when, text=args.text)
    return ToolOutcome(say=text, data={"reminder_id": reminder.id})


async def add_meeting(runtime: ToolRuntime, args: MeetingArgs) -> ToolOutcome:
    ctx = runtime.ctx
    try:
        async with runtime.db.transaction() as session:
            meeting, _ = await crm.add_meeting(
                session,
                tenant_id=ctx.tenant_id,
                contact_id=ctx.contact_id,
                title=args.title,
                starts_at=args.starts_at,
                location=args.location,
                person_id=await _person_id(runtime, session, args.person),
                source_key=runtime.key("crm.meeting"),
                now=ctx.now,
            )
    except RelationshipError as exc:
        raise ToolError(_refusal(exc, ctx.language)) from exc
    when = _when(runtime, meeting.starts_at)
    text = i18n.text(ctx.language, "agenda.meeting_set", title=args.title, when=when)
    return ToolOutcome(say=text, data={"meeting_id": meeting.id})


async def upcoming(runtime: ToolRuntime, args: UpcomingArgs) -> ToolOutcome:
    ctx = runtime.ctx
    async with runtime.db.read() as session:
        ahead = await crm.upcoming(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            now=ctx.now,
            days=args.days,
        )
    lines = [f"• {_when(runtime, r.due_at)}: {r.text}" for r in ahead.reminders]
    lines += [f"• {_when(runtime, m.starts_at)}: {m.title}" for m in ahead.meetings]
    if not lines:
        text = i18n.text(ctx.language, "agenda.nothing_ahead", days=args.days)
        return ToolOutcome(say=text, data={"count": 0})
    head = i18n.text(ctx.language, "agenda.coming_up")
    return ToolOutcome(say="\n".join([head, *lines]), data={"count": len(lines)})


def _refusal(exc: RelationshipError, language: str) -> str:
    if isinstance(exc, PastTimeError):
        return i18n.text(language, "agenda.time_passed")
    return i18n.text(language, "agenda.not_saved", reason=exc.message)


TOOLS = [
    Tool(
        "add_reminder",
        AGENT,
        "Remind the contact of something at a time.",
        ReminderArgs,
        add_reminder,
    ),
    Tool("add_meeting", AGENT, "Put a meeting in the contact's agenda.", MeetingArgs, add_meeting),
    Tool("upcoming", AGENT, "The contact's reminders and meetings ahead.", UpcomingArgs, upcoming),
    *people_notes.TOOLS,
]

# --- the offline planner for this agent ------------------------------------------------------

_REMIND_LEAD = re.compile(
    r"^\s*(?:por favor,?\s*)?(?:(?:me\s+)?lembr[ae]r?(?:-me)?|lembrete(?:\s*:)?"
    r"|(?:cria|crie|criar|coloca|coloque|bota|poe|põe)\s+(?:um\s+)?lembrete"
    r"|me\s+avis[ae]r?|n[aã]o\s+me\s+deix[ae]\s+esquecer|(?:can you\s+)?remind\s+me"
    r"|(?:set|create|add)\s+a\s+reminder|reminder|don'?t\s+let\s+me\s+forget)"
    r"\s*(?:de|da|do|que|pra|para|to|about|:)?\s*",
    re.IGNORECASE,
)
_LEFTOVER = re.compile(r"^(?:(?:de|da|do|pra|para|que|to|about|te)\b[\s:]*)+", re.IGNORECASE)
_TODAY_WORDS = re.compile(r"\b(?:hj|hoje|today|tonight)\b", re.IGNORECASE)
_MORE_TASKS = re.compile(r"\s+(?:e|and)\s+(?:de|to|also|tambem|também)\s+", re.IGNORECASE)
_MEETING_LEAD = re.compile(
    r"^\s*(?:marca(?:r)?|agenda(?:r)?|schedule|book|set up)\s+(?:uma?\s+|a\s+)?",
    re.IGNORECASE,
)


def plan(intent: str, text: str, moment: Moment) -> Plan:
    """Tool calls for an agenda message, read without a language model."""
    if intent in people_notes.INTENTS:
        return people_notes.plan(intent, text, moment)
    if intent == "crm.list_reminders":
        return Plan(calls=[("upcoming", {"days": 7})])
    names = [re.sub(r"['’]s$", "", n.name) for n in find_person_names(text)]
    if intent in ("crm.add_reminder", "crm.add_meeting"):
        due, rest = _due(text, moment)
        if due is None:
            return Plan(text=i18n.text(moment.language, "agenda.ask_when"))
        if intent == "crm.add_reminder":
            body = _REMIND_LEAD.sub("", text).strip(" .,:;!") or text.strip()
            calls: list[tuple[str, dict[str, object]]] = []
            for task in _MORE_TASKS.split(body):
                # Each task may say its own time ("... amanhã e de mandar email sexta às 14h").
                own, task_text = _due(task, moment)
                clean = _REMIND_LEAD.sub("", task_text).strip(" .,:;!")
                clean = " ".join(_TODAY_WORDS.sub(" ", clean).split()).strip(" .,:;!")
                clean = _LEFTOVER.sub("", clean)
                args: dict[str, object] = {
                    "text": (clean or task.strip())[:500],
                    "due_at": (own or due).isoformat(),
                }
                people = [n.name for n in find_person_names(task)]
                if people:
                    args["person"] = people[0]
                calls.append(("add_reminder", args))
            return Plan(calls=calls)
        title = _MEETING_LEAD.sub("", rest).strip(" .,:;!") or i18n.text(
            moment.language, "agenda.meeting_title"
        )
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


def _due(text: str, moment: Moment) -> tuple[datetime | None, str]:
    """When a reminder or meeting is due, and the text without the time words."""
    tz = ZoneInfo(moment.timezone)
    local = moment.now.astimezone(tz)
    for found in find_when(text, now=local, tz=moment.timezone, prefer="future"):
        start = found.start.astimezone(tz)
        if not found.has_time:
            start = datetime.combine(start.date(), time(DEFAULT_HOUR), tzinfo=tz)
            if start <= local:
                start = local + timedelta(hours=1)
        begin, end = found.span
        return start, (text[:begin] + " " + text[end:]).replace("  ", " ")
    return None, text
