"""Dates, times and periods in a message (PT and EN), resolved against the user's clock.

`find_when` reads "amanhã às 15h", "sexta que vem", "dia 5", "05/10/2026", "October 5th", "em 2
horas", "semana passada", "em outubro", "this week" and the like, and returns aware datetimes in
the user's time zone:

- kind "instant": a moment (`end` is None, `has_time` is True): "amanhã às 15h", "em 2 horas",
  "às 9" alone, "à noite" alone.
- kind "day": a calendar day without a time (`start` its midnight, `end` the next midnight):
  "hoje", "sexta", "dia 5", "5/10", "em 3 dias".
- kind "period": several days (`end` exclusive): "semana passada", "este mês", "em outubro",
  "last year", "fim de semana", "últimos 7 dias".

A day followed or preceded by a time ("amanhã às 15h", "às 15h de amanhã", "at 3pm on Friday",
"sexta de manhã") is one instant; its span covers both and the preposition before them ("no dia
5", "na sexta", "em outubro", "dia 5/10"), so the caller can cut the whole phrase out.

Decisions on the ambiguous cases:

- `prefer` picks between the past and the future when the text does not say: "past" for spending
  questions ("quanto gastei em outubro?": the last October that has begun, this one if it is
  October now), "future" for reminders (the next October that has not ended). It applies to
  weekdays, "dia 5", dates without a year, months, "fim de semana", and to a time alone ("às 9"
  said at 10:00 is tomorrow for a reminder, today for an expense; "às 15h" is yesterday for an
  expense said at 10:00).
- A weekday alone or with "que vem"/"próxima"/"next" is the first one after today; with
  "passada"/"última"/"last" the last one before today; with "esta"/"essa"/"this" the one in the
  current week. A weekday alone never means today: "sexta" said on a Friday is a week away (or
  ago).
- Weeks run from Monday to Monday. "fim de semana" is Saturday and Sunday; "next weekend" is the
  first one starting after today, "last weekend" the one before the current week.
- "dia 31" in a month without a 31st is the nearest month that has one (in the direction of
  `prefer`); "29/02" without a year the nearest leap year. A date that cannot exist ("31/04/2026")
  is not read. "em 1 mês" from January 31st is the last day of February.
- "5/10" is day first (Brazilian order) unless `day_first=False`; a first number above 12 forces
  day first, a second number above 12 month first.
- Parts of the day stand for default hours: madrugada 3:00, cedo ("amanhã cedo") 8:00, manhã /
  morning 9:00, tarde / afternoon 15:00, noite / evening / night / tonight 20:00; "meio-dia" is
  12:00 and "meia-noite" 0:00. A part of the day turns "8" into 20:00 ("às 8 da noite").
- An hour written bare after "às"/"at" ("às 3", "at 5") from 1 to 6 is in the afternoon (15:00,
  17:00): nobody schedules at 3 in the morning without saying so. "3h" and "15:00" are read as
  written (24-hour clock).
- "últimos 7 dias" / "last 7 days" are the seven days ending today, today included. "last week" is
  the previous calendar week, not the last seven days.
- "15 horas" is a time only with "às" or a part of the day ("às 15 horas", "10 horas da manhã");
  alone it is a duration ("2 horas de reunião") and not read.
- "toda segunda" is read as the next Monday; repetition is the caller's to see.
- "em 2 horas" / "daqui a 10 minutos" are counted in absolute time (a DST change in between does
  not shift them); "em 3 dias" / "em 2 semanas" are calendar days without a time.
- Bare PT weekday names that are also ordinals ("segunda vez", "quinta parcela") are not read when
  followed by a noun they usually count; a capitalised "Marco" without "ç" is a name, not March.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from whatsapp_ai.ai.extract._numbers import UNITS
from whatsapp_ai.ai.extract._text import fold, next_word

Kind = Literal["instant", "day", "period"]
Prefer = Literal["past", "future"]
_Direction = Literal["this", "last", "next"]


@dataclass(frozen=True, slots=True)
class When:
    """A moment, day or period the text mentions, in the user's time zone, with its span."""

    start: datetime
    end: datetime | None
    kind: Kind
    has_time: bool
    span: tuple[int, int]


