"""The agenda agent's tools: reminders (sent on WhatsApp at their time by the scheduler, once or
repeating), meetings, people and what happened with them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from whatsapp_ai.ai.agents import birthdays, people_fix, people_notes, say
from whatsapp_ai.ai.agents.tools import Tool, ToolError, ToolOutcome, ToolRuntime
from whatsapp_ai.core import i18n
from whatsapp_ai.core.text import fold, fold_key
from whatsapp_ai.relationships import service as crm
from whatsapp_ai.relationships.errors import PastTimeError, RelationshipError

AGENT = "crm"
PROMPT = (
    "You keep the contact's personal agenda: reminders (sent on WhatsApp at their time), "
    "meetings, the people they know and what happened with them. Ask for the time when a "
    "reminder or meeting has none."
)


class ReminderArgs(BaseModel):
    """A reminder to send the contact."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=500)
    due_at: AwareDatetime
    person: str | None = Field(default=None, max_length=120)
    rrule: str | None = Field(
        default=None,
        max_length=200,
        description="RFC 5545 rule for a repeating reminder, e.g. FREQ=WEEKLY;BYDAY=MO",
    )


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

    days: int | None = Field(default=None, ge=1, le=3650, description="None: all ahead")
    on: date | None = Field(default=None, description="only this local day")
    words: list[str] = Field(
        default_factory=list, max_length=8, description="only records with one of these words"
    )


def _today(runtime: ToolRuntime) -> datetime:
    return runtime.ctx.local_now


def _when(runtime: ToolRuntime, moment: datetime) -> str:
    local = moment.astimezone(ZoneInfo(runtime.ctx.timezone))
    return say.moment(local, runtime.ctx.language, _today(runtime).date())


async def _person_id(runtime: ToolRuntime, session: object, name: str | None) -> str | None:
    """The person a reminder or meeting names, when the contact keeps them: a name alone
    ("ligar pra Ju") links to a saved person but never saves a new one unasked."""
    if not name:
        return None
    found = await crm.find_people(
        session,  # type: ignore[arg-type]
        tenant_id=runtime.ctx.tenant_id,
        contact_id=runtime.ctx.contact_id,
        query=name,
        limit=2,
    )
    exact = [p for p in found if p.name_key == fold_key(name)]
    chosen = exact or (found if len(found) == 1 else [])
    return chosen[0].id if chosen else None


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
                rrule=args.rrule,
                timezone=ctx.timezone,
            )
    except RelationshipError as exc:
        raise ToolError(_refusal(exc, ctx.language)) from exc
    when = _when(runtime, reminder.due_at)
    text = i18n.text(ctx.language, "agenda.reminder_set", when=when, text=args.text)
    if reminder.rrule:
        text += " " + say.repeating(reminder.rrule, ctx.language)
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
    zone = ZoneInfo(ctx.timezone)
    items = [
        (r.due_at, r.text + (f" {say.repeating(r.rrule, ctx.language)}" if r.rrule else ""), r.id)
        for r in ahead.reminders
    ]
    items += [(m.starts_at, m.title, m.id) for m in ahead.meetings]
    if args.on is not None:
        items = [item for item in items if item[0].astimezone(zone).date() == args.on]
    if args.words:
        named = [item for item in items if any(w[:5] in fold(item[1]) for w in args.words)]
        items = named or items  # nothing by those words: the whole agenda, not a false "nada"
    lines = [f"• {_when(runtime, at)}: {what}" for at, what, _ in sorted(items, key=lambda i: i[0])]
    if args.on is not None:
        day = say.day(args.on, ctx.language, ctx.local_now.date())
        if not lines:
            return ToolOutcome(say=i18n.text(ctx.language, "agenda.nothing_on", day=day))
        head = i18n.text(ctx.language, "agenda.on_day", day=day)
        return ToolOutcome(say="\n".join([head, *lines]), data=_listed(items))
    if not lines:
        text = (
            i18n.text(ctx.language, "agenda.nothing_ahead", days=args.days)
            if args.days
            else i18n.text(ctx.language, "agenda.nothing_at_all")
        )
        return ToolOutcome(say=text, data={"count": 0})
    head = i18n.text(ctx.language, "agenda.coming_up")
    return ToolOutcome(say="\n".join([head, *lines]), data=_listed(items))


def _listed(items: list[tuple[datetime, str, str]]) -> dict[str, object]:
    """What a list shows, in its order: "cancela o segundo" picks from it."""
    ordered = sorted(items, key=lambda i: i[0])
    return {"count": len(ordered), "listed": [record for _, _, record in ordered]}


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
    *people_fix.TOOLS,
    *birthdays.TOOLS,
]
