"""Single days: "hoje", "amanhã", weekdays ("sexta que vem"), "dia 5" and written dates
("5 de outubro", "October 5th", "05/10/2026", "2026-10-05")."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from whatsapp_ai.ai.extract._text import next_word
from whatsapp_ai.ai.extract.dates._shared import (
    DIRECTIONS,
    LAST,
    MONTHS,
    NEXT,
    THIS,
    Context,
    Direction,
    Reader,
    Token,
    add_months,
    any_of,
    day_token,
    month_start,
    week_start,
)

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
# Weekdays as people abbreviate them ("qui as 14h", "seg 10h", "fri at 9"): read only right
# before a time, since most are words of their own too ("ter", "sex", "sun", "dom").
_TYPED_WEEKDAYS: dict[str, int] = {
    "seg": 0, "ter": 1, "qua": 2, "qui": 3, "sex": 4, "sab": 5, "dom": 6, "mon": 0, "tue": 1,
    "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5, "sun": 6,
}  # fmt: skip
_BEFORE_A_TIME = (
    r"\.?(?=,?\s+(?:(?:as|a|at|@)\s*\d{1,2}(?:[:h]\d{2})?|\d{1,2}(?:[:h]\d{2}|hs?|am|pm)\b))"
)
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
    "last night": (-1, 20), "yesterday evening": (-1, 20), "yesterday morning": (-1, 9),
    "yesterday afternoon": (-1, 15), "tomorrow morning": (1, 9), "tomorrow evening": (1, 20),
    "tomorrow night": (1, 20), "tomorrow afternoon": (1, 15),
}  # fmt: skip
# The same days as people type them on a phone: abbreviations, typos, numbers for words.
_TYPED_DAYS: dict[str, tuple[int, int | None]] = {
    "hj": (0, None), "hje": (0, None), "hoj": (0, None), "oje": (0, None), "2day": (0, None),
    "tday": (0, None), "tdy": (0, None), "todai": (0, None),
    "amnh": (1, None), "amn": (1, None), "amanh": (1, None), "amnha": (1, None),
    "amanhan": (1, None), "tmrw": (1, None), "tmr": (1, None),
    "tmw": (1, None), "tmro": (1, None), "tomorow": (1, None), "tommorow": (1, None),
    "tommorrow": (1, None), "tomorrw": (1, None), "2moro": (1, None), "2morrow": (1, None),
    "2morow": (1, None), "2mrw": (1, None),
    "yday": (-1, None), "yest": (-1, None), "yesterdy": (-1, None),
    "yestarday": (-1, None), "onti": (-1, None), "ontim": (-1, None),
    "antiontem": (-2, None), "anteonti": (-2, None), "antes d ontem": (-2, None),
    "tonite": (0, 20), "2nite": (0, 20), "2night": (0, 20),
}  # fmt: skip
_DAY_AFTER = ("depois de", "depois d", "dps de", "dps d", "dpois de", "dpois d", "dp de")
_TOMORROW = ("amanha", "amnh", "amn", "amanh", "amnha")
for _after in _DAY_AFTER:
    for _tomorrow in _TOMORROW:
        _TYPED_DAYS[f"{_after} {_tomorrow}"] = (2, None)
_RELATIVE_DAYS |= _TYPED_DAYS


_RELATIVE_DAY = re.compile(rf"\b(?:{any_of(_RELATIVE_DAYS)})\b")
_WEEKDAY = re.compile(
    rf"\b(?:(?P<pre>{THIS}|{LAST}|{NEXT})\s+)?(?P<name>{any_of(_WEEKDAYS)}"
    rf"|(?:{any_of(_TYPED_WEEKDAYS)}){_BEFORE_A_TIME})(?P<feira>[- ]feira)?"
    r"(?:\s+(?P<post>q(?:ue)? vem|passad[ao]))?\b"
)
# A week named by its direction: "semana que vem", "próxima semana", "last week".
_WEEK = (
    rf"(?:{THIS}|{LAST}|{NEXT})\s+(?:semana|week)"
    r"|semana\s+(?:q(?:ue)? vem|passada|seguinte|anterior)"
)
_WEEKDAY_OF_WEEK = re.compile(
    rf"\b(?:(?:n?a|n?o|on)\s+)?(?P<name>{any_of(_WEEKDAYS)})(?:[- ]feira)?\s+"
    rf"(?:(?:da|de|of|na)\s+)?(?:(?:the|a)\s+)?(?P<week>{_WEEK})\b"
    rf"|\b(?P<dir>{_WEEK})(?:'?s)?,?\s+(?:(?:n?a|n?o|on)\s+)?"
    rf"(?P<name2>{any_of(_WEEKDAYS)})(?:[- ]feira)?\b"
)
_DAY_OF_MONTH = re.compile(
    r"\b(?:dia\s+(?P<d>\d{1,2})o?|(?:on\s+)?the\s+(?P<e>\d{1,2})(?:st|nd|rd|th))"
    r"(?![\d/:.,h]?\d)(?![a-z])"
)
_DAY_MONTH = re.compile(
    r"\b(?:(?:dia|day)\s+)?(?P<d>\d{1,2})(?:o|st|nd|rd|th)?\s+(?:(?P<de>de|of)\s+)?"
    rf"(?P<m>{any_of(set(MONTHS) | set(_EN_ABBREVIATIONS) | set(_PT_ABBREVIATIONS))})\b\.?"
    r"(?:,?\s+(?:de\s+)?(?P<y>\d{4})\b)?"
)
_MONTH_DAY = re.compile(
    rf"\b(?P<m>{any_of(set(_EN_MONTHS) | set(_EN_ABBREVIATIONS))})\.?\s+(?P<d>\d{{1,2}})"
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
# "no último dia do mês", "on the last day of the month", "fim do mês"
_MONTH_END = re.compile(
    r"\b(?:(?:no |o )?ultimo dia (?:do|desse|deste) mes|(?:no )?fim do mes|(?:no )?final do mes"
    r"|(?:on )?the last day of (?:the|this) month|(?:at )?the end of (?:the|this) month)\b"
)


def _day_of_month(ctx: Context, day: int) -> date | None:
    """The nearest date with this day of the month, today included, towards `prefer`."""
    step = 1 if ctx.prefer == "future" else -1
    first = month_start(ctx.today.year, ctx.today.month)
    for offset in range(13):
        month = add_months(first, offset * step)
        if day <= calendar.monthrange(month.year, month.month)[1]:
            found = month.replace(day=day)
            if (found >= ctx.today) if step == 1 else (found <= ctx.today):
                return found
    return None


def _month_day(ctx: Context, month: int, day: int, year: int | None) -> date | None:
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


def _weekday(ctx: Context, weekday: int, direction: Direction | None) -> date:
    today = ctx.today
    if direction == "this":
        return week_start(today) + timedelta(days=weekday)
    if direction == "next" or (direction is None and ctx.prefer == "future"):
        return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return today - timedelta(days=(today.weekday() - weekday) % 7 or 7)


def _read_relative_day(ctx: Context, match: re.Match[str]) -> Token | None:
    offset, hour = _RELATIVE_DAYS[match.group()]
    return day_token(match, ctx.today + timedelta(days=offset), hour)


def _read_weekday(ctx: Context, match: re.Match[str]) -> Token | None:
    name, pre, post = match.group("name", "pre", "post")
    if (
        name in _PT_ORDINALS
        and not (match.group("feira") or pre or post)
        and next_word(ctx.folded, match.end()) in _ORDINAL_NOUNS
    ):
        return None
    word = post or pre
    direction = DIRECTIONS[word] if word else None
    number = _WEEKDAYS.get(name, _TYPED_WEEKDAYS.get(name.rstrip(".")))
    if number is None:
        return None
    return day_token(match, _weekday(ctx, number, direction))


def _read_weekday_of_week(ctx: Context, match: re.Match[str]) -> Token | None:
    name = match.group("name") or match.group("name2")
    written = match.group("week") or match.group("dir")
    direction = DIRECTIONS[re.sub(r"\b(?:semana|week)\b", "", written).strip()]
    shift = {"this": 0, "last": -1, "next": 1}[direction]
    day = week_start(ctx.today) + timedelta(weeks=shift, days=_WEEKDAYS[name])
    return day_token(match, day)


def _read_day_of_month(ctx: Context, match: re.Match[str]) -> Token | None:
    day = int(match.group("d") or match.group("e"))
    return day_token(match, _day_of_month(ctx, day) if 1 <= day <= 31 else None)


def _month_number(name: str, after_de: bool) -> int | None:
    if name in MONTHS:
        return MONTHS[name]
    if name in _EN_ABBREVIATIONS:
        return _EN_ABBREVIATIONS[name]
    return _PT_ABBREVIATIONS[name] if after_de else None


def _read_day_month(ctx: Context, match: re.Match[str]) -> Token | None:
    month = _month_number(match.group("m"), after_de=match.group("de") == "de")
    if month is None:
        return None
    year = int(match.group("y")) if match.group("y") else None
    return day_token(match, _month_day(ctx, month, int(match.group("d")), year))


def _read_month_day(ctx: Context, match: re.Match[str]) -> Token | None:
    month = _month_number(match.group("m"), after_de=False)
    if month is None:
        return None
    year = int(match.group("y")) if match.group("y") else None
    return day_token(match, _month_day(ctx, month, int(match.group("d")), year))


def _read_numeric(ctx: Context, match: re.Match[str]) -> Token | None:
    first, second = int(match.group("a")), int(match.group("b"))
    day_first = ctx.day_first
    if first > 12:
        day_first = True
    elif second > 12:
        day_first = False
    day, month = (first, second) if day_first else (second, first)
    year = int(match.group("y")) if match.group("y") else None
    return day_token(match, _month_day(ctx, month, day, year))


def _read_month_end(ctx: Context, match: re.Match[str]) -> Token | None:
    last = calendar.monthrange(ctx.today.year, ctx.today.month)[1]
    day = ctx.today.replace(day=last)
    if ctx.prefer == "future" and day < ctx.today:
        day = add_months(day.replace(day=1), 1)
    return day_token(match, day)


def _read_iso(ctx: Context, match: re.Match[str]) -> Token | None:
    year, month, day = (int(match.group(g)) for g in ("y", "m", "d"))
    return day_token(match, _month_day(ctx, month, day, year))


# The day readers, in the order they are tried.
READERS: tuple[tuple[re.Pattern[str], Reader], ...] = (
    (_MONTH_END, _read_month_end),
    (_RELATIVE_DAY, _read_relative_day),
    (_WEEKDAY_OF_WEEK, _read_weekday_of_week),
    (_WEEKDAY, _read_weekday),
    (_DAY_OF_MONTH, _read_day_of_month),
    (_DAY_MONTH, _read_day_month),
    (_MONTH_DAY, _read_month_day),
    (_SLASHED, _read_numeric),
    (_DOTTED, _read_numeric),
    (_ISO, _read_iso),
)