# Vocabulary, folded.
_MONTHS: dict[str, int] = {
    "janeiro": 1, "fevereiro": 2, "marco": 3, "abril": 4, "maio": 5, "junho": 6, "julho": 7,
    "agosto": 8, "setembro": 9, "outubro": 10, "novembro": 11, "dezembro": 12, "january": 1,
    "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
_EN_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
              "september", "october", "november", "december")  # fmt: skip
# Abbreviations are read only next to a day number, and the PT ones that are also words ("set",
# "out", "ago", "dez") only after "de" ("5 de out").
_EN_ABBREVIATIONS: dict[str, int] = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_PT_ABBREVIATIONS: dict[str, int] = {
    "jan": 1, "fev": 2, "mar": 3, "abr": 4, "mai": 5, "jun": 6, "jul": 7, "ago": 8, "set": 9,
    "out": 10, "nov": 11, "dez": 12,
}  # fmt: skip
_WEEKDAYS: dict[str, int] = {
    "segunda": 0, "terca": 1, "quarta": 2, "quinta": 3, "sexta": 4, "sabado": 5, "domingo": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}  # fmt: skip
_PT_ORDINALS = frozenset({"segunda", "terca", "quarta", "quinta", "sexta"})
# Nouns PT ordinals count ("segunda vez", "quinta série"): the weekday name before them is not one.
_ORDINAL_NOUNS = frozenset(
    {
        "vez", "vezes", "parcela", "parcelas", "serie", "ano", "opcao", "alternativa", "lugar",
        "colocada", "colocado", "pessoa", "via", "mao", "chance", "tentativa", "prestacao", "fase",
        "etapa", "temporada", "edicao", "geracao", "classe", "pagina", "linha", "questao",
        "parte", "rodada", "posicao", "conta", "filha", "dose", "aula", "semana", "prova",
    }
)  # fmt: skip
_PARTS: dict[str, int] = {
    "madrugada": 3, "cedo": 8, "manha": 9, "morning": 9, "tarde": 15, "afternoon": 15,
    "noite": 20, "evening": 20, "night": 20,
}  # fmt: skip
_AFTERNOON = frozenset({"tarde", "afternoon", "noite", "evening", "night"})
_RELATIVE_DAYS: dict[str, tuple[int, int | None]] = {
    "depois de amanha": (2, None), "day after tomorrow": (2, None),
    "the day after tomorrow": (2, None), "anteontem": (-2, None), "antes de ontem": (-2, None),
    "day before yesterday": (-2, None), "the day before yesterday": (-2, None),
    "amanha": (1, None), "tomorrow": (1, None), "hoje": (0, None), "today": (0, None),
    "ontem": (-1, None), "yesterday": (-1, None), "tonight": (0, 20), "esta noite": (0, 20),
    "nesta noite": (0, 20), "essa noite": (0, 20), "nessa noite": (0, 20),
    "esta manha": (0, 9), "nesta manha": (0, 9), "essa manha": (0, 9), "nessa manha": (0, 9),
    "esta tarde": (0, 15), "nesta tarde": (0, 15), "essa tarde": (0, 15), "nessa tarde": (0, 15),
    "this morning": (0, 9), "this afternoon": (0, 15), "this evening": (0, 20),
}  # fmt: skip
# Hours in PT words, after "às" ("às duas da tarde").
_HOUR_WORDS: dict[str, int] = {
    "uma": 1, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5, "seis": 6, "sete": 7, "oito": 8,
    "nove": 9, "dez": 10, "onze": 11, "doze": 12,
}  # fmt: skip
_COUNT_WORDS: dict[str, int] = {w: v for w, v in UNITS.items() if 1 <= v <= 60} | {
    "a": 1,
    "an": 1,
}
_TIME_UNITS: dict[str, str] = {
    "min": "minutes", "mins": "minutes", "minuto": "minutes", "minutos": "minutes",
    "minute": "minutes", "minutes": "minutes", "h": "hours", "hr": "hours", "hrs": "hours",
    "hora": "hours", "horas": "hours", "hour": "hours", "hours": "hours", "dia": "days",
    "dias": "days", "day": "days", "days": "days", "semana": "weeks", "semanas": "weeks",
    "week": "weeks", "weeks": "weeks", "mes": "months", "meses": "months", "month": "months",
    "months": "months", "ano": "years", "anos": "years", "year": "years", "years": "years",
}  # fmt: skip
_DIRECTIONS: dict[str, _Direction] = {
    "esta": "this", "este": "this", "essa": "this", "esse": "this", "nesta": "this",
    "neste": "this", "nessa": "this", "nesse": "this", "this": "this", "current": "this",
    "ultima": "last", "ultimo": "last", "last": "last", "previous": "last", "past": "last",
    "passada": "last", "passado": "last", "anterior": "last", "proxima": "next",
    "proximo": "next", "next": "next", "coming": "next", "que vem": "next", "seguinte": "next",
}  # fmt: skip


