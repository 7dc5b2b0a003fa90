"""Sums of a contact's entries: totals over local days, all-time balances, and a month beside
the month before. Sums are exact to the cent on every database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.money import DEFAULT_CURRENCY
from whatsapp_ai.core.vocabulary import Kind
from whatsapp_ai.finance.errors import InvalidEntryError
from whatsapp_ai.finance.models import FinanceEntry
from whatsapp_ai.finance.periods import month_range, previous_month
from whatsapp_ai.finance.values import ZERO, currency_code


@dataclass(frozen=True)
class KindTotals:
    """The sum and count of one kind of entry, and the sum by category (largest first)."""

    total: Decimal = ZERO
    count: int = 0
    by_category: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class CurrencyTotals:
    """Expenses and income in one currency."""

    currency: str
    expense: KindTotals = field(default_factory=KindTotals)
    income: KindTotals = field(default_factory=KindTotals)

    @property
    def net(self) -> Decimal:
        """Income minus expenses."""
        return self.income.total - self.expense.total

    @property
    def count(self) -> int:
        """How many entries."""
        return self.expense.count + self.income.count

    def of(self, kind: Kind) -> KindTotals:
        """The totals of one kind."""
        return self.expense if kind is Kind.EXPENSE else self.income


@dataclass(frozen=True)
class Totals:
    """A contact's entries between two local dates (both included), by currency."""

    start: date
    end: date
    currencies: dict[str, CurrencyTotals] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """How many entries, in every currency."""
        return sum(totals.count for totals in self.currencies.values())

    def of(self, currency: str) -> CurrencyTotals:
        """The totals in ``currency`` (zero when there are none)."""
        return self.currencies.get(currency) or CurrencyTotals(currency=currency)


def _cents(column: Any) -> ColumnElement[int]:
    # Sum whole cents: exact on PostgreSQL's numeric and on SQLite, which keeps REALs.
    return cast(func.round(column * 100), BigInteger)


def _from_cents(value: Any) -> Decimal:
    return Decimal(int(value or 0)).scaleb(-2)


async def totals(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    start: date,
    end: date,
    kind: Kind | None = None,
) -> Totals:
    """Sums and counts of the contact's entries from ``start`` to ``end`` (local dates, both
    included), per currency, kind and category."""
    if start > end:
        raise InvalidEntryError("must not be before the start", field="end")
    query = (
        select(
            FinanceEntry.currency,
            FinanceEntry.kind,
            FinanceEntry.category,
            func.count(),
            func.sum(_cents(FinanceEntry.amount)),
        )
        .where(
            FinanceEntry.tenant_id == tenant_id,
            FinanceEntry.contact_id == contact_id,
            FinanceEntry.occurred_on >= start,
            FinanceEntry.occurred_on <= end,
        )
        .group_by(FinanceEntry.currency, FinanceEntry.kind, FinanceEntry.category)
    )
    if kind is not None:
        query = query.where(FinanceEntry.kind == kind.value)
    sums: dict[tuple[str, str], dict[str, tuple[int, Decimal]]] = {}
    for currency, kind_, category, count, cents in await session.execute(query):
        sums.setdefault((currency, kind_), {})[category] = (int(count), _from_cents(cents))
    currencies: dict[str, CurrencyTotals] = {}
    for code in sorted({currency for currency, _ in sums}):
        by_kind = {
            k: _kind_totals(sums.get((code, k.value), {})) for k in (Kind.EXPENSE, Kind.INCOME)
        }
        currencies[code] = CurrencyTotals(
            currency=code, expense=by_kind[Kind.EXPENSE], income=by_kind[Kind.INCOME]
        )
    return Totals(start=start, end=end, currencies=currencies)


def _kind_totals(categories: dict[str, tuple[int, Decimal]]) -> KindTotals:
    ranked = sorted(categories.items(), key=lambda item: (-item[1][1], item[0]))
    return KindTotals(
        total=sum((amount for _, (_, amount) in ranked), ZERO),
        count=sum(count for _, (count, _) in ranked),
        by_category={category: amount for category, (_, amount) in ranked},
    )


