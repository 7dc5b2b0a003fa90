"""Sales API shapes. Money travels as text ("59.90") so no cent is lost to floats."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from whatsapp_ai.core.inputs import FREE_TEXT, Input
from whatsapp_ai.core.money import DEFAULT_CURRENCY, Currency, Money
from whatsapp_ai.sales.service import (
    DESCRIPTION_MAX,
    MAX_PRICE,
    MAX_STOCK,
    NAME_MAX,
    SKU_MAX,
    URL_MAX,
    Status,
)

PriceIn = Annotated[
    Decimal,
    Field(
        gt=0,
        le=MAX_PRICE,
        max_digits=12,
        decimal_places=2,
        description='Greater than zero, at most two decimal places; send text ("59.90").',
        examples=["59.90"],
    ),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]
Description = Annotated[
    str, FREE_TEXT, StringConstraints(strip_whitespace=True, max_length=DESCRIPTION_MAX)
]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, max_length=SKU_MAX)]
Stock = Annotated[
    int, Field(ge=0, le=MAX_STOCK, description="Units in stock; null: not counted (unlimited).")
]


class ProductIn(Input):
    """A new product of the catalog."""

    name: Name
    description: Description | None = None
    price: PriceIn
    currency: Currency = DEFAULT_CURRENCY
    stock: Stock | None = None
    active: bool = True
    sku: Sku | None = None


class ProductPatch(Input):
    """Changes to a product; null clears ``description``, ``stock`` (unlimited) and ``sku``."""

    name: Name | None = None
    description: Description | None = None
    price: PriceIn | None = None
    currency: Currency | None = None
    stock: Stock | None = None
    active: bool | None = None
    sku: Sku | None = None


class ProductOut(BaseModel):
    """A product as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str | None
    price: Money
    currency: str
    stock: int | None
    active: bool
    sku: str | None
    created_at: datetime
    updated_at: datetime


class OrderItemOut(BaseModel):
    """A line of an order: the product's name and price when it was added."""

    model_config = ConfigDict(from_attributes=True)

    product_id: str | None = Field(description="Null once the product left the catalog.")
    name: str
    unit_price: Money
    quantity: int
    subtotal: Money


class OrderOut(BaseModel):
    """An order and its lines."""

    id: str
    contact_id: str
    status: Status
    currency: str
    total: Money
    payment_url: str | None
    payment_ref: str | None
    refunded_at: datetime | None = Field(
        default=None, description="When Stripe gave the payment back (the order is cancelled)."
    )
    items: list[OrderItemOut]
    created_at: datetime
    updated_at: datetime


class OrderPatch(Input):
    """An operator's change to an order: paid (taken outside the link too) or cancelled."""

    status: Literal["paid", "cancelled"]


class LeadOut(BaseModel):
    """A contact who asked about the catalog."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    contact_id: str
    name: str | None
    interest: str
    created_at: datetime


class StripeAccountIn(Input):
    """The tenant's Stripe secret key (never shown again) and where customers land after
    paying."""

    secret_key: SecretStr = Field(
        description="sk_live_…, sk_test_… or a restricted key (rk_…) with Checkout Sessions."
    )
    success_url: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=URL_MAX)] | None
    ) = Field(default=None, description="Empty: Stripe's own confirmation page.")


class StripeAccountOut(BaseModel):
    """Whether the tenant's Stripe account is connected, without the key."""

    configured: bool
    key_last4: str | None = None
    livemode: bool | None = None
    success_url: str | None = None
    webhook_path: str | None = Field(
        default=None,
        description="The tenant's own endpoint for Stripe's payment events (after the "
        "platform's address): checkout.session.completed, .expired, .async_payment_succeeded, "
        ".async_payment_failed and charge.refunded.",
    )
    webhook_configured: bool = Field(
        default=False, description="Whether the endpoint's signing secret is set."
    )
    updated_at: datetime | None = None


class WebhookSecretIn(Input):
    """The signing secret Stripe shows for the tenant's endpoint (never shown again)."""

    model_config = ConfigDict(extra="forbid")

    secret: SecretStr = Field(description="whsec_…")
