"""What a reminder message says apart from its time: the repetition ("toda segunda", "every
weekday"), the warning ahead of an event ("1h antes", "30 min before the meeting") and the
task itself, cut free of the trigger, date, time, repetition and offset words.

Spans are offsets in the original text, so a caller can blank them out and read the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from dateutil.rrule import rrulestr

from whatsapp_ai.ai.extract._text import fold

_DAYS = {
    "MO": r"segunda|monday",
    "TU": r"terca|tuesday",
    "WE": r"quarta|wednesday",
    "TH": r"quinta|thursday",
    "FR": r"sexta|friday",
    "SA": r"sabado|saturday",
    "SU": r"domingo|sunday",
}
_DAY = r"(?:" + "|".join(_DAYS.values()) + r")(?:s)?(?:[- ]feiras?)?"
_DAY_LIST = _DAY + r"(?:\s*(?:,|\be\b|\band\b)\s*(?:as\s+|a\s+)?" + _DAY + r")*"
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR")

# (pattern, rule builder), the more specific first: "todo dia 10" is monthly, not daily.
_MONTH_DAY = (
    r"\btodo (?:santo )?dia (\d{1,2})\b(?!\s*(?:h\b|hs\b|horas|:|\d))",
    r"\btodo mes,? (?:no )?dia (\d{1,2})\b",
    r"\b(?:no )?dia (\d{1,2}) de (?:todo|cada) mes\b",
    r"\b(?:every|each) month on the (\d{1,2})(?:st|nd|rd|th)?\b",
    r"\bon the (\d{1,2})(?:st|nd|rd|th)? of (?:every|each) month\b",
    r"\b(?:every|each) (\d{1,2})(?:st|nd|rd|th) of the month\b",
)
# "todo fim de mês", "todo último dia do mês", "at the end of every month".
_MONTH_END = re.compile(
    r"\b(?:todo|todos os|cada|sempre no|sempre)\s+(?:o\s+)?(?:fim|final|ultimo dia)\s+d[eo]s?"
    r"\s+mes(?:es)?\b"
    r"|\b(?:no )?(?:fim|final|ultimo dia) de (?:todo|cada) mes\b"
    r"|\b(?:at the )?end of (?:every|each) month\b|\b(?:on the )?last day of (?:every|each)"
    r" month\b"
)
_WORKDAYS = (
    r"\bde segunda a sexta(?:[- ]feira)?\b",
    r"\b(?:em |nos )?(?:todos os |todo )?(?:dias uteis|dia util)\b",
    r"\b(?:every|each) weekday\b",
    r"\b(?:on )?weekdays\b",
    r"\bmonday (?:to|through|thru) friday\b",
)
_WEEKENDS = (r"\b(?:todo|todos os|nos) (?:fim|fins) de semana\b", r"\b(?:every|on) weekends?\b")
_WEEKLY_DAYS = (
    r"\b(?:toda|todas as|todo|todos os|cada)\s+(" + _DAY_LIST + r")",
    r"\b(?:every|each)\s+(" + _DAY_LIST + r")",
    r"\bon\s+((?:" + "|".join(_DAYS.values()) + r")s)\b",
)
_SIMPLE = (
    (
        r"\b(?:todo santo dia|todo dia|todos os dias|diariamente|toda (?:noite|manha|tarde)|"
        r"todas as (?:noites|manhas|tardes)|every ?day|daily|each day|"
        r"every (?:morning|night|evening|afternoon))\b",
        "FREQ=DAILY",
    ),
    (r"\b(?:toda semana|todas as semanas|semanalmente|every week|weekly)\b", "FREQ=WEEKLY"),
    (r"\b(?:todo mes|todos os meses|mensalmente|every month|monthly)\b", "FREQ=MONTHLY"),
    (r"\b(?:todo ano|todos os anos|anualmente|every year|yearly|annually)\b", "FREQ=YEARLY"),
)

# "a cada 2 horas", "de 3 em 3 horas", "every 2 hours", "toda hora": within a day.
_EVERY_HOURS = re.compile(
    r"\b(?:(?:a cada|every|cada)\s+(?P<n>\d{1,3})?|de (?P<m>\d{1,3}) em \d{1,3})\s*"
    r"(?P<unit>horas?|hrs?|h|hours?|minutos?|mins?|minutes?)\b"
    r"|\b(?:toda hora|de hora em hora|every hour|hourly)\b(?P<hourly>)"
)
_UNIT = r"(min(?:uto)?s?|minutes?|h|hrs?|horas?|hours?|dias?|days?|semanas?|weeks?)"
_COUNT = (
    r"(\d+(?:[.,]\d+)?|uma?|an?|one|two|three|dois|duas|tres|meia|half an?|uns|umas|alguns"
    r"|algumas|a few|a couple of|couple of|few)"
)
_OFFSET = re.compile(
    r"\b" + _COUNT + r"\s*" + _UNIT + r"\s+(?:antes|before|de antecedencia|in advance|earlier"
    r"|mais cedo)\b(?:\s+(?:d[aoe]s?|the|my|of the|of my)\s+([^\W\d_]+))?"
)
_COUNTS = {
    "um": 1,
    "uma": 1,
    "a": 1,
    "an": 1,
    "one": 1,
    "dois": 2,
    "duas": 2,
    "two": 2,
    "tres": 3,
    "three": 3,
    "meia": 0.5,
    "half a": 0.5,
    "half an": 0.5,
    # "uns dias antes", "a few days before": a couple.
    "uns": 2,
    "umas": 2,
    "alguns": 2,
    "algumas": 2,
    "a few": 2,
    "few": 2,
    "a couple of": 2,
    "couple of": 2,
}

TRIGGER = re.compile(
    r"(?:por favor,?\s*)?(?:(?:me\s+)?lembr[ae]r?(?:-me)?(?:\s+eu)?|lembrete(?:\s*:)?"
    r"|(?:cria|crie|criar|coloca|coloque|bota|poe|põe|faz|faça|faca)\s+(?:um\s+)?lembrete"
    r"|me\s+avis[ae]r?|n[aã]o\s+me\s+deix[ae]\s+esquecer|(?:can you\s+|please\s+)?remind\s+me"
    r"|(?:set|create|add)\s+a\s+reminder|reminder|don'?t\s+let\s+me\s+forget)\b",
    re.IGNORECASE,
)
_LEADING = re.compile(
    r"^(?:(?:e|and|de|d|da|do|pra|para|que|to|2|about|of|te|tenho (?:que|q)|preciso|i have to"
    r"|i need to|i gotta|(?:no |at the )?(?:mesmo horario|mesmo"
    r" horário|same time|msm horario|msm hora)|tb|tbm|tambem|também|,|:|-)(?:\b|(?<=[,:-]))\s*)+",
    re.IGNORECASE,
)
_TRAILING = re.compile(
    r"(?:\s*(?:\b(?:na|no|nas|nos|em|de|da|do|on|at|the|as|às|a|pra|para|e|and|by|for|hoje|"
    r"hj|today|tonight|me|ai|aí|please|por favor|pfv|pf|pfvr|tbm|tb|tambem|também|too|also"
    r"|no mesmo horario|no mesmo horário|mesmo horario|mesmo horário|same time|at the same time"
    r"|(?:no )?msm (?:horario|hora|hr)|mesma hora)"
    r"\b|[,.;:!?-]))+\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Repeat:
    """A repetition read from the text: an RFC 5545 rule without its start."""

    rule: str
    span: tuple[int, int]


@dataclass(frozen=True)
class Offset:
    """A warning ahead of an event ("1h antes"): how long before, and the event it names."""

    before: timedelta
    span: tuple[int, int]
    event: str | None


def _day_codes(found: str) -> list[str]:
    return [code for code, words in _DAYS.items() if re.search(r"\b(?:" + words + ")", found)]


def find_repeat(text: str) -> Repeat | None:
    """The repetition the text asks for, if any."""
    folded = fold(text)
    every = _EVERY_HOURS.search(folded)
    if every is not None:
        count = int(every.group("n") or every.group("m") or 1)
        unit = every.group("unit") or "h"
        if unit.startswith("h") and 1 <= count <= 12:
            return Repeat(f"FREQ=HOURLY;INTERVAL={count}", every.span())
        if 15 <= count <= 180:
            return Repeat(f"FREQ=MINUTELY;INTERVAL={count}", every.span())
    end = _MONTH_END.search(folded)
    if end is not None:
        return Repeat("FREQ=MONTHLY;BYMONTHDAY=-1", end.span())
    for pattern in _MONTH_DAY:
        match = re.search(pattern, folded)
        if match and 1 <= int(match.group(1)) <= 31:
            return Repeat(f"FREQ=MONTHLY;BYMONTHDAY={int(match.group(1))}", match.span())
    for pattern in _WORKDAYS:
        match = re.search(pattern, folded)
        if match:
            return Repeat("FREQ=WEEKLY;BYDAY=" + ",".join(_WEEKDAYS), match.span())
    for pattern in _WEEKENDS:
        match = re.search(pattern, folded)
        if match:
            return Repeat("FREQ=WEEKLY;BYDAY=SA,SU", match.span())
    for pattern in _WEEKLY_DAYS:
        match = re.search(pattern, folded)
        if match:
            codes = _day_codes(match.group(1))
            if codes:
                return Repeat("FREQ=WEEKLY;BYDAY=" + ",".join(codes), match.span())
    for pattern, rule in _SIMPLE:
        match = re.search(pattern, folded)
        if match:
            return Repeat(rule, match.span())
    return None


def first_occurrence(rule: str, *, start: datetime, after: datetime) -> datetime | None:
    """The rule's first occurrence strictly after ``after``, starting from ``start``'s wall
    time (both aware, in the contact's zone); one later today counts."""
    zone = start.tzinfo
    naive_start = start.replace(tzinfo=None)
    naive_after = after.astimezone(zone).replace(tzinfo=None)
    found: datetime | None = rrulestr(rule, dtstart=naive_start).after(naive_after)
    return None if found is None else found.replace(tzinfo=zone)


def _amount(word: str) -> float | None:
    if word in _COUNTS:
        return _COUNTS[word]
    try:
        return float(word.replace(",", "."))
    except ValueError:
        return None


def find_offset(text: str) -> Offset | None:
    """A warning ahead of an event, if the text asks for one."""
    folded = fold(text)
    match = _OFFSET.search(folded)
    if match is None:
        return None
    count = _amount(match.group(1))
    if count is None or count <= 0:
        return None
    unit = match.group(2)
    if unit.startswith("min"):
        delta = timedelta(minutes=count)
    elif unit.startswith(("h", "hr")):
        delta = timedelta(hours=count)
    elif unit.startswith(("dia", "day")):
        delta = timedelta(days=count)
    else:
        delta = timedelta(weeks=count)
    event = text[match.start(3) : match.end(3)] if match.group(3) else None
    return Offset(delta, match.span(), event)


def blank(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with each span replaced by spaces (offsets stay valid)."""
    chars = list(text)
    for begin, end in spans:
        chars[begin:end] = " " * (end - begin)
    return "".join(chars)


def _clean(part: str) -> str:
    part = " ".join(part.split())
    for _ in range(3):
        part = _LEADING.sub("", part).strip()
        part = _TRAILING.sub("", part).strip()
    return part


def task_text(text: str) -> str:
    """What to do, from a text whose time words are blanked: the words after the trigger, or
    before it when nothing follows ("dentista dia 5 as 14h, me avisa 1h antes")."""
    match = TRIGGER.search(text)
    if match is None:
        return _clean(text)
    after = _clean(text[match.end() :])
    if after:
        return after
    return _clean(text[: match.start()])


def keep_warnings_whole(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Clause spans with a warning clause ("me avisa 1h antes") joined to the clause before
    it, which names the event the warning is about."""
    joined: list[tuple[int, int]] = []
    for begin, end in spans:
        if joined and find_offset(text[begin:end]) is not None:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((begin, end))
    return joined


# "levei o carro no conserto", "deixei a roupa na lavanderia": where a thing was left, said
# before asking to be reminded to fetch it.
LEFT_SOMEWHERE = re.compile(
    r"^\s*(?:(?:eu|ah|entao|hj|hoje|ontem)\s+)*(?:levei|deixei|mandei|coloquei|botei|esqueci"
    r"|left|dropped off|took)\s+(?P<what>.+?)\s*[,.;]?\s*$",
    re.IGNORECASE,
)


def with_what_was_left(task: str, before: str) -> str:
    """A task that is a bare verb ("buscar") with the thing left and where ("buscar o carro
    no conserto"), when the words before the request say it."""
    left = LEFT_SOMEWHERE.match(before)
    if left is None or len(task.split()) != 1:
        return task
    return f"{task} {left.group('what').strip(' ,.;')}"
