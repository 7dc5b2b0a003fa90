"""Checkout: close the contact's cart with a payment link on the tenant's own Stripe account,
or, without an account (or when Stripe fails), leave the order for an operator.

:func:`checkout` is the one way to check out (the assistant's tool calls it). Unlike the rest
of the service it owns its transactions, because a network call sits in the middle: it reads
the cart in one (:func:`prepare_checkout`), asks Stripe with none open
(:func:`create_payment_link`), and closes the order in a second (:func:`complete_checkout`),
so no write lock waits on Stripe; a cart changed meanwhile is refused, not charged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

import stripe as stripe_sdk
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.config import StripeSettings
from whatsapp_ai.core.crypto import SecretBox
from whatsapp_ai.core.db import Database
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.money import THREE_DECIMAL, ZERO_DECIMAL
from whatsapp_ai.sales.accounts import get_stripe_account
from whatsapp_ai.sales.cart import Cart, Line, cart_of, claim_write, open_cart, write_done
from whatsapp_ai.sales.catalog import get_product
from whatsapp_ai.sales.errors import (
    CartChangedError,
    EmptyCartError,
    OutOfStockError,
    PaymentLinkError,
)
from whatsapp_ai.sales.models import Order, OrderWrite, Product
from whatsapp_ai.sales.values import ZERO, Status, source_key_of, total_of

log = get_logger(__name__)


@dataclass(frozen=True)
class Payments:
    """What checkout needs to reach a tenant's Stripe account: the key ring that opens its
    stored key, and where Stripe's API is."""

    box: SecretBox
    stripe: StripeSettings


@dataclass(frozen=True)
class PaymentLink:
    """A link where the customer pays, and the provider's id for it."""

    url: str
    ref: str


@dataclass(frozen=True)
class CheckoutPlan:
    """What a cart's checkout will charge, read in one transaction and completed in another.

    ``secret_key`` is the tenant's decrypted Stripe key, None when they have no account; it is
    kept out of ``repr`` so it never reaches a log."""

    tenant_id: str
    contact_id: str
    order_id: str
    currency: str
    lines: tuple[Line, ...]
    digest: str
    secret_key: str | None = field(default=None, repr=False)
    success_url: str | None = None

    @property
    def total(self) -> Decimal:
        """The sum of the lines."""
        return sum((line.subtotal for line in self.lines), ZERO)

    @property
    def idempotency_key(self) -> str:
        """The same cart gets the same Stripe session, however often it is asked for."""
        return f"sales-order-{self.order_id}-{self.digest[:24]}"


@dataclass(frozen=True)
class Checkout:
    """An order after checkout. ``payment_failed``: the tenant's Stripe account did not give a
    link, so the order waits for an operator like one without an account."""

    order: Order
    cart: Cart
    payment_failed: bool = False

    @property
    def needs_operator(self) -> bool:
        """Whether a person must send the customer a way to pay."""
        return self.order.status == Status.AWAITING_OPERATOR.value


def minor_units(amount: Decimal, currency: str) -> int:
    """An amount in the currency's smallest unit, as Stripe takes it (R$ 59,90 → 5990)."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return int(amount.to_integral_value(rounding=ROUND_HALF_UP))
    if code in THREE_DECIMAL:
        # Stripe wants thousandths rounded to tens for these (docs: currencies, "three-decimal").
        return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP)) * 10
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))


def _digest(currency: str, lines: Sequence[Line]) -> str:
    parts = [currency] + [f"{x.product_id}|{x.name}|{x.unit_price}|{x.quantity}" for x in lines]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


async def _check_available(session: AsyncSession, *, tenant_id: str, lines: Sequence[Line]) -> None:
    for line in lines:
        product = (
            None
            if line.product_id is None
            else await get_product(session, tenant_id=tenant_id, product_id=line.product_id)
        )
        if product is None or not product.active:
            raise OutOfStockError(line.name, 0)
        if product.stock is not None and product.stock < line.quantity:
            raise OutOfStockError(line.name, product.stock)


async def _replay_checkout(session: AsyncSession, write: OrderWrite) -> Checkout:
    order = await session.get_one(Order, write.order_id)
    return Checkout(order=order, cart=await cart_of(session, order))


async def prepare_checkout(
    session: AsyncSession,
    box: SecretBox | None,
    *,
    tenant_id: str,
    contact_id: str,
    source_key: str | None = None,
) -> CheckoutPlan | Checkout:
    """Read the contact's cart for checkout: its lines, checked against the catalog, and the
    tenant's Stripe key (none without a ``box``: the order will wait for an operator). A
    ``source_key`` already used returns that checkout's order."""
    source_key_of(source_key)
    if (write := await write_done(session, tenant_id=tenant_id, source_key=source_key)) is not None:
        return await _replay_checkout(session, write)
    order = await open_cart(session, tenant_id=tenant_id, contact_id=contact_id)
    cart = None if order is None else await cart_of(session, order)
    if order is None or cart is None or not cart.lines:
        raise EmptyCartError()
    await _check_available(session, tenant_id=tenant_id, lines=cart.lines)
    account = await get_stripe_account(session, tenant_id=tenant_id)
    return CheckoutPlan(
        tenant_id=tenant_id,
        contact_id=contact_id,
        order_id=order.id,
        currency=order.currency,
        lines=cart.lines,
        digest=_digest(order.currency, cart.lines),
        secret_key=None if account is None or box is None else box.decrypt(account.secret_key),
        success_url=None if account is None else account.success_url,
    )


