"""Finance service: record a contact's expenses and income, correct them, and sum them up.

Money is ``Decimal`` everywhere (never float). Days and months are the contact's own: each
entry keeps the local date it happened on, and every period is a range of those dates.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import BigInteger, ColumnElement, case, cast, func, select
from sqlalchemy import delete as delete_rows
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.db import as_dict, insert_ignore
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.privacy import ContactRef, Erased
from whatsapp_ai.finance.models import FinanceEntry
from whatsapp_ai.identity import service as identity


class Kind(StrEnum):
    """Money going out or coming in."""

    EXPENSE = "expense"
    INCOME = "income"


class Category(StrEnum):
    """What the money was for (or where it came from)."""

    GROCERIES = "groceries"
    RESTAURANTS = "restaurants"
    TRANSPORT = "transport"
    HOUSING = "housing"
    HEALTH = "health"
    EDUCATION = "education"
    ENTERTAINMENT = "entertainment"
    SHOPPING = "shopping"
    BILLS = "bills"
    SALARY = "salary"
    FREELANCE = "freelance"
    TRANSFER = "transfer"
    OTHER = "other"


class PaymentMethod(StrEnum):
    """How it was paid."""

    PIX = "pix"
    CREDIT_CARD = "credit_card"
    DEBIT_CARD = "debit_card"
    CASH = "cash"
    BOLETO = "boleto"
    TRANSFER = "transfer"


DEFAULT_CURRENCY = "BRL"
# Contacts who never told us their time zone are most likely in Brazil's most populous one.
DEFAULT_TIMEZONE = "America/Sao_Paulo"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
NOTE_MAX = 1000
SOURCE_KEY_MAX = 120
EDITABLE = frozenset(
    {"kind", "amount", "currency", "category", "occurred_at", "payment_method", "note"}
)
# ISO 4217 codes of currencies in circulation (funds, metals and test codes left out).
_ISO_4217 = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
    KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
    MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON
    RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND
    TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW
    ZWG
    """
CURRENCIES = frozenset(_ISO_4217.split())


class FinanceError(Exception):
    """A finance request that cannot be done."""


class UnknownContactError(FinanceError, LookupError):
    """The contact is not one of the tenant's."""


