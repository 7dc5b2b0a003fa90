"""What the finance agent says back: entries, totals, balances and months, in the contact's
language (the words are in the ``[finance]`` section of the text catalogue)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Protocol

from whatsapp_ai.ai.agents import say
from whatsapp_ai.core.i18n import text
from whatsapp_ai.core.text import fold
from whatsapp_ai.core.vocabulary import Category, Kind
from whatsapp_ai.finance import service as finance


class Entry(Protocol):
    """What is said of an entry."""

    kind: str
    amount: Decimal
    currency: str
    category: str
    occurred_on: date
    description: str | None


def entry(found: Entry, language: str, today: date) -> str:
    """ "gasto de R$ 50,00 em mercado, hoje" / "R$ 50.00 received (salary), yesterday"."""
    kind = Kind.INCOME if found.kind == Kind.INCOME else Kind.EXPENSE
    said = text(
        language,
        f"finance.entry.{kind}",
        amount=say.money(found.amount, found.currency, language),
        category=say.category(found.category, language),
        day=say.day(found.occurred_on, language, today),
    )
    method = getattr(found, "payment_method", None)
    return f"{said}, {say.paid(method, language)}" if method else said


def recorded(found: Entry, language: str, today: date) -> str:
    """The confirmation of a new entry."""
    return text(language, "finance.recorded", entry=entry(found, language, today))


def _done(action: str, found: Entry, language: str, today: date, named: bool) -> str:
    said = entry(found, language, today)
    if not named:
        return text(language, f"finance.{action}", entry=said)
    if found.description:
        return text(language, f"finance.{action}_named", entry=said, description=found.description)
    return text(language, f"finance.{action}_any", entry=said)


def edited(found: Entry, language: str, today: date, *, named: bool = False) -> str:
    """The confirmation of a corrected entry (the last one, or the one the contact named)."""
    return _done("edited", found, language, today, named)


def deleted(found: Entry, language: str, today: date, *, named: bool = False) -> str:
    """The confirmation of a removed entry (the last one, or the one the contact named)."""
    return _done("deleted", found, language, today, named)


def described(found: Entry, language: str, today: date) -> str:
    """An entry with the contact's own word for it, when it has one."""
    said = entry(found, language, today)
    shown = say.category(found.category, language)
    if not found.description or fold(found.description) == fold(shown):
        return said
    return text(language, "finance.entry.described", entry=said, description=found.description)


def which(found: Sequence[Entry], language: str, today: date) -> str:
    """The question when several entries fit what the contact named, listing them."""
    options = "; ".join(
        f"{n}) {described(item, language, today)}" for n, item in enumerate(found[:5], 1)
    )
    return text(language, "finance.which", options=options)


def listed(
    entries: Sequence[Entry],
    *,
    kind: Kind,
    start: date,
    end: date,
    language: str,
    today: date,
    head: str = "finance.listed",
) -> str:
    """The entries of a period, numbered under ``head`` (of the kind), or that there are
    none."""
    when = say.period(start, end, language, today)
    if not entries:
        return text(language, "finance.report.nothing", period=when.capitalize(), topic="")
    lines = [text(language, f"{head}.{kind}", period=when)]
    lines += [f"{n}) {described(e, language, today)}" for n, e in enumerate(entries, 1)]
    return "\n".join(lines)


def named_total(
    entries: Sequence[Entry],
    *,
    kind: Kind,
    what: str,
    start: date,
    end: date,
    language: str,
    today: date,
) -> str:
    """How much the entries named by their own words ("uber") came to over the days."""
    when = say.period(start, end, language, today)
    sums: dict[str, Decimal] = {}
    for found in entries:
        sums[found.currency] = sums.get(found.currency, Decimal(0)) + found.amount
    amounts = " + ".join(say.money(v, c, language) for c, v in sorted(sums.items()))
    topic = text(language, "finance.report.on", category=what)
    return text(
        language,
        f"finance.report.{kind}",
        period=when[0].upper() + when[1:],
        amounts=amounts,
        topic=topic,
    )


def largest(
    entries: Sequence[Entry],
    *,
    kind: Kind,
    start: date,
    end: date,
    language: str,
    today: date,
) -> str:
    """The largest entries of a period, the largest first (one said in a sentence)."""
    if len(entries) == 1:
        return text(
            language,
            f"finance.largest_one.{kind}",
            period=say.period(start, end, language, today),
            entry=described(entries[0], language, today),
        )
    return listed(
        entries,
        kind=kind,
        start=start,
        end=end,
        language=language,
        today=today,
        head="finance.largest",
    )


def not_found(what: str, language: str) -> str:
    """No entry fits what the contact named."""
    return text(language, "finance.not_found", what=what)


def report(
    totals: finance.Totals,
    *,
    kind: Kind,
    category: Category | None,
    start: date,
    end: date,
    language: str,
    today: date,
    excluding: Category | None = None,
) -> str:
    """How much was spent or received over the days, per currency, with the largest
    categories (or only ``category``, or all but ``excluding``)."""
    when = say.period(start, end, language, today)
    parts = []
    for currency, found in sorted(totals.currencies.items()):
        kind_totals = found.of(kind)
        if category or excluding:
            if category:
                amount = kind_totals.by_category.get(category, Decimal(0))
            elif excluding:
                amount = kind_totals.total - kind_totals.by_category.get(excluding, Decimal(0))
            if amount or len(totals.currencies) == 1:
                parts.append(say.money(amount, currency, language))  # never "R$ 0,00 + US$ 30"
            continue
        top = sorted(kind_totals.by_category.items(), key=lambda item: -item[1])[:3]
        detail = "; ".join(
            f"{say.category(c, language)} {say.money(v, currency, language)}" for c, v in top
        )
        total = say.money(kind_totals.total, currency, language)
        parts.append(f"{total} ({detail})" if detail else total)
    topic = ""
    if category:
        topic = text(language, "finance.report.on", category=say.category(category, language))
    elif excluding:
        topic = text(language, "finance.report.without", category=say.category(excluding, language))
    if not parts:
        return text(language, "finance.report.nothing", period=when.capitalize(), topic=topic)
    return text(
        language,
        f"finance.report.{kind}",
        period=when[0].upper() + when[1:],
        amounts=" + ".join(parts),
        topic=topic,
    )


def balance(balances: Mapping[str, Decimal], language: str) -> str:
    """Income minus expenses of all time, per currency (none: nothing recorded yet)."""
    if not balances:
        return nothing(language)
    shown = " | ".join(
        say.money(value, currency, language) for currency, value in sorted(balances.items())
    )
    return text(language, "finance.balance", amounts=shown)


def month(summary: finance.Summary, language: str) -> str:
    """A month's spending and income, the change from the month before, the top categories."""
    currency = summary.currency
    change = summary.expense_change_pct
    trend = "" if change is None else text(language, "finance.month.trend", change=f"{change:+.0f}")
    top = "; ".join(
        f"{say.category(c.category, language)} {say.money(c.amount, currency, language)}"
        for c in summary.top_categories
    )
    said = text(
        language,
        "finance.month.summary",
        month=say.month(summary.year, summary.month, language),
        spent=say.money(summary.expense.total, currency, language),
        trend=trend,
        received=say.money(summary.income.total, currency, language),
        net=say.money(summary.net, currency, language),
    )
    return said + (text(language, "finance.month.top", top=top) if top else "")


def nothing(language: str) -> str:
    """There is no entry to show, change or remove."""
    return text(language, "finance.no_entries")
