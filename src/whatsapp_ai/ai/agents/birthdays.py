"""Reminders of a birthday the contact keeps: "me lembra do niver da Carla um dia antes",
"remind me of Tom's birthday". Every year, on the day (or the days before it asked for), at
the hour said or in the morning."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from whatsapp_ai.ai.agents import say
from whatsapp_ai.ai.agents.context import Moment
from whatsapp_ai.ai.agents.offline_model import Plan
from whatsapp_ai.ai.agents.people_notes import BIRTHDAY, PersonLookup, matching
from whatsapp_ai.ai.agents.tools import Tool, ToolError, ToolOutcome, ToolRuntime
from whatsapp_ai.ai.extract import find_person_names, find_when
from whatsapp_ai.ai.extract.reminders import TRIGGER, blank, find_offset
from whatsapp_ai.core import i18n
from whatsapp_ai.core.text import fold
from whatsapp_ai.relationships import service as crm

AGENT = "crm"
YEARLY = "FREQ=YEARLY"
MORNING = 9
_HOUR = re.compile(r"\b(?:as|às|at|@)?\s*(\d{1,2})(?:[:h](\d{2}))?\s*(?:h|hs|horas?|am|pm)\b")
# A day said for the reminder itself ("amanhã") makes it an ordinary reminder.
_DAY_SAID = re.compile(r"\b(?:amanha|hoje|depois de amanha|tomorrow|today)\b")
# The birthday itself said with the request ("... do Tiago, 3 de julho"): kept too.
_DATE_SAID = re.compile(
    r"\bdia \d{1,2}\b|\b\d{1,2}\s*/\s*\d{1,2}\b|\b\d{1,2}\s+(?:de\s+)?[a-z]{3,}"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d{1,2}\b"
)


class BirthdayReminder(BaseModel):
    """A yearly reminder of a person's birthday."""

    model_config = ConfigDict(extra="forbid")

    person: str = Field(min_length=1, max_length=120)
    days_before: int = Field(default=0, ge=0, le=60)
    hour: int = Field(default=MORNING, ge=0, le=23)
    minute: int = Field(default=0, ge=0, le=59)
    birthday: date | None = Field(default=None, description="The birthday, when told with it")


# "me lembra do niver da Carla", "me avisa um dia antes do aniversário da Bia", "remind me of
# Tom's birthday"; never a task for it ("me lembra de comprar presente pro niver da Bia").
_OF_BIRTHDAY = re.compile(
    r"\b(?:lembr\w*|avis\w*|remind me|alert me)\s+(?:\w+\s+){0,3}?(?:d[oa]s?|de|of|about|on)"
    r"\s+(?:\w+['’]s\s+)?(?:aniversario|niver|birthday)\b"
)


def asks_for_one(text: str) -> bool:
    """Whether a reminder request is of a person's birthday, with no day of its own."""
    folded = fold(text)
    return (
        TRIGGER.search(text) is not None
        and BIRTHDAY.search(folded) is not None
        and _DAY_SAID.search(folded) is None
        and bool(find_person_names(text))
        and _OF_BIRTHDAY.search(folded) is not None
    )


def plan(text: str, moment: Moment) -> Plan:
    """The birthday reminder a request asks for."""
    person = find_person_names(text)[0].name
    args: dict[str, object] = {"person": re.sub(r"['’]s$", "", person)}
    offset = find_offset(text)
    said = blank(text, [offset.span]) if offset is not None else text
    if _DATE_SAID.search(fold(said)):
        days = find_when(said, now=moment.now, tz=moment.timezone, prefer="future")
        if days:
            args["birthday"] = days[0].start.date().isoformat()
    if offset is not None and offset.before >= timedelta(days=1):
        args["days_before"] = min(offset.before.days, 60)
    hour = _HOUR.search(fold(text))
    if hour is not None and int(hour.group(1)) <= 23:
        args["hour"] = int(hour.group(1)) + (
            12 if "pm" in hour.group(0) and int(hour.group(1)) < 12 else 0
        )
        args["minute"] = int(hour.group(2) or 0)
    return Plan(calls=[("remind_birthday", args)])


def next_warning(birthday: date, days_before: int, at: time, now: datetime) -> datetime:
    """The next moment, after ``now``, ``days_before`` a yearly ``birthday`` at ``at``."""
    for year in (now.year, now.year + 1, now.year + 2):
        try:
            day = birthday.replace(year=year)
        except ValueError:  # 29 February in a common year: the 28th
            day = date(year, 2, 28)
        warning = datetime.combine(day - timedelta(days=days_before), at, tzinfo=now.tzinfo)
        if warning > now:
            return warning
    raise ValueError("no warning ahead")  # unreachable: a birthday comes every year