def _any(names: Iterable[str]) -> str:
    return "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))


_THIS = r"(?:n?esta|n?este|n?essa|n?esse|this|current)"
_LAST = r"(?:ultima|ultimo|last|previous|past)"
_NEXT = r"(?:proxima|proximo|next|coming)"
_COUNT = rf"(?:\d{{1,3}}|{_any(_COUNT_WORDS)})"

_RELATIVE_DAY = re.compile(rf"\b(?:{_any(_RELATIVE_DAYS)})\b")
_WEEKDAY = re.compile(
    rf"\b(?:(?P<pre>{_THIS}|{_LAST}|{_NEXT})\s+)?(?P<name>{_any(_WEEKDAYS)})(?P<feira>[- ]feira)?"
    r"(?:\s+(?P<post>que vem|passad[ao]))?\b"
)
_DAY_OF_MONTH = re.compile(
    r"\b(?:dia\s+(?P<d>\d{1,2})o?|(?:on\s+)?the\s+(?P<e>\d{1,2})(?:st|nd|rd|th))"
    r"(?![\d/:.,h]?\d)(?![a-z])"
)
_DAY_MONTH = re.compile(
    r"\b(?:(?:dia|day)\s+)?(?P<d>\d{1,2})(?:o|st|nd|rd|th)?\s+(?:(?P<de>de|of)\s+)?"
    rf"(?P<m>{_any(set(_MONTHS) | set(_EN_ABBREVIATIONS) | set(_PT_ABBREVIATIONS))})\b\.?"
    r"(?:,?\s+(?:de\s+)?(?P<y>\d{4})\b)?"
)
_MONTH_DAY = re.compile(
    rf"\b(?P<m>{_any(set(_EN_MONTHS) | set(_EN_ABBREVIATIONS))})\.?\s+(?P<d>\d{{1,2}})"
    r"(?:st|nd|rd|th)?(?![\d:/h])\b(?:,?\s+(?P<y>\d{4})\b)?"
)
_SLASHED = re.compile(
    r"(?<![\d/.,:$])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?(?![\d/]|[.,]\d)"
)
_DOTTED = re.compile(
    r"(?<![\d/.,:$-])(?P<a>\d{1,2})(?P<s>[.-])(?P<b>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})"
    r"(?!\d|[.,-]\d)"
)
_ISO = re.compile(r"(?<![\d/.-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)")
_MONTH_PERIOD = re.compile(
    r"\b(?:(?P<pre>no mes de|do mes de|mes de|em|de|do|in|of|during|for|since|desde|ate|until"
    rf"|{_THIS}|{_LAST}|{_NEXT})\s+)?(?P<m>{_any(_MONTHS)})\b"
    r"(?:\s+(?P<post>passado|que vem)\b|,?\s+(?:de\s+)?(?P<y>\d{4})\b)?"
)
_YEAR = re.compile(r"\b(?:em|in|no ano de|during)\s+(?P<y>(?:19|20)\d{2})\b(?![/.,:]\d)")
_RELATIVE_PERIOD = re.compile(
    rf"\b(?:(?P<dir>{_THIS}|{_LAST}|{_NEXT})\s+(?P<unit>semana|mes|ano|week|month|year)"
    r"|(?P<unit2>semana|mes|ano)\s+(?P<dir2>passad[ao]|anterior|que vem|seguinte))\b"
)
_WEEKEND = re.compile(
    rf"\b(?:(?P<dir>{_THIS}|{_LAST}|{_NEXT})\s+)?(?:fim de semana|final de semana|fds|weekend)"
    r"(?:\s+(?P<dir2>passado|que vem))?\b"
)
_LAST_DAYS = re.compile(
    rf"\b(?:(?:n?os|the)\s+)?(?:ultimos|last|past)\s+(?P<n>{_COUNT})\s+(?:dias|days)\b"
)
_AMOUNT = rf"(?P<n>{_COUNT}|meia|half an?)"
_UNIT = rf"(?P<unit>{_any(_TIME_UNITS)})"
_AHEAD = re.compile(rf"\b(?:em|daqui a|daqui|dentro de|in|within)\s+{_AMOUNT}\s*{_UNIT}\b")
_AGO = re.compile(rf"\b(?:ha|faz)\s+{_AMOUNT}\s*{_UNIT}(?:\s+atras)?\b")
_AGO_AFTER = re.compile(rf"\b{_AMOUNT}\s*{_UNIT}\s+(?:atras|ago)\b")
_PRE = r"(?:(?<!\w)(?P<pre>por volta das|ate as|as|a|at|@|pelas|das|by|around)\s*)?"
_PART_AFTER = (
    r"(?:\s+(?:da|de|in the|at)\s+(?P<part>manha|tarde|noite|madrugada|morning|afternoon"
    r"|evening|night)\b)?"
)
_AMPM = r"\s*(?P<ampm>a\.?m\.?|p\.?m\.?)(?![\w])"
_CLOCK = re.compile(
    rf"{_PRE}(?<![\d:/.,])(?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?!\d)(?:\s*(?:hs|hrs|h|horas)\b)?"
    rf"(?:{_AMPM})?{_PART_AFTER}"
)
_HOURS = re.compile(
    rf"{_PRE}(?<![\d:/.,])(?P<h>\d{{1,2}})(?P<u>\s?(?:hs|hrs|h)|\s+horas?)"
    r"(?:\s?(?P<m>\d{2})(?:\s?min)?)?(?![\w])(?:\s+e\s+(?P<half>meia))?"
    rf"{_PART_AFTER}"
)
_MERIDIEM = re.compile(
    rf"{_PRE}(?<![\d:/.,])(?P<h>\d{{1,2}})(?::(?P<m>\d{{2}}))?{_AMPM}{_PART_AFTER}"
)
_BARE_HOUR = re.compile(
    r"(?<!\w)(?P<pre>por volta das|ate as|as|at|@|pelas|das|around)\s+"
    rf"(?P<h>\d{{1,2}}|{_any(_HOUR_WORDS)})(?:\s+e\s+(?P<half>meia|quinze))?"
    r"(?:\s+(?:horas?|o'?clock))?(?![\w%])(?!\s*[/:.,h]?\d)"
    rf"{_PART_AFTER}"
)
_NOON = re.compile(
    r"(?:(?<!\w)(?:ao|a|at|as)\s+)?(?P<w>meio[- ]dia|noon|midday|meia[- ]noite|midnight)"
    r"(?:\s+e\s+(?P<half>meia))?\b"
)
_PART = re.compile(
    r"\b(?:de|pela|a|na|in the|during the|at)\s+(?P<part>manha|tarde|noite|madrugada|morning"
    r"|afternoon|evening|night)\b"
)
_BARE_PART = re.compile(rf"\b(?P<part>{_any(_PARTS)})\b")
# What may stand between a day and its time: "amanhã, às 15h", "15h de amanhã", "3pm on Friday".
_GAP = re.compile(r"[\s,]*(?:(?:de|do|da|on|no|na|-)\s+)?")
_PREPOSITION = re.compile(
    r"(?<!\w)(?:(?:no|na|nos|nas|em|para|pra|pro|ate|de|do|da|desde|on|in|at|for|by|until|since"
    r"|during)\s+(?:(?:o\s+)?dia\s+)?|(?:o\s+)?dia\s+)$"
)