async def balances(session: AsyncSession, *, tenant_id: str, contact_id: str) -> dict[str, Decimal]:
    """Income minus expenses of all time, per currency the contact ever used."""
    signed = case(
        (FinanceEntry.kind == Kind.INCOME.value, _cents(FinanceEntry.amount)),
        else_=-_cents(FinanceEntry.amount),
    )
    rows = await session.execute(
        select(FinanceEntry.currency, func.sum(signed))
        .where(FinanceEntry.tenant_id == tenant_id, FinanceEntry.contact_id == contact_id)
        .group_by(FinanceEntry.currency)
        .order_by(FinanceEntry.currency)
    )
    return {currency: _from_cents(cents) for currency, cents in rows}


async def balance(
    session: AsyncSession, *, tenant_id: str, contact_id: str, currency: str = DEFAULT_CURRENCY
) -> Decimal:
    """Income minus expenses of all time in one currency."""
    found = await balances(session, tenant_id=tenant_id, contact_id=contact_id)
    return found.get(currency_code(currency), ZERO)


@dataclass(frozen=True)
class CategoryChange:
    """One category's spending this month against the month before."""

    category: str
    amount: Decimal
    previous: Decimal

    @property
    def change(self) -> Decimal:
        """How much more (or, negative, less) than the month before."""
        return self.amount - self.previous

    @property
    def change_pct(self) -> Decimal | None:
        """The change in percent of the month before; None when it had nothing."""
        return percent(self.amount, self.previous)


@dataclass(frozen=True)
class Summary:
    """A contact's month in one currency, beside the month before."""

    year: int
    month: int
    currency: str
    start: date
    end: date
    expense: KindTotals
    income: KindTotals
    previous_start: date
    previous_end: date
    previous_expense: KindTotals
    previous_income: KindTotals
    # Expense categories of either month, the largest this month first.
    categories: list[CategoryChange]
    top_categories: list[CategoryChange]
    # Currencies with entries this month besides ``currency`` (summarised separately).
    other_currencies: list[str]

    @property
    def net(self) -> Decimal:
        """Income minus expenses this month."""
        return self.income.total - self.expense.total

    @property
    def previous_net(self) -> Decimal:
        """Income minus expenses the month before."""
        return self.previous_income.total - self.previous_expense.total

    @property
    def expense_change(self) -> Decimal:
        """Spent this month minus spent the month before."""
        return self.expense.total - self.previous_expense.total

    @property
    def expense_change_pct(self) -> Decimal | None:
        """The change in spending in percent of the month before."""
        return percent(self.expense.total, self.previous_expense.total)

    @property
    def income_change(self) -> Decimal:
        """Earned this month minus earned the month before."""
        return self.income.total - self.previous_income.total


def percent(now: Decimal, before: Decimal) -> Decimal | None:
    """The change from ``before`` to ``now`` in percent, to one decimal; None from zero."""
    if before == 0:
        return None
    return ((now - before) * 100 / before).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


async def month_summary(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    year: int,
    month: int,
    currency: str = DEFAULT_CURRENCY,
    top: int = 3,
) -> Summary:
    """The contact's month (local dates): totals by category, the top expense categories
    and the comparison with the month before, in ``currency``."""
    code = currency_code(currency)
    start, end = month_range(year, month)
    previous_start, previous_end = month_range(*previous_month(year, month))
    this = await totals(session, tenant_id=tenant_id, contact_id=contact_id, start=start, end=end)
    before = await totals(
        session, tenant_id=tenant_id, contact_id=contact_id, start=previous_start, end=previous_end
    )
    current, previous = this.of(code), before.of(code)
    spent, spent_before = current.expense.by_category, previous.expense.by_category
    categories = sorted(
        (
            CategoryChange(
                category=name,
                amount=spent.get(name, ZERO),
                previous=spent_before.get(name, ZERO),
            )
            for name in set(spent) | set(spent_before)
        ),
        key=lambda change: (-change.amount, -change.previous, change.category),
    )
    return Summary(
        year=year,
        month=month,
        currency=code,
        start=start,
        end=end,
        expense=current.expense,
        income=current.income,
        previous_start=previous_start,
        previous_end=previous_end,
        previous_expense=previous.expense,
        previous_income=previous.income,
        categories=categories,
        top_categories=[change for change in categories if change.amount > 0][:top],
        other_currencies=[other for other in this.currencies if other != code],
    )
