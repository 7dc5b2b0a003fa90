"""What an entry can hold: exact amounts, ISO 4217 currencies, the fixed vocabularies, a note."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from whatsapp_ai.core import money as core_money
from whatsapp_ai.core.errors import InvalidInputError
from whatsapp_ai.core.money import CENT
from whatsapp_ai.finance.errors import InvalidEntryError

ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
NOTE_MAX = 1000
DESCRIPTION_MAX = 200
SOURCE_KEY_MAX = 120
EDITABLE = frozenset(
    {
        "kind",
        "amount",
        "currency",
        "category",
        "occurred_at",
        "payment_method",
        "note",
        "description",
    }
)
# Values an entry cannot be without once it exists.
REQUIRED = frozenset({"kind", "amount", "currency", "category", "occurred_at"})


def money(value: Decimal | int | str) -> Decimal:
    """A positive amount with at most two decimal places, as a Decimal of scale 2."""
    if isinstance(value, bool | float):
        # A float has already lost the cents (0.1 is not 0.1); take text or Decimal.
        raise InvalidEntryError("give an exact decimal (a string or Decimal)", field="amount")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise InvalidEntryError(f"not a number: {value!r}", field="amount") from None
    if not amount.is_finite():
        raise InvalidEntryError("must be a finite number", field="amount")
    if amount <= 0:
        raise InvalidEntryError("must be greater than zero", field="amount")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise InvalidEntryError("at most two decimal places (cents)", field="amount")
    if amount > MAX_AMOUNT:
        raise InvalidEntryError(f"at most {MAX_AMOUNT}", field="amount")
    return amount.quantize(CENT)


def currency_code(value: str) -> str:
    """An ISO 4217 currency code in capitals ('brl' → 'BRL'); InvalidEntryError otherwise."""
    try:
        return core_money.currency_code(value)
    except InvalidInputError as exc:
        raise InvalidEntryError(exc.message, field="currency") from None


def choice[E: StrEnum](enum: type[E], name: str, value: Any) -> E:
    """``value`` as a member of ``enum``; InvalidEntryError on field ``name`` otherwise."""
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InvalidEntryError(f"one of: {allowed}", field=name) from None


def note_text(value: str | None) -> str | None:
    """A note trimmed, None when empty."""
    if value is None:
        return None
    text = value.strip()
    if len(text) > NOTE_MAX:
        raise InvalidEntryError(f"at most {NOTE_MAX} characters", field="note")
    return text or None


def description_text(value: str | None) -> str | None:
    """What the person called the entry ("ifood", "aluguel"), trimmed; None when empty."""
    if value is None:
        return None
    text = " ".join(value.split())
    if len(text) > DESCRIPTION_MAX:
        raise InvalidEntryError(f"at most {DESCRIPTION_MAX} characters", field="description")
    return text or None


def utc_moment(value: datetime) -> datetime:
    """When an entry happened, in UTC; it must say its time zone."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidEntryError("a date and time with its time zone", field="occurred_at")
    return value.astimezone(UTC)