# Tokens before they are joined into Whens.
_TokenKind = Literal["day", "period", "instant", "time", "part", "bare_part"]


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    kind: _TokenKind
    day: date | None = None
    until: date | None = None  # a period's exclusive last day
    moment: datetime | None = None
    hour: int | None = None  # a time's hour as written, a day's own hour ("tonight")
    minute: int = 0
    meridiem: Literal["am", "pm", "fixed"] | None = None
    bare: bool = False  # a bare number after "às"/"at"
    part: str | None = None


@dataclass(frozen=True, slots=True)
class _Context:
    text: str
    folded: str
    now: datetime
    zone: ZoneInfo
    prefer: Prefer
    day_first: bool

    @property
    def today(self) -> date:
        return self.now.date()

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone)


# Calendar arithmetic.


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _day_of_month(ctx: _Context, day: int) -> date | None:
    """The nearest date with this day of the month, today included, towards `prefer`."""
    step = 1 if ctx.prefer == "future" else -1
    first = _month_start(ctx.today.year, ctx.today.month)
    for offset in range(13):
        month = _add_months(first, offset * step)
        if day <= calendar.monthrange(month.year, month.month)[1]:
            found = month.replace(day=day)
            if (found >= ctx.today) if step == 1 else (found <= ctx.today):
                return found
    return None