async def remind_birthday(runtime: ToolRuntime, args: BirthdayReminder) -> ToolOutcome:
    ctx, lang = runtime.ctx, runtime.ctx.language
    zone = ZoneInfo(ctx.timezone)
    async with runtime.db.transaction() as session:
        people = await matching(runtime, session, PersonLookup(name=args.person))
        if args.birthday is not None and len(people) <= 1:
            people = [await _with_birthday(runtime, session, people, args.person, args.birthday)]
        if not people:
            raise ToolError(i18n.text(lang, "birthdays.unknown", name=args.person))
        if len(people) > 1:
            raise ToolError(
                i18n.text(lang, "people.which", names=", ".join(p.name for p in people[:5]))
            )
        person = people[0]
        if person.birthday is None:
            raise ToolError(i18n.text(lang, "birthdays.unknown", name=person.name))
        now = ctx.now.astimezone(zone)
        due = next_warning(person.birthday, args.days_before, time(args.hour, args.minute), now)
        text = i18n.text(lang, "birthdays.text", name=person.name)
        reminder, _ = await crm.add_reminder(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            text=text,
            due_at=due,
            person_id=person.id,
            source_key=runtime.key("crm.reminder"),
            now=ctx.now,
            rrule=YEARLY,
            timezone=ctx.timezone,
        )
    when = say.moment(due, lang, now.date())
    said = i18n.text(lang, "agenda.reminder_set", when=when, text=text)
    return ToolOutcome(
        say=f"{said} {say.repeating(YEARLY, lang)}", data={"reminder_id": reminder.id}
    )


async def _with_birthday(
    runtime: ToolRuntime, session: Any, people: list[Any], name: str, birthday: date
) -> Any:
    """The person (saved now if new) with the birthday told."""
    ctx = runtime.ctx
    if not people:
        person, _ = await crm.find_or_create_person(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            name=name,
            birthday=birthday,
            now=ctx.now,
            source_key=runtime.key("crm.person"),
        )
        return person
    return await crm.update_person(
        session,
        tenant_id=ctx.tenant_id,
        person_id=people[0].id,
        changes={"birthday": birthday},
        now=ctx.now,
    )


# "quais aniversários tenho anotado?", "whose birthdays do I have?"
_LISTED = re.compile(
    r"\b(?:aniversarios|nivers|birthdays)\b|\b(?:proximos?|proximo) (?:aniversario|niver)"
    r"|\b(?:quem|who) (?:faz|fara|has (?:a|their) birthday) "
)


def asks_for_the_list(text: str) -> bool:
    """Whether a question asks for the birthdays the contact keeps, of no one in particular."""
    return _LISTED.search(fold(text)) is not None and not find_person_names(text)


class NoArgs(BaseModel):
    """No arguments."""

    model_config = ConfigDict(extra="forbid")


async def list_birthdays(runtime: ToolRuntime, args: NoArgs) -> ToolOutcome:
    del args
    ctx, lang = runtime.ctx, runtime.ctx.language
    async with runtime.db.read() as session:
        found = await crm.list_people(
            session, tenant_id=ctx.tenant_id, contact_id=ctx.contact_id, limit=200
        )
    today = ctx.now.astimezone(ZoneInfo(ctx.timezone)).date()
    known = [(p.birthday, p.name) for p in found.items if p.birthday is not None]
    if not known:
        return ToolOutcome(say=i18n.text(lang, "birthdays.none"))
    at = time(0)
    now = datetime.combine(today, at) - timedelta(seconds=1)
    ahead = sorted(known, key=lambda known: next_warning(known[0], 0, at, now))
    lines = [i18n.text(lang, "birthdays.listed")]
    lines += [f"• {day.day:02d}/{day.month:02d}: {name}" for day, name in ahead]
    return ToolOutcome(say="\n".join(lines))


TOOLS = [
    Tool(
        "list_birthdays",
        AGENT,
        "The birthdays of the people the contact keeps, the next first.",
        NoArgs,
        list_birthdays,
    ),
    Tool(
        "remind_birthday",
        AGENT,
        "Remind the contact of a person's birthday every year (on the day or days before).",
        BirthdayReminder,
        remind_birthday,
    ),
]
