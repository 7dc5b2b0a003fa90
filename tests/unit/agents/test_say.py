"""Money, days, months and categories as the assistant writes them, in PT and EN."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from whatsapp_ai.ai.agents import say
from whatsapp_ai.core.vocabulary import Category

TODAY = date(2026, 3, 4)


@pytest.mark.parametrize(
    ("amount", "currency", "language", "said"),
    [
        ("1234.5", "BRL", "pt", "R$ 1.234,50"),
        ("1234.5", "BRL", "en", "R$ 1,234.50"),
        ("-1234567.891", "USD", "pt", "-US$ 1.234.567,89"),
        ("-1234567.891", "USD", "en", "-$1,234,567.89"),
        ("0.005", "EUR", "pt", "€ 0,01"),
        ("12", "GBP", "en", "£ 12.00"),
        ("12", "JPY", "en", "JPY 12.00"),
    ],
)
def test_money(amount: str, currency: str, language: str, said: str) -> None:
    assert say.money(Decimal(amount), currency, language) == said


def test_every_category_has_a_name_in_each_language() -> None:
    names = {c: (say.category(c, "pt"), say.category(c, "en")) for c in Category}
    assert names[Category.HEALTH] == ("saúde", "health")
    assert names[Category.TRANSFER] == ("transferências", "transfers")
    assert all(pt and en for pt, en in names.values())
    assert say.category("unheard-of", "pt") == "unheard-of"


@pytest.mark.parametrize(
    ("value", "pt", "en"),
    [
        (date(2026, 3, 4), "hoje", "today"),
        (date(2026, 3, 3), "ontem", "yesterday"),
        (date(2026, 3, 5), "amanhã", "tomorrow"),
        (date(2026, 3, 9), "09/03", "Mar 9"),
        (date(2025, 12, 25), "25/12", "Dec 25"),
    ],
)
def test_day(value: date, pt: str, en: str) -> None:
    assert (say.day(value, "pt", TODAY), say.day(value, "en", TODAY)) == (pt, en)


def test_moment_month_and_period() -> None:
    afternoon, morning = datetime(2026, 3, 5, 15, 0), datetime(2026, 3, 9, 9, 5)
    assert say.moment(afternoon, "pt", TODAY) == "amanhã às 15:00"
    assert say.moment(afternoon, "en", TODAY) == "tomorrow at 3:00 PM"
    assert say.moment(morning, "pt", TODAY) == "09/03 às 09:05"
    assert say.moment(morning, "en", TODAY) == "Mar 9 at 9:05 AM"
    assert say.month(2026, 10, "pt") == "outubro de 2026"
    assert say.month(2026, 10, "en") == "October 2026"
    assert say.period(date(2026, 3, 1), TODAY, "pt", TODAY) == "em março de 2026"
    assert say.period(date(2026, 2, 1), date(2026, 2, 28), "en", TODAY) == "in February 2026"
    assert say.period(date(2026, 3, 2), TODAY, "pt", TODAY) == "de 02/03 a hoje"
    assert say.period(date(2026, 3, 2), TODAY, "en", TODAY) == "from Mar 2 to today"