def _month_day(ctx: _Context, month: int, day: int, year: int | None) -> date | None:
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    if year is not None:
        year = year + 2000 if year < 100 else year
        try:
            return date(year, month, day)
        except ValueError:
            return None
    step = 1 if ctx.prefer == "future" else -1
    for offset in range(9):
        try:
            found = date(ctx.today.year + offset * step, month, day)
        except ValueError:
            continue
        if (found >= ctx.today) if step == 1 else (found <= ctx.today):
            return found
    return None


def _weekday(ctx: _Context, weekday: int, direction: _Direction | None) -> date:
    today = ctx.today
    if direction == "this":
        return _week_start(today) + timedelta(days=weekday)
    if direction == "next" or (direction is None and ctx.prefer == "future"):
        return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return today - timedelta(days=(today.weekday() - weekday) % 7 or 7)


def _month_year(ctx: _Context, month: int, direction: _Direction | None) -> int:
    year, current = ctx.today.year, ctx.today.month
    if direction == "this":
        return year
    if direction == "last":
        return year if month < current else year - 1
    if direction == "next":
        return year if month > current else year + 1
    if ctx.prefer == "past":
        return year if month <= current else year - 1
    return year if month >= current else year + 1


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _COUNT_WORDS[word]


# Readers: one per pattern, each turning a match into a token (or nothing).

_Reader = Callable[[_Context, re.Match[str]], _Token | None]


def _day_token(match: re.Match[str], day: date | None, hour: int | None = None) -> _Token | None:
    if day is None:
        return None
    return _Token(match.start(), match.end(), "day", day=day, hour=hour)


def _period_token(match: re.Match[str], first: date, until: date) -> _Token:
    return _Token(match.start(), match.end(), "period", day=first, until=until)


def _read_relative_day(ctx: _Context, match: re.Match[str]) -> _Token | None:
    offset, hour = _RELATIVE_DAYS[match.group()]
    return _day_token(match, ctx.today + timedelta(days=offset), hour)


def _read_weekday(ctx: _Context, match: re.Match[str]) -> _Token | None:
    name, pre, post = match.group("name", "pre", "post")
    if (
        name in _PT_ORDINALS
        and not (match.group("feira") or pre or post)
        and next_word(ctx.folded, match.end()) in _ORDINAL_NOUNS
    ):
        return None
    word = post or pre
    direction = _DIRECTIONS[word] if word else None
    return _day_token(match, _weekday(ctx, _WEEKDAYS[name], direction))


def _read_day_of_month(ctx: _Context, match: re.Match[str]) -> _Token | None:
    day = int(match.group("d") or match.group("e"))
    return _day_token(match, _day_of_month(ctx, day) if 1 <= day <= 31 else None)


def _month_number(name: str, after_de: bool) -> int | None:
    if name in _MONTHS:
        return _MONTHS[name]
    if name in _EN_ABBREVIATIONS:
        return _EN_ABBREVIATIONS[name]
    return _PT_ABBREVIATIONS[name] if after_de else None


def _read_day_month(ctx: _Context, match: re.Match[str]) -> _Token | None:
    month = _month_number(match.group("m"), after_de=match.group("de") == "de")
    if month is None:
        return None
    year = int(match.group("y")) if match.group("y") else None
    return _day_token(match, _month_day(ctx, month, int(match.group("d")), year))


def _read_month_day(ctx: _Context, match: re.Match[str]) -> _Token | None:
    month = _month_number(match.group("m"), after_de=False)
    if month is None:
        return None
    year = int(match.group("y")) if match.group("y") else None
    return _day_token(match, _month_day(ctx, month, int(match.group("d")), year))


