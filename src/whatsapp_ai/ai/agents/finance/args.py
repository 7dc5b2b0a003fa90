"""What the finance tools accept: the arguments a model (or the offline planner) fills in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from whatsapp_ai.core.money import DEFAULT_CURRENCY, Currency
from whatsapp_ai.core.vocabulary import Category, Kind, PaymentMethod


class EntryArgs(BaseModel):
    """An expense or income to record."""

    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    currency: Currency = DEFAULT_CURRENCY
    category: Category = Category.OTHER
    description: str | None = Field(default=None, max_length=200)
    day: date | None = Field(default=None, description="The local day; empty for today.")
    payment_method: PaymentMethod | None = None


class Which(BaseModel):
    """Which entry: the one the contact names; none of these given means the last one."""

    model_config = ConfigDict(extra="forbid")

    which: str | None = Field(
        default=None,
        max_length=200,
        description="The words the contact names the entry by ('mercado', 'ifood', 'uber').",
    )
    which_category: Category | None = None
    which_amount: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2)
    which_day: date | None = None
    record: str | None = Field(
        default=None, max_length=64, description="the id of an entry from the list just shown"
    )

    def names_one(self) -> bool:
        """Whether the contact named an entry rather than meaning the last one."""
        return any(
            v is not None
            for v in (
                self.which,
                self.which_category,
                self.which_amount,
                self.which_day,
                self.record,
            )
        )


class EditArgs(Which):
    """Changes to an entry (the one named, else the last)."""

    amount: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2)
    category: Category | None = None
    day: date | None = None
    payment_method: PaymentMethod | None = None
    description: str | None = Field(default=None, max_length=200)


class RemoveArgs(Which):
    """The entry to delete (the one named, else the last), or the last few ones."""

    latest: int | None = Field(
        default=None, ge=2, le=5, description="delete the last this many ('apaga os dois')"
    )


class ReportArgs(BaseModel):
    """A total over local days (both included)."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind = Kind.EXPENSE
    start: date
    end: date
    category: Category | None = None
    excluding: Category | None = Field(default=None, description="all categories but this one")
    words: list[str] | None = Field(
        default=None,
        max_length=8,
        description="the entries' own words (their description), e.g. ['uber'] or ['farmacia']",
    )
    largest: int | None = Field(
        default=None, ge=1, le=15, description="only the N largest entries (list_entries)"
    )


class MonthArgs(BaseModel):
    """A month to summarise."""

    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100)
    month: int = Field(ge=1, le=12)
