"""Payments of orders on the tenant's own Stripe account: its webhook endpoint (one URL per
tenant, signed with the tenant's own secret) and what each event does to the order.

An event is received (signature checked, kept once, queued in one transaction); its job reads
the Checkout Session or the charge back from Stripe, so the order follows what Stripe says now
whatever the order the events came in: paid, cancelled when the link expired or an
asynchronous payment failed, cancelled and refunded when the payment was given back in full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe as stripe_sdk
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core import stripe_events
from whatsapp_ai.core.config import StripeSettings
from whatsapp_ai.core.crypto import SecretBox
from whatsapp_ai.core.db import Database
from whatsapp_ai.core.queue import PermanentJobError, Queue
from whatsapp_ai.sales.accounts import get_stripe_account
from whatsapp_ai.sales.errors import InvalidInputError
from whatsapp_ai.sales.models import Order, StripeAccount
from whatsapp_ai.sales.orders import get_order, set_status
from whatsapp_ai.sales.values import Status

EVENT_JOB = "sales.stripe_event"
SESSION_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)
HANDLED = SESSION_EVENTS | {"charge.refunded"}
# What the order became, as the operators' event names it.
PAID, EXPIRED, PAYMENT_FAILED, REFUNDED = "paid", "expired", "payment_failed", "refunded"
_SECRET = re.compile(r"^whsec_[A-Za-z0-9+/=_-]{8,200}$")


def endpoint_of(tenant_id: str) -> str:
    """The name events of the tenant's account are kept under."""
    return f"sales:{tenant_id}"


def webhook_path(tenant_id: str) -> str:
    """The tenant's own webhook URL (after the platform's public address)."""
    return f"/sales/stripe/webhook/{tenant_id}"


async def set_webhook_secret(
    session: AsyncSession, box: SecretBox, *, tenant_id: str, secret: str | None, now: datetime
) -> StripeAccount | None:
    """Keep (encrypted) the signing secret of the tenant's webhook endpoint; None forgets it.
    None when the tenant has no Stripe account."""
    account = await get_stripe_account(session, tenant_id=tenant_id)
    if account is None:
        return None
    if secret is not None and not _SECRET.match(secret.strip()):
        raise InvalidInputError("a Stripe signing secret (whsec_…)", field="secret")
    account.webhook_secret = None if secret is None else box.encrypt(secret.strip())
    account.updated_at = now
    await session.flush()
    return account


@dataclass(frozen=True)
class StripeCall:
    """What a job needs to read an event's object back from the tenant's account."""

    secret_key: str
    settings: StripeSettings


async def receive_payment_event(
    db: Database,
    queue: Queue,
    box: SecretBox,
    settings: StripeSettings,
    *,
    tenant_id: str,
    payload: bytes,
    header: str | None,
    now: datetime,
) -> stripe_events.Received:
    """Check the signature with the tenant's secret, keep the event once and queue its
    handling (one transaction, in the tenant's scope); BadWebhookError (400) changes nothing,
    the same for a tenant without an endpoint as for a bad signature."""
    async with db.read() as session:
        account = await get_stripe_account(session, tenant_id=tenant_id)
    secrets = (
        [box.decrypt(account.webhook_secret)]
        if account is not None and account.webhook_secret
        else []
    )
    event = stripe_events.verify(payload, header, secrets, tolerance_s=settings.webhook_tolerance_s)
    endpoint = endpoint_of(tenant_id)
    async with db.transaction() as session:
        received = await stripe_events.record(
            session, endpoint=endpoint, event=event, header=header or "", now=now,
            tenant_id=tenant_id,
        )  # fmt: skip
        if received.duplicate:
            return received
        if event["type"] not in HANDLED:
            await stripe_events.mark(
                session, endpoint=endpoint, event_id=event["id"],
                outcome=stripe_events.IGNORED, detail="not an event sales uses", now=now,
            )  # fmt: skip
            return received
        await stripe_events.enqueue(
            session, queue, kind=EVENT_JOB, endpoint=endpoint, received=received,
            tenant_id=tenant_id,
        )  # fmt: skip
    return received


