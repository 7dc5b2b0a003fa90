"""The values sales keeps, their limits and the checks they pass, shared by every topic."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core import errors as core
from whatsapp_ai.core.money import CENT, ZERO_DECIMAL, currency_code
from whatsapp_ai.core.text import fold
from whatsapp_ai.identity import service as identity
from whatsapp_ai.sales.errors import InvalidInputError, UnknownContactError


class Status(StrEnum):
    """Where an order is."""

    CART = "cart"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    CANCELLED = "cancelled"
    AWAITING_OPERATOR = "awaiting_operator"


ZERO = Decimal("0.00")
MAX_PRICE = Decimal("9999999999.99")  # Numeric(12, 2)
MAX_TOTAL = Decimal("999999999999.99")  # Numeric(14, 2)
MAX_QUANTITY = 999
MAX_STOCK = 1_000_000_000
MAX_LINES = 50
NAME_MAX = 200
DESCRIPTION_MAX = 2000
SKU_MAX = 64
INTEREST_MAX = 500
SOURCE_KEY_MAX = 120
URL_MAX = 2048


def name_of(value: str) -> str:
    """A product name with single spaces, naming something (letters or digits)."""
    name = " ".join(str(value).split())
    if not name or not re.search(r"[a-z0-9]", fold(name)):
        raise InvalidInputError("must have letters or digits", field="name")
    if len(name) > NAME_MAX:
        raise InvalidInputError(f"at most {NAME_MAX} characters", field="name")
    return name


def description_of(value: str | None) -> str | None:
    """A description without surrounding spaces; None when empty."""
    if value is None:
        return None
    text = value.strip()
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInputError(f"at most {DESCRIPTION_MAX} characters", field="description")
    return text or None


def currency_of(value: str) -> str:
    """An ISO 4217 currency code in capitals ('brl' → 'BRL')."""
    # The money kernel's check, refused as a SalesError like every other catalog value.
    try:
        return currency_code(value)
    except core.InvalidInputError as exc:
        raise InvalidInputError(exc.message, field="currency") from None


def price_of(value: Decimal | int | str, currency: str) -> Decimal:
    """A price greater than zero with at most two decimals (whole units where the currency has
    no cents), as a Decimal of scale 2."""
    if isinstance(value, bool | float):
        raise InvalidInputError("give an exact decimal (a string or Decimal)", field="price")
    try:
        price = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise InvalidInputError(f"not a number: {value!r}", field="price") from None
    if not price.is_finite() or price <= 0:
        raise InvalidInputError("must be greater than zero", field="price")
    if price != price.quantize(CENT, rounding=ROUND_HALF_UP):
        raise InvalidInputError("at most two decimal places (cents)", field="price")
    if price > MAX_PRICE:
        raise InvalidInputError(f"at most {MAX_PRICE}", field="price")
    if currency in ZERO_DECIMAL and price != price.to_integral_value():
        raise InvalidInputError(f"{currency} has no cents: give a whole number", field="price")
    return price.quantize(CENT)


def stock_of(value: int | None) -> int | None:
    """Units in stock, or None when the product's stock is not counted."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_STOCK:
        raise InvalidInputError(f"a whole number from 0 to {MAX_STOCK}, or null", field="stock")
    return value


def sku_of(value: str | None) -> str | None:
    """A SKU without surrounding spaces; None when empty."""
    if value is None:
        return None
    sku = value.strip()
    if len(sku) > SKU_MAX:
        raise InvalidInputError(f"at most {SKU_MAX} characters", field="sku")
    return sku or None


def quantity_of(value: int) -> int:
    """How many of one product an order line may hold."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        raise InvalidInputError(f"a whole number from 1 to {MAX_QUANTITY}", field="quantity")
    return value


def source_key_of(value: str | None) -> str | None:
    """The idempotency key of a change made from a turn (None: not idempotent)."""
    if value is not None and not 0 < len(value) <= SOURCE_KEY_MAX:
        raise InvalidInputError(f"1 to {SOURCE_KEY_MAX} characters", field="source_key")
    return value


def total_of(lines: Iterable[tuple[Decimal, int]]) -> Decimal:
    """The sum of (unit price, quantity) lines, each rounded to cents, within what an order
    can hold."""
    total = sum(((Decimal(price) * quantity).quantize(CENT) for price, quantity in lines), ZERO)
    if total > MAX_TOTAL:
        raise InvalidInputError(f"the order total would exceed {MAX_TOTAL}", field="quantity")
    return total


async def require_contact(session: AsyncSession, *, tenant_id: str, contact_id: str) -> Any:
    """The tenant's contact a sale is for; UnknownContactError when it is not theirs."""
    contact = await identity.get_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    if contact is None:
        raise UnknownContactError(contact_id)
    return contact