def _read_numeric(ctx: _Context, match: re.Match[str]) -> _Token | None:
    first, second = int(match.group("a")), int(match.group("b"))
    day_first = ctx.day_first
    if first > 12:
        day_first = True
    elif second > 12:
        day_first = False
    day, month = (first, second) if day_first else (second, first)
    year = int(match.group("y")) if match.group("y") else None
    return _day_token(match, _month_day(ctx, month, day, year))


def _read_iso(ctx: _Context, match: re.Match[str]) -> _Token | None:
    year, month, day = (int(match.group(g)) for g in ("y", "m", "d"))
    return _day_token(match, _month_day(ctx, month, day, year))


def _read_month(ctx: _Context, match: re.Match[str]) -> _Token | None:
    pre, name, post, year = match.group("pre", "m", "post", "y")
    if not (pre or post or year):
        return None
    written = ctx.text[match.start("m") : match.end("m")]
    if name == "marco" and written[0].isupper() and "ç" not in written.lower():
        return None  # Marco, the name
    month = _MONTHS[name]
    word = post or pre
    direction = _DIRECTIONS.get(word) if word else None
    start_year = int(year) if year else _month_year(ctx, month, direction)
    first = _month_start(start_year, month)
    return _period_token(match, first, _add_months(first, 1))


def _read_year(ctx: _Context, match: re.Match[str]) -> _Token | None:
    year = int(match.group("y"))
    return _period_token(match, date(year, 1, 1), date(year + 1, 1, 1))


def _read_relative_period(ctx: _Context, match: re.Match[str]) -> _Token | None:
    unit = match.group("unit") or match.group("unit2")
    direction = _DIRECTIONS[match.group("dir") or match.group("dir2")]
    shift = {"this": 0, "last": -1, "next": 1}[direction]
    today = ctx.today
    if unit in ("semana", "week"):
        first = _week_start(today) + timedelta(weeks=shift)
        return _period_token(match, first, first + timedelta(weeks=1))
    if unit in ("mes", "month"):
        first = _add_months(_month_start(today.year, today.month), shift)
        return _period_token(match, first, _add_months(first, 1))
    first = date(today.year + shift, 1, 1)
    return _period_token(match, first, date(first.year + 1, 1, 1))


def _read_weekend(ctx: _Context, match: re.Match[str]) -> _Token | None:
    word = match.group("dir") or match.group("dir2")
    direction = _DIRECTIONS[word] if word else None
    saturday = _week_start(ctx.today) + timedelta(days=5)
    in_weekend = ctx.today >= saturday
    if direction == "last" or (direction is None and ctx.prefer == "past" and not in_weekend):
        saturday -= timedelta(weeks=1)
    elif direction == "next" and in_weekend:
        saturday += timedelta(weeks=1)
    return _period_token(match, saturday, saturday + timedelta(days=2))


def _read_last_days(ctx: _Context, match: re.Match[str]) -> _Token | None:
    days = _count(match.group("n"))
    if days < 1:
        return None
    until = ctx.today + timedelta(days=1)
    return _period_token(match, until - timedelta(days=days), until)


def _read_duration(ctx: _Context, match: re.Match[str], sign: int) -> _Token | None:
    amount, unit = match.group("n"), _TIME_UNITS[match.group("unit")]
    if amount == "meia" or amount.startswith("half"):
        if unit != "hours":
            return None
        unit, count = "minutes", 30
    else:
        count = _count(amount)
    if unit in ("minutes", "hours"):
        delta = timedelta(**{unit: count * sign})
        moment = (ctx.now.astimezone(ZoneInfo("UTC")) + delta).astimezone(ctx.zone)
        return _Token(match.start(), match.end(), "instant", moment=moment)
    if unit in ("days", "weeks"):
        day = ctx.today + timedelta(**{unit: count * sign})
    else:
        day = _add_months(ctx.today, count * sign * (12 if unit == "years" else 1))
    return _day_token(match, day)


def _time_token(
    match: re.Match[str],
    hour: int,
    minute: int,
    *,
    meridiem: Literal["am", "pm", "fixed"] | None = None,
    bare: bool = False,
) -> _Token | None:
    if minute > 59 or hour > 23:
        return None
    part = match.groupdict().get("part")
    return _Token(
        match.start(), match.end(), "time", hour=hour, minute=minute, meridiem=meridiem,
        bare=bare, part=part,
    )  # fmt: skip


