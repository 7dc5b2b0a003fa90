"""Periods and shifts: months ("em outubro"), years, "semana passada", "fim de semana",
"últimos 7 dias", and durations from now ("em 2 horas", "há 3 dias")."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from whatsapp_ai.ai.extract.dates._shared import (
    COUNT,
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
    count_of,
    day_token,
    month_start,
    period_token,
    week_start,
)

_TIME_UNITS: dict[str, str] = {
    "min": "minutes", "mins": "minutes", "minuto": "minutes", "minutos": "minutes",
    "minute": "minutes", "minutes": "minutes", "h": "hours", "hr": "hours", "hrs": "hours",
    "hora": "hours", "horas": "hours", "hour": "hours", "hours": "hours", "dia": "days",
    "dias": "days", "day": "days", "days": "days", "semana": "weeks", "semanas": "weeks",
    "week": "weeks", "weeks": "weeks", "mes": "months", "meses": "months", "month": "months",
    "months": "months", "ano": "years", "anos": "years", "year": "years", "years": "years",
}  # fmt: skip


_MONTH_PERIOD = re.compile(
    r"\b(?:(?P<pre>no mes de|do mes de|mes de|em|de|do|in|of|during|for|since|desde|ate|until"
    rf"|{THIS}|{LAST}|{NEXT})\s+)?(?P<m>{any_of(MONTHS)})\b"
    r"(?:\s+(?P<post>passado|q(?:ue)? vem)\b|,?\s+(?:de\s+)?(?P<y>\d{4})\b)?"
)
# "e fevereiro?", "and february?": a month said alone, as a follow-up says it.
_MONTH_ALONE = re.compile(
    rf"(?:(?:e|and|what about|how about|e o mes de|e no mes de)\s+)?(?:{any_of(MONTHS)})"
)
_YEAR = re.compile(r"\b(?:em|in|no ano de|during)\s+(?P<y>(?:19|20)\d{2})\b(?![/.,:]\d)")
_RELATIVE_PERIOD = re.compile(
    rf"\b(?:(?P<dir>{THIS}|{LAST}|{NEXT})\s+(?P<unit>semana|mes|ano|week|month|year)"
    r"|(?P<unit2>semana|mes|ano)\s+(?P<dir2>passad[ao]|anterior|q(?:ue)? vem|seguinte))\b"
)
_WEEKEND = re.compile(
    rf"\b(?:(?P<dir>{THIS}|{LAST}|{NEXT})\s+)?(?:fim de semana|final de semana|fds|weekend)"
    r"(?:\s+(?P<dir2>passado|q(?:ue)? vem))?\b"
)
_LAST_DAYS = re.compile(
    rf"\b(?:(?:n?os|the)\s+)?(?:ultimos|last|past)\s+(?P<n>{COUNT})\s+(?:dias|days)\b"
)
_AMOUNT = rf"(?P<n>{COUNT}|meia|half an?)"
_UNIT = rf"(?P<unit>{any_of(_TIME_UNITS)})"
_AHEAD = re.compile(rf"\b(?:em|daqui a|daqui|dentro de|in|within)\s+{_AMOUNT}\s*{_UNIT}\b")
_AGO = re.compile(rf"\b(?:ha|faz)\s+{_AMOUNT}\s*{_UNIT}(?:\s+atras)?\b")
_AGO_AFTER = re.compile(rf"\b{_AMOUNT}\s*{_UNIT}\s+(?:atras|ago)\b")


def _month_year(ctx: Context, month: int, direction: Direction | None) -> int:
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


def _read_month(ctx: Context, match: re.Match[str]) -> Token | None:
    pre, name, post, year = match.group("pre", "m", "post", "y")
    if not (pre or post or year) and not _MONTH_ALONE.fullmatch(ctx.folded.strip(" ?!.")):
        return None
    written = ctx.text[match.start("m") : match.end("m")]
    if name == "marco" and written[0].isupper() and "ç" not in written.lower():
        return None  # Marco, the name
    month = MONTHS[name]
    word = post or pre
    direction = DIRECTIONS.get(word) if word else None
    start_year = int(year) if year else _month_year(ctx, month, direction)
    first = month_start(start_year, month)
    return period_token(match, first, add_months(first, 1))


def _read_year(ctx: Context, match: re.Match[str]) -> Token | None:
    year = int(match.group("y"))
    return period_token(match, date(year, 1, 1), date(year + 1, 1, 1))


def _read_relative_period(ctx: Context, match: re.Match[str]) -> Token | None:
    unit = match.group("unit") or match.group("unit2")
    direction = DIRECTIONS[match.group("dir") or match.group("dir2")]
    shift = {"this": 0, "last": -1, "next": 1}[direction]
    today = ctx.today
    if unit in ("semana", "week"):
        first = week_start(today) + timedelta(weeks=shift)
        return period_token(match, first, first + timedelta(weeks=1))
    if unit in ("mes", "month"):
        first = add_months(month_start(today.year, today.month), shift)
        return period_token(match, first, add_months(first, 1))
    first = date(today.year + shift, 1, 1)
    return period_token(match, first, date(first.year + 1, 1, 1))


def _read_weekend(ctx: Context, match: re.Match[str]) -> Token | None:
    word = match.group("dir") or match.group("dir2")
    direction = DIRECTIONS[word] if word else None
    saturday = week_start(ctx.today) + timedelta(days=5)
    in_weekend = ctx.today >= saturday
    if direction == "last" or (direction is None and ctx.prefer == "past" and not in_weekend):
        saturday -= timedelta(weeks=1)
    elif direction == "next" and in_weekend:
        saturday += timedelta(weeks=1)
    return period_token(match, saturday, saturday + timedelta(days=2))


def _read_last_days(ctx: Context, match: re.Match[str]) -> Token | None:
    days = count_of(match.group("n"))
    if days < 1:
        return None
    until = ctx.today + timedelta(days=1)
    return period_token(match, until - timedelta(days=days), until)


def _read_duration(ctx: Context, match: re.Match[str], sign: int) -> Token | None:
    amount, unit = match.group("n"), _TIME_UNITS[match.group("unit")]
    if amount == "meia" or amount.startswith("half"):
        if unit != "hours":
            return None
        unit, count = "minutes", 30
    else:
        count = count_of(amount)
    if unit in ("minutes", "hours"):
        delta = timedelta(**{unit: count * sign})
        moment = (ctx.now.astimezone(ZoneInfo("UTC")) + delta).astimezone(ctx.zone)
        return Token(match.start(), match.end(), "instant", moment=moment)
    if unit in ("days", "weeks"):
        day = ctx.today + timedelta(**{unit: count * sign})
    else:
        day = add_months(ctx.today, count * sign * (12 if unit == "years" else 1))
    return day_token(match, day)


# The period and shift readers, in the order they are tried.
READERS: tuple[tuple[re.Pattern[str], Reader], ...] = (
    (_MONTH_PERIOD, _read_month),
    (_YEAR, _read_year),
    (_RELATIVE_PERIOD, _read_relative_period),
    (_WEEKEND, _read_weekend),
    (_LAST_DAYS, _read_last_days),
    (_AHEAD, lambda ctx, m: _read_duration(ctx, m, 1)),
    (_AGO, lambda ctx, m: _read_duration(ctx, m, -1)),
    (_AGO_AFTER, lambda ctx, m: _read_duration(ctx, m, -1)),
)
