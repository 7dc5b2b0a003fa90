"""How the assistant writes money, days and categories for WhatsApp, in PT and EN."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

_SYMBOL = {"BRL": "R$", "USD": "US$", "EUR": "€", "GBP": "£"}
_CATEGORIES = {
    "groceries": ("mercado", "groceries"),
    "restaurants": ("restaurantes", "restaurants"),
    "transport": ("transporte", "transport"),
    "housing": ("casa", "housing"),
    "health": ("saúde", "health"),
    "education": ("educação", "education"),
    "entertainment": ("lazer", "entertainment"),
    "shopping": ("compras", "shopping"),
    "bills": ("contas", "bills"),
    "salary": ("salário", "salary"),
    "freelance": ("freelas", "freelance"),
    "transfer": ("transferências", "transfers"),
    "other": ("outros", "other"),
}
_MONTHS = {
    "pt": (
        "janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
        "setembro", "outubro", "novembro", "dezembro",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ),
}  # fmt: skip


def money(amount: Decimal, currency: str, language: str) -> str:
    """R$ 1.234,56 in Portuguese, US$ 1,234.56 in English (any currency, its symbol)."""
    value = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{abs(value):,.2f}"
    if language == "pt":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    symbol = _SYMBOL.get(currency, currency)
    if currency == "USD" and language == "en":
        symbol = "$"
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{'' if symbol == '$' else ' '}{text}"


def category(name: str, language: str) -> str:
    """The category's name for the contact."""
    pt, en = _CATEGORIES.get(name, (name, name))
    return pt if language == "pt" else en


def day(value: date, language: str, today: date) -> str:
    """ "hoje", "ontem", "amanhã", or the date (05/03 or Mar 5)."""
    delta = (value - today).days
    words = {
        "pt": {0: "hoje", -1: "ontem", 1: "amanhã"},
        "en": {0: "today", -1: "yesterday", 1: "tomorrow"},
    }
    if delta in words[language if language in words else "pt"]:
        return words[language if language in words else "pt"][delta]
    if language == "en":
        return f"{_MONTHS['en'][value.month - 1][:3]} {value.day}"
    return f"{value.day:02d}/{value.month:02d}"


def moment(value: datetime, language: str, today: date) -> str:
    """A day and a time: "amanhã às 15:00", "tomorrow at 3:00 PM"."""
    when = day(value.date(), language, today)
    if language == "en":
        hour = value.strftime("%I:%M %p").lstrip("0")
        return f"{when} at {hour}"
    return f"{when} às {value:%H:%M}"


def month(year: int, number: int, language: str) -> str:
    """ "outubro de 2026" / "October 2026"."""
    name = _MONTHS["en" if language == "en" else "pt"][number - 1]
    return f"{name} {year}" if language == "en" else f"{name} de {year}"


def period(start: date, end: date, language: str, today: date) -> str:
    """A period of days (both included), said the short way when it is a day or a month."""
    if start == end:
        return day(start, language, today)
    whole_month = end.day == calendar.monthrange(end.year, end.month)[1] or end == today
    if start.day == 1 and (start.year, start.month) == (end.year, end.month) and whole_month:
        return ("em " if language == "pt" else "in ") + month(start.year, start.month, language)
    if language == "en":
        return f"from {day(start, language, today)} to {day(end, language, today)}"
    return f"de {day(start, language, today)} a {day(end, language, today)}"