def _session_params(plan: CheckoutPlan, locale: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "client_reference_id": plan.order_id,
        "metadata": {"order_id": plan.order_id},
        "line_items": [
            {
                "quantity": line.quantity,
                "price_data": {
                    "currency": plan.currency.lower(),
                    "unit_amount": minor_units(line.unit_price, plan.currency),
                    "product_data": {"name": line.name},
                },
            }
            for line in plan.lines
        ],
    }
    if plan.success_url:
        params["success_url"] = plan.success_url
    if locale:
        params["locale"] = locale
    return params


async def create_payment_link(
    plan: CheckoutPlan, stripe: StripeSettings, *, locale: str | None = None
) -> PaymentLink:
    """A Stripe Checkout Session for the plan's lines on the tenant's own account (priced from
    the order's snapshot). Call it outside any transaction: it waits on Stripe."""
    if plan.secret_key is None:
        raise PaymentLinkError("the tenant has no Stripe account")
    http = stripe_sdk.HTTPXClient(timeout=stripe.request_timeout_s)
    client = stripe_sdk.StripeClient(
        plan.secret_key,
        base_addresses={"api": stripe.api_base} if stripe.api_base else None,
        http_client=http,
        max_network_retries=stripe.max_network_retries,
    )
    try:
        created = await client.v1.checkout.sessions.create_async(
            cast(Any, _session_params(plan, locale)),
            {"idempotency_key": plan.idempotency_key},
        )
    except stripe_sdk.StripeError as exc:
        # Stripe's messages may quote part of a bad key: keep only the kind and status.
        raise PaymentLinkError(f"{type(exc).__name__} (HTTP {exc.http_status})") from None
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]
    if not created.url:
        raise PaymentLinkError("Stripe answered without a URL")
    return PaymentLink(url=created.url, ref=created.id)


async def _reserve(session: AsyncSession, *, tenant_id: str, lines: Sequence[Line]) -> None:
    """Take the lines out of stock, atomically per product (a racing order may get there first)."""
    for line in lines:
        if line.product_id is None:
            raise OutOfStockError(line.name, 0)
        result = await session.execute(
            update(Product)
            .where(
                Product.tenant_id == tenant_id,
                Product.id == line.product_id,
                Product.active.is_(True),
                or_(Product.stock.is_(None), Product.stock >= line.quantity),
            )
            # A null stock (not counted) stays null.
            .values(stock=Product.stock - line.quantity)
            .execution_options(synchronize_session="fetch")
        )
        if not cast(CursorResult[Any], result).rowcount:
            product = await get_product(session, tenant_id=tenant_id, product_id=line.product_id)
            available = 0 if product is None or not product.active else product.stock or 0
            raise OutOfStockError(line.name, available)


async def complete_checkout(
    session: AsyncSession,
    plan: CheckoutPlan,
    link: PaymentLink | None,
    *,
    now: datetime,
    source_key: str | None = None,
) -> Checkout:
    """Close the cart: reserve its stock and store the payment link (awaiting payment), or,
    with no link, leave it for an operator (awaiting operator)."""
    source_key_of(source_key)
    done = await write_done(session, tenant_id=plan.tenant_id, source_key=source_key)
    if done is not None:
        return await _replay_checkout(session, done)
    order = await session.scalar(
        select(Order).where(Order.tenant_id == plan.tenant_id, Order.id == plan.order_id)
    )
    if order is None or order.status != Status.CART.value:
        raise CartChangedError()
    cart = await cart_of(session, order)
    if _digest(order.currency, cart.lines) != plan.digest:
        raise CartChangedError()
    claimed = await claim_write(
        session, order, source_key=source_key, action="checkout", item="", now=now
    )
    if not claimed:
        done = await write_done(session, tenant_id=plan.tenant_id, source_key=source_key)
        assert done is not None
        return await _replay_checkout(session, done)
    await _reserve(session, tenant_id=plan.tenant_id, lines=cart.lines)
    order.status = (Status.AWAITING_PAYMENT if link else Status.AWAITING_OPERATOR).value
    order.payment_url = link.url if link else None
    order.payment_ref = link.ref if link else None
    order.total = total_of((line.unit_price, line.quantity) for line in cart.lines)
    order.updated_at = now
    await session.flush()
    return Checkout(
        order=order,
        cart=await cart_of(session, order),
        payment_failed=link is None and plan.secret_key is not None,
    )


async def checkout(
    db: Database,
    payments: Payments | None,
    *,
    tenant_id: str,
    contact_id: str,
    now: datetime,
    source_key: str | None = None,
    locale: str | None = None,
) -> Checkout:
    """Check out the contact's cart: a Stripe payment link when the tenant has an account
    (awaiting payment); otherwise, without ``payments``, or when Stripe fails, awaiting an
    operator (the caller hands the conversation to a person). A ``source_key`` already used
    returns that checkout's order and asks Stripe nothing."""
    if payments is None:
        log.warning("sales.payments_not_configured", tenant_id=tenant_id)
    async with db.read() as session:
        prepared = await prepare_checkout(
            session,
            payments.box if payments else None,
            tenant_id=tenant_id,
            contact_id=contact_id,
            source_key=source_key,
        )
    if isinstance(prepared, Checkout):
        return prepared
    link = None
    if prepared.secret_key is not None and payments is not None:
        try:
            link = await create_payment_link(prepared, payments.stripe, locale=locale)
        except PaymentLinkError as exc:
            log.warning("sales.payment_link_failed", order_id=prepared.order_id, error=str(exc))
    async with db.transaction() as session:
        return await complete_checkout(session, prepared, link, now=now, source_key=source_key)