class InvalidEntryError(FinanceError, ValueError):
    """A value an entry cannot hold; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- values -------------------------------------------------------------------------------


def money(value: Decimal | int | str) -> Decimal:
    """A positive amount with at most two decimal places, as a Decimal of scale 2."""
    if isinstance(value, bool | float):
        # A float has already lost the cents (0.1 is not 0.1); take text or Decimal.
        raise InvalidEntryError("amount", "give an exact decimal (a string or Decimal)")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise InvalidEntryError("amount", f"not a number: {value!r}") from None
    if not amount.is_finite():
        raise InvalidEntryError("amount", "must be a finite number")
    if amount <= 0:
        raise InvalidEntryError("amount", "must be greater than zero")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise InvalidEntryError("amount", "at most two decimal places (cents)")
    if amount > MAX_AMOUNT:
        raise InvalidEntryError("amount", f"at most {MAX_AMOUNT}")
    return amount.quantize(CENT)


def currency_code(value: str) -> str:
    """An ISO 4217 currency code in capitals ('brl' → 'BRL')."""
    code = value.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise InvalidEntryError("currency", "three letters, ISO 4217 (e.g. BRL, USD)")
    if code not in CURRENCIES:
        raise InvalidEntryError("currency", f"unknown ISO 4217 currency: {code}")
    return code


def _choice[E: StrEnum](enum: type[E], name: str, value: Any) -> E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InvalidEntryError(name, f"one of: {allowed}") from None


def _note(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > NOTE_MAX:
        raise InvalidEntryError("note", f"at most {NOTE_MAX} characters")
    return text or None


def _moment(value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidEntryError("occurred_at", "a date and time with its time zone")
    return value.astimezone(UTC)


def zone_of(timezone: str | None) -> ZoneInfo:
    """The contact's time zone, or the default when unset or unknown."""
    try:
        return ZoneInfo(timezone or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def local_day(moment: datetime, timezone: str | None) -> date:
    """The calendar day ``moment`` falls on where the contact lives."""
    return moment.astimezone(zone_of(timezone)).date()


def month_range(year: int, month: int) -> tuple[date, date]:
    """The first and last day of a month."""
    if not 1 <= month <= 12:
        raise InvalidEntryError("month", "from 1 to 12")
    if not 1 <= year <= 9999:
        raise InvalidEntryError("year", "from 1 to 9999")
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


async def is_contact(session: AsyncSession, *, tenant_id: str, contact_id: str) -> bool:
    """Whether the contact is one of the tenant's."""
    found = await identity.get_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    return found is not None


async def _timezone(session: AsyncSession, *, tenant_id: str, contact_id: str) -> str | None:
    contact = await identity.get_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    if contact is None:
        raise UnknownContactError(contact_id)
    return contact.timezone


# --- entries ------------------------------------------------------------------------------


async def record(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    kind: Kind | str,
    amount: Decimal | int | str,
    now: datetime,
    category: Category | str = Category.OTHER,
    currency: str = DEFAULT_CURRENCY,
    occurred_at: datetime | None = None,
    payment_method: PaymentMethod | str | None = None,
    note: str | None = None,
    source_key: str | None = None,
) -> tuple[FinanceEntry, bool]:
    """Store an entry once; (entry, created). The same ``source_key`` again (a retried
    assistant turn passes f"{inbound_message_id}:{n}") returns the stored entry unchanged."""
    moment = _moment(occurred_at or now)
    values: dict[str, Any] = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "kind": _choice(Kind, "kind", kind).value,
        "amount": money(amount),
        "currency": currency_code(currency),
        "category": _choice(Category, "category", category).value,
        "occurred_at": moment,
        "payment_method": None
        if payment_method is None
        else _choice(PaymentMethod, "payment_method", payment_method).value,
        "note": _note(note),
        "source_key": source_key,
        "created_at": now,
        "updated_at": now,
    }
    if source_key is not None:
        if not 0 < len(source_key) <= SOURCE_KEY_MAX:
            raise InvalidEntryError("source_key", f"1 to {SOURCE_KEY_MAX} characters")
        found = await _by_source_key(session, tenant_id=tenant_id, source_key=source_key)
        if found is not None:
            return found, False
    timezone = await _timezone(session, tenant_id=tenant_id, contact_id=contact_id)
    values["occurred_on"] = local_day(moment, timezone)
    if source_key is None:
        session.add(entry := FinanceEntry(**values))
        await session.flush()
        return entry, True
    # A concurrent retry may have stored it between the lookup and here.
    created = await insert_ignore(
        session, FinanceEntry, values, conflict=["tenant_id", "source_key"]
    )
    stored = await _by_source_key(session, tenant_id=tenant_id, source_key=source_key)
    assert stored is not None
    return stored, created is not None


async def _by_source_key(
    session: AsyncSession, *, tenant_id: str, source_key: str
) -> FinanceEntry | None:
    return await session.scalar(
        select(FinanceEntry).where(
            FinanceEntry.tenant_id == tenant_id, FinanceEntry.source_key == source_key
        )
    )


async def get(session: AsyncSession, *, tenant_id: str, entry_id: str) -> FinanceEntry | None:
    """An entry of the tenant by id."""
    return await session.scalar(
        select(FinanceEntry).where(FinanceEntry.tenant_id == tenant_id, FinanceEntry.id == entry_id)
    )


async def last_entry(
    session: AsyncSession, *, tenant_id: str, contact_id: str, kind: Kind | None = None
) -> FinanceEntry | None:
    """The contact's most recently recorded entry (of ``kind``), whatever day it is for."""
    query = select(FinanceEntry).where(
        FinanceEntry.tenant_id == tenant_id, FinanceEntry.contact_id == contact_id
    )
    if kind is not None:
        query = query.where(FinanceEntry.kind == kind.value)
    return await session.scalar(query.order_by(FinanceEntry.id.desc()).limit(1))


async def update(
    session: AsyncSession,
    *,
    tenant_id: str,
    entry_id: str,
    changes: Mapping[str, Any],
    now: datetime,
) -> FinanceEntry | None:
    """Change some of an entry's values (see ``EDITABLE``); None when not the tenant's."""
    entry = await get(session, tenant_id=tenant_id, entry_id=entry_id)
    if entry is None:
        return None
    return await _apply(session, entry, changes, now=now)


async def edit_last(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    changes: Mapping[str, Any],
    now: datetime,
    kind: Kind | None = None,
) -> FinanceEntry | None:
    """Correct the contact's last entry ("actually it was 45"); None when there is none."""
    entry = await last_entry(session, tenant_id=tenant_id, contact_id=contact_id, kind=kind)
    if entry is None:
        return None
    return await _apply(session, entry, changes, now=now)