def _half(match: re.Match[str]) -> int:
    return {"meia": 30, "quinze": 15}.get(match.groupdict().get("half") or "", 0)


def _read_clock(ctx: _Context, match: re.Match[str]) -> _Token | None:
    ampm = match.group("ampm")
    meridiem: Literal["am", "pm"] | None = None
    if ampm:
        meridiem = "pm" if ampm.startswith("p") else "am"
    return _time_token(match, int(match.group("h")), int(match.group("m")), meridiem=meridiem)


def _read_hours(ctx: _Context, match: re.Match[str]) -> _Token | None:
    spelled = match.group("u").strip().startswith("hora")
    if spelled and not (match.group("pre") or match.group("part")):
        return None  # "2 horas de reunião" is a duration
    minute = int(match.group("m")) if match.group("m") else _half(match)
    return _time_token(match, int(match.group("h")), minute)


def _read_meridiem(ctx: _Context, match: re.Match[str]) -> _Token | None:
    meridiem: Literal["am", "pm"] = "pm" if match.group("ampm").startswith("p") else "am"
    minute = int(match.group("m")) if match.group("m") else 0
    return _time_token(match, int(match.group("h")), minute, meridiem=meridiem)


def _read_bare_hour(ctx: _Context, match: re.Match[str]) -> _Token | None:
    written = match.group("h")
    follower = next_word(ctx.folded, match.end())
    if follower and len(follower) > 3 and follower.endswith("s") and follower != "horas":
        return None  # "as 3 pizzas": the article, not the hour
    hour = int(written) if written.isdigit() else _HOUR_WORDS[written]
    return _time_token(match, hour, _half(match), bare=True)


def _read_noon(ctx: _Context, match: re.Match[str]) -> _Token | None:
    word = match.group("w")
    hour = 12 if word.startswith(("meio", "noon", "midday")) else 0
    return _time_token(match, hour, _half(match), meridiem="fixed")


def _read_part(ctx: _Context, match: re.Match[str]) -> _Token | None:
    return _Token(match.start(), match.end(), "part", part=match.group("part"))


def _read_bare_part(ctx: _Context, match: re.Match[str]) -> _Token | None:
    return _Token(match.start(), match.end(), "bare_part", part=match.group("part"))


_READERS: tuple[tuple[re.Pattern[str], _Reader], ...] = (
    (_RELATIVE_DAY, _read_relative_day),
    (_WEEKDAY, _read_weekday),
    (_DAY_OF_MONTH, _read_day_of_month),
    (_DAY_MONTH, _read_day_month),
    (_MONTH_DAY, _read_month_day),
    (_SLASHED, _read_numeric),
    (_DOTTED, _read_numeric),
    (_ISO, _read_iso),
    (_MONTH_PERIOD, _read_month),
    (_YEAR, _read_year),
    (_RELATIVE_PERIOD, _read_relative_period),
    (_WEEKEND, _read_weekend),
    (_LAST_DAYS, _read_last_days),
    (_AHEAD, lambda ctx, m: _read_duration(ctx, m, 1)),
    (_AGO, lambda ctx, m: _read_duration(ctx, m, -1)),
    (_AGO_AFTER, lambda ctx, m: _read_duration(ctx, m, -1)),
    (_CLOCK, _read_clock),
    (_HOURS, _read_hours),
    (_MERIDIEM, _read_meridiem),
    (_BARE_HOUR, _read_bare_hour),
    (_NOON, _read_noon),
    (_PART, _read_part),
    (_BARE_PART, _read_bare_part),
)


def _tokens(ctx: _Context) -> list[_Token]:
    """Every reading, the longest winning where two overlap, left to right."""
    found = [
        token
        for pattern, read in _READERS
        for match in pattern.finditer(ctx.folded)
        if (token := read(ctx, match)) is not None
    ]
    found.sort(key=lambda t: (t.start - t.end, t.start))
    chosen: list[_Token] = []
    for token in found:
        if all(token.end <= c.start or token.start >= c.end for c in chosen):
            chosen.append(token)
    return sorted(chosen, key=lambda t: t.start)


