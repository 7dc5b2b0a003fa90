"""Plans sold through the platform's Stripe account: the tenant's customer, a Checkout Session
to subscribe, the Customer Portal to manage or change plan, and the tenant's plan brought to
what Stripe says of its subscription.

The network calls run outside any transaction (no lock waits on Stripe); each carries an
idempotency key, so a retried request gets the same customer or session.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import stripe as stripe_sdk
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.billing.errors import BillingError, UnknownPlanError
from whatsapp_ai.billing.stripe_models import StripeCustomer
from whatsapp_ai.billing.subscriptions import FREE, get_subscription, mark_past_due, set_plan
from whatsapp_ai.core.config import StripeSettings
from whatsapp_ai.core.db import insert_ignore
from whatsapp_ai.core.errors import ConflictError, InvalidInputError, NotFoundError
from whatsapp_ai.core.stripe_events import StripeApi

# Stripe statuses of a subscription that still exists (a plan change edits it, not a new one).
LIVE = frozenset({"active", "trialing", "past_due", "unpaid", "paused"})
ENDED = frozenset({"canceled", "incomplete_expired"})


class StripeNotConfiguredError(BillingError):
    """The platform sells no plans through Stripe (no key, or no price for the plan)."""

    status = 503
    code = "stripe_not_configured"


class StripeUnavailableError(BillingError):
    """Stripe refused or could not be reached; nothing was changed."""

    status = 502
    code = "stripe_unavailable"


class NoStripeCustomerError(BillingError, NotFoundError):
    """The tenant never subscribed through Stripe."""


class AlreadyOnPlanError(BillingError, ConflictError):
    """The tenant's Stripe subscription already sells this plan."""


@dataclass(frozen=True)
class Session:
    """Where to send the admin: Stripe Checkout (subscribe) or the Customer Portal."""

    url: str
    kind: str
    id: str


def _key(settings: StripeSettings) -> str:
    key = settings.secret_key.get_secret_value()
    if not key:
        raise StripeNotConfiguredError("plans are not sold through Stripe on this platform")
    return key


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:32]


def _failed(exc: stripe_sdk.StripeError) -> StripeUnavailableError:
    # Stripe's messages may quote part of a key: keep only the kind and status.
    return StripeUnavailableError(f"Stripe: {type(exc).__name__} (HTTP {exc.http_status})")


async def get_customer(session: AsyncSession, *, tenant_id: str) -> StripeCustomer | None:
    """The tenant's Stripe customer."""
    return await session.scalar(select(StripeCustomer).where(StripeCustomer.tenant_id == tenant_id))


async def tenant_of_customer(session: AsyncSession, *, customer_id: str) -> str | None:
    """Which tenant a Stripe customer is (looks across tenants: run it in the system scope)."""
    return await session.scalar(
        select(StripeCustomer.tenant_id).where(StripeCustomer.customer_id == customer_id)
    )


async def link_customer(
    session: AsyncSession, *, tenant_id: str, customer_id: str, now: datetime
) -> StripeCustomer:
    """Keep the tenant's Stripe customer (the first one stays: creating it is idempotent)."""
    await insert_ignore(
        session,
        StripeCustomer,
        {"tenant_id": tenant_id, "customer_id": customer_id, "created_at": now, "updated_at": now},
        conflict=["tenant_id"],
    )
    found = await get_customer(session, tenant_id=tenant_id)
    assert found is not None
    return found


def price_for(settings: StripeSettings, plan: str) -> str:
    """The Stripe price that sells ``plan``."""
    if plan == FREE:
        raise InvalidInputError("Free needs no payment", field="plan")
    price = settings.prices.get(plan)
    if not price:
        raise InvalidInputError(f"plan {plan!r} is not sold through Stripe", field="plan")
    return price


async def create_customer(settings: StripeSettings, *, tenant_id: str, name: str) -> str:
    """A Stripe customer for the tenant (the same one however often it is asked for)."""
    async with StripeApi(_key(settings), settings) as client:
        try:
            customer = await client.v1.customers.create_async(
                {"name": name, "metadata": {"tenant_id": tenant_id}},
                {"idempotency_key": f"billing-customer-{tenant_id}"},
            )
        except stripe_sdk.StripeError as exc:
            raise _failed(exc) from None
    return customer.id


async def start_checkout(
    settings: StripeSettings,
    *,
    tenant_id: str,
    plan: str,
    customer: StripeCustomer,
    request_key: str = "",
) -> Session:
    """Subscribe the tenant to ``plan``: a Checkout Session, or, when it has a live
    subscription, the Customer Portal confirming the change of plan (never a second
    subscription)."""
    price = price_for(settings, plan)
    key = _key(settings)
    live = customer.subscription_id is not None and customer.stripe_status in LIVE
    if live and customer.price_id == price:
        raise AlreadyOnPlanError(f"the subscription is on {plan!r} already", field="plan")
    idempotency = _digest(
        tenant_id, plan, price, customer.customer_id, customer.subscription_id,
        customer.updated_at.isoformat(), request_key,
    )  # fmt: skip
    async with StripeApi(key, settings) as client:
        try:
            if live and customer.item_id:
                return await _portal(
                    client, settings, customer, idempotency, change=(customer.item_id, price)
                )
            params: dict[str, Any] = {
                "mode": "subscription",
                "customer": customer.customer_id,
                "client_reference_id": tenant_id,
                "line_items": [{"price": price, "quantity": 1}],
                "metadata": {"tenant_id": tenant_id, "plan": plan},
                "subscription_data": {"metadata": {"tenant_id": tenant_id, "plan": plan}},
            }
            if settings.success_url:
                params["success_url"] = settings.success_url
            if settings.cancel_url:
                params["cancel_url"] = settings.cancel_url
            created = await client.v1.checkout.sessions.create_async(
                cast(Any, params), {"idempotency_key": f"billing-checkout-{idempotency}"}
            )
        except stripe_sdk.StripeError as exc:
            raise _failed(exc) from None
    if not created.url:
        raise StripeUnavailableError("Stripe answered without a URL")
    return Session(url=created.url, kind="checkout", id=created.id)