async def delete(session: AsyncSession, *, tenant_id: str, entry_id: str) -> FinanceEntry | None:
    """Remove an entry; the removed entry, or None when not the tenant's."""
    entry = await get(session, tenant_id=tenant_id, entry_id=entry_id)
    if entry is not None:
        await session.delete(entry)
        await session.flush()
    return entry


async def delete_last(
    session: AsyncSession, *, tenant_id: str, contact_id: str, kind: Kind | None = None
) -> FinanceEntry | None:
    """Remove the contact's last entry ("delete that"); what was removed, or None."""
    entry = await last_entry(session, tenant_id=tenant_id, contact_id=contact_id, kind=kind)
    if entry is not None:
        await session.delete(entry)
        await session.flush()
    return entry


async def _apply(
    session: AsyncSession, entry: FinanceEntry, changes: Mapping[str, Any], *, now: datetime
) -> FinanceEntry:
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise InvalidEntryError(unknown[0], "cannot be changed")
    required = {"kind", "amount", "currency", "category", "occurred_at"}
    for name in sorted(required & set(changes)):
        if changes[name] is None:
            raise InvalidEntryError(name, "cannot be empty")
    if "kind" in changes:
        entry.kind = _choice(Kind, "kind", changes["kind"]).value
    if "amount" in changes:
        entry.amount = money(changes["amount"])
    if "currency" in changes:
        entry.currency = currency_code(changes["currency"])
    if "category" in changes:
        entry.category = _choice(Category, "category", changes["category"]).value
    if "payment_method" in changes:
        method = changes["payment_method"]
        entry.payment_method = (
            None if method is None else _choice(PaymentMethod, "payment_method", method).value
        )
    if "note" in changes:
        entry.note = _note(changes["note"])
    if "occurred_at" in changes:
        moment = _moment(changes["occurred_at"])
        timezone = await _timezone(session, tenant_id=entry.tenant_id, contact_id=entry.contact_id)
        entry.occurred_at = moment
        entry.occurred_on = local_day(moment, timezone)
    entry.updated_at = now
    await session.flush()
    return entry


async def list_entries(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str | None = None,
    kind: Kind | None = None,
    category: Category | None = None,
    start: date | None = None,
    end: date | None = None,
    after: str | None = None,
    limit: int = 50,
) -> list[FinanceEntry]:
    """The tenant's entries in the order recorded, after the cursor (an entry id), filtered
    by contact, kind, category and local dates (``start`` and ``end`` included)."""
    query = select(FinanceEntry).where(FinanceEntry.tenant_id == tenant_id)
    if contact_id is not None:
        query = query.where(FinanceEntry.contact_id == contact_id)
    if kind is not None:
        query = query.where(FinanceEntry.kind == kind.value)
    if category is not None:
        query = query.where(FinanceEntry.category == category.value)
    if start is not None:
        query = query.where(FinanceEntry.occurred_on >= start)
    if end is not None:
        query = query.where(FinanceEntry.occurred_on <= end)
    if after:
        query = query.where(FinanceEntry.id > after)
    return list(await session.scalars(query.order_by(FinanceEntry.id).limit(limit)))


# --- sums -----------------------------------------------------------------------------------


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
        raise InvalidEntryError("end", "must not be before the start")
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
    previous_start, previous_end = month_range(
        *((year, month - 1) if month > 1 else (year - 1, 12))
    )
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


# --- data subject rights ----------------------------------------------------------------------


async def export_contact(session: AsyncSession, ref: ContactRef) -> dict[str, Any]:
    """The contact's expenses and income (amounts as text, to keep every cent)."""
    rows = await session.scalars(
        select(FinanceEntry)
        .where(FinanceEntry.tenant_id == ref.tenant_id, FinanceEntry.contact_id == ref.contact_id)
        .order_by(FinanceEntry.id)
    )
    return {
        "entries": [
            {
                **as_dict(
                    row,
                    "id",
                    "kind",
                    "currency",
                    "category",
                    "occurred_at",
                    "occurred_on",
                    "payment_method",
                    "note",
                    "source_key",
                    "created_at",
                    "updated_at",
                ),
                "amount": str(row.amount),
            }
            for row in rows
        ]
    }


async def erase_contact(session: AsyncSession, ref: ContactRef) -> Erased:
    """Delete the contact's expenses and income."""
    result = await session.execute(
        delete_rows(FinanceEntry).where(
            FinanceEntry.tenant_id == ref.tenant_id, FinanceEntry.contact_id == ref.contact_id
        )
    )
    return Erased(rows=int(result.rowcount))  # type: ignore[attr-defined]