_CLOCKED = ("day", "time", "part", "bare_part")


def _joins(ctx: _Context, group: list[_Token], token: _Token) -> bool:
    if token.kind not in _CLOCKED or any(t.kind not in _CLOCKED for t in group):
        return False
    gap = ctx.folded[group[-1].end : token.start]
    has_part = any(t.kind in ("part", "bare_part") for t in group)
    if token.kind == "bare_part":
        return group[-1].kind == "day" and gap.strip() == "" and not has_part
    if _GAP.fullmatch(gap) is None:
        return False
    if token.kind == "part":
        return not has_part
    return all(t.kind != token.kind for t in group)


def _clock(token: _Token | None, part: str | None) -> tuple[int, int] | None:
    """The hour and minute a time token (with the part of the day around it) stands for."""
    if token is None or token.hour is None:
        return (_PARTS[part], 0) if part else None
    hour, part = token.hour, token.part or part
    if token.meridiem in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if token.meridiem == "pm" else 0)
    elif token.meridiem is None:
        afternoon = part in _AFTERNOON and hour < 12
        if afternoon or (part is None and token.bare and 1 <= hour <= 6):
            hour += 12
    return hour, token.minute


def _when(ctx: _Context, group: list[_Token]) -> When | None:
    span = (group[0].start, group[-1].end)
    first = group[0]
    if first.kind == "period":
        assert first.day is not None
        assert first.until is not None
        return When(ctx.midnight(first.day), ctx.midnight(first.until), "period", False, span)
    if first.kind == "instant":
        assert first.moment is not None
        return When(first.moment, None, "instant", True, span)
    day = next((t for t in group if t.kind == "day"), None)
    time_token = next((t for t in group if t.kind == "time"), None)
    part = next((t.part for t in group if t.kind in ("part", "bare_part")), None)
    clock = _clock(time_token, part)
    if day is None:
        if clock is None or all(t.kind == "bare_part" for t in group):
            return None
        return When(_time_alone(ctx, *clock), None, "instant", True, span)
    assert day.day is not None
    if clock is None and day.hour is not None:
        clock = (day.hour, 0)
    if clock is None:
        if time_token is not None:
            return None  # "amanhã às 25h": not a time
        start = ctx.midnight(day.day)
        return When(start, ctx.midnight(day.day + timedelta(days=1)), "day", False, span)
    moment = datetime.combine(day.day, time(*clock), tzinfo=ctx.zone)
    return When(moment, None, "instant", True, span)


def _time_alone(ctx: _Context, hour: int, minute: int) -> datetime:
    """A time without a day: today, or the next or previous day when `prefer` says so."""
    moment = datetime.combine(ctx.today, time(hour, minute), tzinfo=ctx.zone)
    if ctx.prefer == "future" and moment < ctx.now:
        moment = datetime.combine(ctx.today + timedelta(days=1), time(hour, minute), ctx.zone)
    elif ctx.prefer == "past" and moment > ctx.now:
        moment = datetime.combine(ctx.today - timedelta(days=1), time(hour, minute), ctx.zone)
    return moment


def _with_preposition(ctx: _Context, when: When, floor: int) -> When:
    """The span widened over a preposition just before it ("na sexta", "em outubro")."""
    match = _PREPOSITION.search(ctx.folded, floor, when.span[0])
    if match is None:
        return when
    return replace(when, span=(match.start(), when.span[1]))


def find_when(
    text: str,
    *,
    now: datetime,
    tz: str,
    prefer: Prefer = "future",
    day_first: bool = True,
) -> list[When]:
    """The moments, days and periods in the text, left to right (see the module docstring).

    `now` should be aware; a naive `now` is taken as wall-clock time in `tz`.
    """
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone) if now.tzinfo is not None else now.replace(tzinfo=zone)
    ctx = _Context(text, fold(text), local_now, zone, prefer, day_first)
    groups: list[list[_Token]] = []
    for token in _tokens(ctx):
        if groups and _joins(ctx, groups[-1], token):
            groups[-1].append(token)
        else:
            groups.append([token])
    found: list[When] = []
    for group in groups:
        when = _when(ctx, group)
        if when is not None:
            found.append(_with_preposition(ctx, when, found[-1].span[1] if found else 0))
    return found