async def open_portal(
    settings: StripeSettings, *, customer: StripeCustomer, request_key: str, now: datetime
) -> Session:
    """A Customer Portal session where the admin manages the subscription, payment methods
    and invoices (one per request key, or per minute without one)."""
    idempotency = _digest(customer.tenant_id, request_key or now.strftime("%Y%m%d%H%M"))
    async with StripeApi(_key(settings), settings) as client:
        try:
            return await _portal(client, settings, customer, idempotency)
        except stripe_sdk.StripeError as exc:
            raise _failed(exc) from None


async def _portal(
    client: stripe_sdk.StripeClient,
    settings: StripeSettings,
    customer: StripeCustomer,
    idempotency: str,
    change: tuple[str, str] | None = None,
) -> Session:
    params: dict[str, Any] = {"customer": customer.customer_id}
    if settings.portal_return_url:
        params["return_url"] = settings.portal_return_url
    if change is not None:
        item, price = change
        params["flow_data"] = {
            "type": "subscription_update_confirm",
            "subscription_update_confirm": {
                "subscription": customer.subscription_id,
                "items": [{"id": item, "price": price, "quantity": 1}],
            },
        }
    created = await client.v1.billing_portal.sessions.create_async(
        cast(Any, params), {"idempotency_key": f"billing-portal-{idempotency}"}
    )
    return Session(url=created.url, kind="portal", id=created.id)


def _item_of(subscription: dict[str, Any]) -> tuple[str | None, str | None]:
    """The first item of a subscription and its price id."""
    items = (subscription.get("items") or {}).get("data") or []
    if not items:
        return None, None
    price = items[0].get("price") or {}
    return items[0].get("id"), price.get("id") if isinstance(price, dict) else str(price)


def _when(value: object) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if isinstance(value, int) else None


async def apply_subscription(
    session: AsyncSession,
    *,
    tenant_id: str,
    subscription: dict[str, Any],
    settings: StripeSettings,
    actor: str,
    now: datetime,
    invoice_unpaid: bool = False,
) -> tuple[str, str]:
    """Bring the tenant's plan to what Stripe says of its subscription now (read back from
    Stripe, so the order events came in does not matter); (outcome, detail).

    Active or trialing: its plan; past due or unpaid (or ``invoice_unpaid``): the plan for the
    grace period, then Free's features; paused: Free's features; canceled: Free.
    """
    customer = await get_customer(session, tenant_id=tenant_id)
    if customer is None:
        return "ignored", "no Stripe customer for this tenant"
    sub_id, status = str(subscription.get("id")), str(subscription.get("status"))
    if customer.subscription_id not in (None, sub_id) and status not in LIVE:
        return "ignored", f"{sub_id} ({status}) is not the tenant's subscription"
    if status not in LIVE | ENDED:
        return "ignored", f"subscription {status}: waiting for its first payment"
    item_id, price_id = _item_of(subscription)
    plan = settings.plan_of_price(price_id or "")
    if status in LIVE and plan is None:
        return "ignored", f"price {price_id} sells no plan of this platform"
    new_subscription = customer.subscription_id != sub_id
    customer.subscription_id, customer.item_id, customer.price_id = sub_id, item_id, price_id
    customer.stripe_status = status
    customer.trial_end = _when(subscription.get("trial_end"))
    customer.updated_at = now
    current = await get_subscription(session, tenant_id=tenant_id)
    reason = f"Stripe subscription {sub_id} {status}"
    try:
        if plan is not None and (status in ("past_due", "unpaid") or invoice_unpaid):
            if current is None or current.plan != plan:
                await set_plan(session, tenant_id=tenant_id, plan=plan, actor=actor, now=now,
                               reason=reason)  # fmt: skip
            await mark_past_due(
                session, tenant_id=tenant_id, actor=actor, now=now,
                grace=timedelta(days=settings.grace_days), reason=f"{reason}: payment failed",
            )  # fmt: skip
            return "applied", f"{plan} past_due"
        want = (FREE, "active") if status in ENDED else (plan or FREE, status)
        if current is not None and (current.plan, current.status) == want:
            await session.flush()
            return "applied", f"{want[0]} {want[1]} (unchanged)"
        anchor = _when(subscription.get("billing_cycle_anchor")) if new_subscription else None
        await set_plan(
            session, tenant_id=tenant_id, plan=want[0], status=want[1], actor=actor, now=now,
            reason=reason, billing_anchor=anchor if status not in ENDED else None,
        )  # fmt: skip
    except UnknownPlanError:
        return "ignored", f"plan {plan!r} does not exist"
    return "applied", f"{want[0]} {want[1]}"


async def plan_state(session: AsyncSession, *, tenant_id: str) -> tuple[str | None, str | None]:
    """The tenant's plan and status (None, None without a subscription)."""
    current = await get_subscription(session, tenant_id=tenant_id)
    return (None, None) if current is None else (current.plan, current.status)
