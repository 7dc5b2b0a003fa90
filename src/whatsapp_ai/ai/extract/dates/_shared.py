"""What the date readers share: the result, the tokens, the reading context, calendar
arithmetic and the words for "this", "last" and "next"."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from whatsapp_ai.ai.extract._numbers import UNITS

Kind = Literal["instant", "day", "period"]
Prefer = Literal["past", "future"]
Direction = Literal["this", "last", "next"]


@dataclass(frozen=True, slots=True)
class When:
    """A moment, day or period the text mentions, in the user's time zone, with its span."""

    start: datetime
    end: datetime | None
    kind: Kind
    has_time: bool
    span: tuple[int, int]


# Tokens before they are joined into Whens.
TokenKind = Literal["day", "period", "instant", "time", "part", "bare_part"]


@dataclass(frozen=True, slots=True)
class Token:
    """One reading of a pattern: a day, a period, an instant, a time or a part of the day."""

    start: int
    end: int
    kind: TokenKind
    day: date | None = None
    until: date | None = None  # a period's exclusive last day
    moment: datetime | None = None
    hour: int | None = None  # a time's hour as written, a day's own hour ("tonight")
    minute: int = 0
    meridiem: Literal["am", "pm", "fixed"] | None = None
    bare: bool = False  # a bare number after "às"/"at"
    part: str | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """The text being read (and its folded copy) and the user's clock."""

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


# A reader turns a match of its pattern into a token (or nothing).
Reader = Callable[[Context, re.Match[str]], Token | None]


# Vocabulary, folded.
MONTHS: dict[str, int] = {
    "janeiro": 1, "fevereiro": 2, "marco": 3, "abril": 4, "maio": 5, "junho": 6, "julho": 7,
    "agosto": 8, "setembro": 9, "outubro": 10, "novembro": 11, "dezembro": 12, "january": 1,
    "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
DIRECTIONS: dict[str, Direction] = {
    "esta": "this", "este": "this", "essa": "this", "esse": "this", "nesta": "this",
    "neste": "this", "nessa": "this", "nesse": "this", "this": "this", "current": "this",
    "desta": "this", "deste": "this", "dessa": "this", "desse": "this",
    "ultima": "last", "ultimo": "last", "last": "last", "previous": "last", "past": "last",
    "passada": "last", "passado": "last", "anterior": "last", "proxima": "next",
    "proximo": "next", "next": "next", "coming": "next", "que vem": "next", "seguinte": "next",
    "q vem": "next", "prox": "next", "nxt": "next",
}  # fmt: skip
COUNT_WORDS: dict[str, int] = {w: v for w, v in UNITS.items() if 1 <= v <= 60} | {
    "a": 1,
    "an": 1,
}


def any_of(names: Iterable[str]) -> str:
    """A regex alternation of ``names``, the longest first."""
    return "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))


THIS = r"(?:[nd]?esta|[nd]?este|[nd]?essa|[nd]?esse|this|current)"
LAST = r"(?:ultima|ultimo|last|previous|past)"
NEXT = r"(?:proxima|proximo|prox|next|nxt|coming)"
COUNT = rf"(?:\d{{1,3}}|{any_of(COUNT_WORDS)})"


# Calendar arithmetic.
def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_start(year: int, month: int) -> date:
    """The first day of the month."""
    return date(year, month, 1)


def week_start(day: date) -> date:
    """The Monday of the week of ``day``."""
    return day - timedelta(days=day.weekday())


def count_of(word: str) -> int:
    """A count written in digits or words ("3", "três", "a")."""
    return int(word) if word.isdigit() else COUNT_WORDS[word]


def day_token(match: re.Match[str], day: date | None, hour: int | None = None) -> Token | None:
    """A day token over the match, or None when there is no such day."""
    if day is None:
        return None
    return Token(match.start(), match.end(), "day", day=day, hour=hour)


def period_token(match: re.Match[str], first: date, until: date) -> Token:
    """A period token over the match, from ``first`` to ``until`` (exclusive)."""
    return Token(match.start(), match.end(), "period", day=first, until=until)
