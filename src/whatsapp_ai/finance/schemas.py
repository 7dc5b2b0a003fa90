"""Finance API shapes. Money travels as text ("50.00") so no cent is lost to floats."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

from whatsapp_ai.core.inputs import FREE_TEXT, Input
from whatsapp_ai.core.money import DEFAULT_CURRENCY, Currency, Money
from whatsapp_ai.core.vocabulary import Category, Kind, PaymentMethod
from whatsapp_ai.finance.values import DESCRIPTION_MAX, MAX_AMOUNT, NOTE_MAX, SOURCE_KEY_MAX

MoneyIn = Annotated[
    Decimal,
    Field(
        gt=0,
        le=MAX_AMOUNT,
        max_digits=14,
        decimal_places=2,
        description='Greater than zero, at most two decimal places; send text ("50.00").',
        examples=["50.00"],
    ),
]
Percent = Annotated[Decimal, PlainSerializer(str, return_type=str)]
Note = Annotated[str, FREE_TEXT, StringConstraints(strip_whitespace=True, max_length=NOTE_MAX)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=DESCRIPTION_MAX)]


class EntryIn(Input):
    """A new expense or income of a contact."""

    contact_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    kind: Kind
    amount: MoneyIn
    currency: Currency = DEFAULT_CURRENCY
    category: Category = Category.OTHER
    occurred_at: AwareDatetime | None = Field(
        default=None, description="When it happened, with its time zone; empty: now."
    )
    payment_method: PaymentMethod | None = None
    note: Note | None = None
    description: Description | None = Field(
        default=None, description='What the person called it ("ifood", "aluguel").'
    )
    source_key: (
        Annotated[str, StringConstraints(min_length=1, max_length=SOURCE_KEY_MAX)] | None
    ) = Field(default=None, description="Sending again with the same key records nothing new.")


class EntryPatch(Input):
    """Changes to an entry; null clears ``payment_method``, ``note`` and ``description``."""

    kind: Kind | None = None
    amount: MoneyIn | None = None
    currency: Currency | None = None
    category: Category | None = None
    occurred_at: AwareDatetime | None = None
    payment_method: PaymentMethod | None = None
    note: Note | None = None
    description: Description | None = None


class EntryOut(BaseModel):
    """An entry as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    contact_id: str
    kind: str
    amount: Money
    currency: str
    category: str
    occurred_at: datetime
    occurred_on: date = Field(description="The day in the contact's time zone.")
    payment_method: str | None
    note: str | None
    description: str | None
    source_key: str | None
    created_at: datetime
    updated_at: datetime


class KindTotalsOut(BaseModel):
    """The sum and count of one kind, and the sum by category (largest first)."""

    model_config = ConfigDict(from_attributes=True)

    total: Money
    count: int
    by_category: dict[str, Money]


class CurrencyTotalsOut(BaseModel):
    """Expenses and income in one currency, and income minus expenses."""

    currency: str
    expense: KindTotalsOut
    income: KindTotalsOut
    net: Money
    count: int


class SummaryOut(BaseModel):
    """A contact's entries over a period, per currency, and the all-time balances."""

    model_config = ConfigDict(populate_by_name=True)

    contact_id: str
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    count: int
    currencies: list[CurrencyTotalsOut]
    balances: dict[str, Money] = Field(
        description="Income minus expenses of all time, per currency."
    )


class CategoryChangeOut(BaseModel):
    """One expense category this month against the month before."""

    model_config = ConfigDict(from_attributes=True)

    category: str
    amount: Money
    previous: Money
    change: Money
    change_pct: Percent | None = Field(description="Percent of the month before; null from 0.")


class PreviousMonthOut(BaseModel):
    """The month before, for comparison."""

    month: str
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    expense: KindTotalsOut
    income: KindTotalsOut
    net: Money

    model_config = ConfigDict(populate_by_name=True)


class MonthOut(BaseModel):
    """A contact's month in one currency, beside the month before."""

    model_config = ConfigDict(populate_by_name=True)

    contact_id: str
    month: str = Field(examples=["2026-11"])
    currency: str
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    expense: KindTotalsOut
    income: KindTotalsOut
    net: Money
    previous: PreviousMonthOut
    expense_change: Money
    expense_change_pct: Percent | None
    income_change: Money
    top_categories: list[CategoryChangeOut]
    categories: list[CategoryChangeOut]
    other_currencies: list[str] = Field(
        description="Currencies with entries this month besides this one (ask for them apart)."
    )
