"""How the assistant writes money, days and categories for WhatsApp, in the contact's language.

The words (category and month names, "hoje", "às") and the language's number and clock
conventions are in the ``[formats]`` section of the text catalogue.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from whatsapp_ai.core.i18n import catalogue, resolve, text

_RELATIVE_DAYS = {0: "today", -1: "yesterday", 1: "tomorrow"}


def money(amount: Decimal, currency: str, language: str) -> str:
    """R$ 1.234,56 in Portuguese, US$ 1,234.56 in English (any currency, its symbol)."""
    value = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    separators = str.maketrans(
        {",": text(language, "formats.thousands"), ".": text(language, "formats.decimal")}
    )
    digits = f"{abs(value):,.2f}".translate(separators)
    symbol = _word(language, f"formats.symbol.{currency}", currency)
    sign = "-" if value < 0 else ""
    # A bare dollar sign sits on the number; every other symbol is a word apart.
    return f"{sign}{symbol}{'' if symbol == '$' else ' '}{digits}"


def category(name: str, language: str) -> str:
    """The category's name for the contact."""
    return _word(language, f"formats.category.{name}", name)


def paid(method: str, language: str) -> str:
    """How it was paid, as said after an entry ("no Pix", "in cash")."""
    return _word(language, f"formats.paid.{method}", method)


def day(value: date, language: str, today: date) -> str:
    """ "hoje", "ontem", "amanhã", or the date (05/03 or Mar 5)."""
    relative = _RELATIVE_DAYS.get((value - today).days)
    if relative is not None:
        return text(language, f"formats.{relative}")
    short_month = text(language, f"formats.short_month.{value.month}")
    return text(language, "formats.date", day=value.day, month=short_month)


def moment(value: datetime, language: str, today: date) -> str:
    """A day and a time: "amanhã às 15:00", "tomorrow at 3:00 PM"."""
    return text(
        language,
        "formats.at_time",
        day=day(value.date(), language, today),
        time=_clock(value, language),
    )


def month(year: int, number: int, language: str) -> str:
    """ "outubro de 2026" / "October 2026"."""
    name = text(language, f"formats.month.{number}")
    return text(language, "formats.month_year", month=name, year=year)


def period(start: date, end: date, language: str, today: date) -> str:
    """A period of days (both included), said the short way when it is a day or a month."""
    if start == end:
        return day(start, language, today)
    whole_month = end.day == calendar.monthrange(end.year, end.month)[1] or end == today
    if start.day == 1 and (start.year, start.month) == (end.year, end.month) and whole_month:
        return text(language, "formats.in_month", month=month(start.year, start.month, language))
    return text(
        language,
        "formats.between",
        start=day(start, language, today),
        end=day(end, language, today),
    )


_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def repeating(rule: str, language: str) -> str:
    """How often a reminder repeats, from its RFC 5545 rule: "(toda segunda)", "(todo dia)",
    "(a cada 2 horas)", "(every month)"; "(repete)" for a rule said no shorter way."""
    parts = dict(p.split("=", 1) for p in rule.upper().split(";") if "=" in p)
    frequency = parts.get("FREQ", "")
    every = int(parts["INTERVAL"]) if parts.get("INTERVAL", "").isdigit() else 1
    days = [d[-2:] for d in parts.get("BYDAY", "").split(",") if d[-2:] in _WEEKDAYS]
    if frequency == "WEEKLY" and days and every == 1:
        first = text(language, f"formats.every_weekday.{_WEEKDAYS.index(days[0])}")
        rest = [text(language, f"formats.weekday.{_WEEKDAYS.index(d)}") for d in days[1:]]
        said = (
            first
            if not rest
            else f"{', '.join([first, *rest[:-1]])} {text(language, 'formats.and')} {rest[-1]}"
        )
        return f"({said})"
    monthday = parts.get("BYMONTHDAY", "")
    if frequency == "MONTHLY" and every == 1 and monthday.lstrip("-").isdigit():
        if int(monthday) == -1:
            return text(language, "agenda.repeats_month_end")
        return text(language, "agenda.repeats_monthday", day=int(monthday))
    unit = {"MINUTELY": "minutes", "HOURLY": "hours", "DAILY": "days", "WEEKLY": "weeks",
            "MONTHLY": "months", "YEARLY": "years"}.get(frequency)  # fmt: skip
    if unit is None:
        return text(language, "agenda.repeats")
    if every == 1:
        return text(language, f"agenda.repeats_each.{unit}")
    return text(language, f"agenda.repeats_every.{unit}", n=every)


def _clock(value: datetime, language: str) -> str:
    """The time of day on the language's clock: "15:00" (24-hour) or "3:00 PM" (12-hour)."""
    if text(language, "formats.clock") == "12h":
        return value.strftime("%I:%M %p").lstrip("0")
    return f"{value:%H:%M}"


def _word(language: str, key: str, default: str) -> str:
    """The catalogue's word for ``key``, or ``default`` when it has none (an unknown code)."""
    return catalogue(resolve(language)).get(key, default)