async def stripe_call(
    session: AsyncSession, box: SecretBox, settings: StripeSettings, *, tenant_id: str
) -> StripeCall | None:
    """The tenant's key to read objects back with (None: the account was disconnected)."""
    account = await get_stripe_account(session, tenant_id=tenant_id)
    if account is None:
        return None
    return StripeCall(box.decrypt(account.secret_key), settings)


@dataclass(frozen=True)
class Fetched:
    """What Stripe says now of the object an event was about, and the order it pays."""

    kind: str
    session: dict[str, Any]
    refunded: bool = False


async def fetch_payment(call: StripeCall, *, kind: str, object_id: str) -> Fetched | None:
    """Read the event's Checkout Session back (for a refund, the charge and the session of
    its payment); None when Stripe has no such object."""
    async with stripe_events.StripeApi(call.secret_key, call.settings) as client:
        try:
            if kind in SESSION_EVENTS:
                found = await client.v1.checkout.sessions.retrieve_async(object_id)
                return Fetched(kind, found.to_dict())
            charge = (await client.v1.charges.retrieve_async(object_id)).to_dict()
            intent = charge.get("payment_intent")
            if not intent:
                return None
            sessions = await client.v1.checkout.sessions.list_async(
                {"payment_intent": str(intent), "limit": 1}
            )
            if not sessions.data:
                return None
            return Fetched(kind, sessions.data[0].to_dict(), refunded=bool(charge.get("refunded")))
        except stripe_sdk.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise PermanentJobError(f"Stripe refused: HTTP {exc.http_status}") from None


@dataclass(frozen=True)
class OrderPayment:
    """An order whose payment moved: ``change`` is paid, expired, payment_failed or refunded."""

    order: Order
    change: str


def _order_id(found: dict[str, Any]) -> str | None:
    metadata = found.get("metadata") or {}
    value = metadata.get("order_id") or found.get("client_reference_id")
    return str(value) if value else None


async def apply_payment(
    session: AsyncSession, *, tenant_id: str, fetched: Fetched, now: datetime
) -> list[OrderPayment]:
    """Move the order to what Stripe says (each change once; nothing when it is there
    already, or when the session is not the order's payment link)."""
    checkout = fetched.session
    order_id = _order_id(checkout)
    order = (
        None
        if order_id is None
        else await get_order(session, tenant_id=tenant_id, order_id=order_id)
    )
    if order is None or order.payment_ref != checkout.get("id"):
        return []
    done: list[OrderPayment] = []
    paid = checkout.get("status") == "complete" and checkout.get("payment_status") in (
        "paid", "no_payment_required",
    )  # fmt: skip
    waiting = order.status == Status.AWAITING_PAYMENT.value
    if (paid or fetched.refunded) and waiting:
        await set_status(
            session, tenant_id=tenant_id, order_id=order.id, status=Status.PAID, now=now
        )
        done.append(OrderPayment(order, PAID))
    elif waiting and checkout.get("status") == "expired":
        await set_status(
            session, tenant_id=tenant_id, order_id=order.id, status=Status.CANCELLED, now=now
        )
        done.append(OrderPayment(order, EXPIRED))
    elif waiting and fetched.kind == "checkout.session.async_payment_failed":
        await set_status(
            session, tenant_id=tenant_id, order_id=order.id, status=Status.CANCELLED, now=now
        )
        done.append(OrderPayment(order, PAYMENT_FAILED))
    if fetched.refunded and order.status == Status.PAID.value and order.refunded_at is None:
        # The money went back: the order ends (its goods may be out already: stock stays).
        order.status = Status.CANCELLED.value
        order.refunded_at = now
        order.updated_at = now
        await session.flush()
        done.append(OrderPayment(order, REFUNDED))
    return done
