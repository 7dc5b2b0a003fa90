"""Billing through Stripe: an admin subscribes or changes plan (Stripe Checkout, or the
Customer Portal for a live subscription) and manages payment in the portal; Stripe's events
arrive at the webhook."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from whatsapp_ai.billing import plans, stripe_billing
from whatsapp_ai.billing.errors import UnknownPlanError
from whatsapp_ai.billing.stripe_models import StripeCustomer
from whatsapp_ai.billing.webhooks import StripeWebhooks
from whatsapp_ai.core.errors import InvalidInputError
from whatsapp_ai.core.http import Principal, Runtime, require, runtime
from whatsapp_ai.core.inputs import Input
from whatsapp_ai.core.stripe_events import SIGNATURE_HEADER
from whatsapp_ai.identity import service as identity

router = APIRouter(prefix="/billing/stripe", tags=["billing"])
Writer = Annotated[Principal, Depends(require("settings:write"))]
RequestKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=100)]


class CheckoutIn(Input):
    """The plan to subscribe to (or change to)."""

    model_config = ConfigDict(extra="forbid")

    plan: str = Field(min_length=1, max_length=32)


class StripeSessionOut(BaseModel):
    """Where to send the admin: ``checkout`` (subscribe) or ``portal`` (manage, or confirm a
    change of plan)."""

    url: str
    kind: str
    id: str


class WebhookAck(BaseModel):
    """The event was received; ``duplicate``: it had been received before (not applied
    again)."""

    received: bool
    duplicate: bool


def webhooks(rt: Runtime) -> StripeWebhooks:
    """The platform's Stripe endpoint on the application's runtime."""
    return StripeWebhooks(rt.db, rt.queue, rt.clock, rt.settings.stripe, rt.bus)


async def _customer(rt: Runtime, tenant_id: str) -> StripeCustomer:
    async with rt.db.read() as session:
        customer = await stripe_billing.get_customer(session, tenant_id=tenant_id)
        tenant = await identity.get_tenant(session, tenant_id=tenant_id)
    if customer is not None:
        return customer
    name = tenant.name if tenant is not None else tenant_id
    customer_id = await stripe_billing.create_customer(
        rt.settings.stripe, tenant_id=tenant_id, name=name
    )
    async with rt.db.transaction() as session:
        return await stripe_billing.link_customer(
            session, tenant_id=tenant_id, customer_id=customer_id, now=rt.clock.now()
        )


@router.post("/checkout", response_model=StripeSessionOut)
async def checkout(
    request: Request, caller: Writer, body: CheckoutIn, request_key: RequestKey = None
) -> StripeSessionOut:
    """Subscribe to a paid plan through Stripe Checkout; with a live subscription, the Customer
    Portal confirms the change of plan instead. The same request (or Idempotency-Key) gets the
    same session."""
    rt = runtime(request)
    stripe_billing.price_for(rt.settings.stripe, body.plan)
    async with rt.db.read() as session:
        try:
            await plans.get_plan(session, code=body.plan)
        except UnknownPlanError:
            raise InvalidInputError(f"no plan {body.plan!r}", field="plan") from None
    customer = await _customer(rt, caller.tenant_id)
    found = await stripe_billing.start_checkout(
        rt.settings.stripe,
        tenant_id=caller.tenant_id,
        plan=body.plan,
        customer=customer,
        request_key=request_key or "",
    )
    return StripeSessionOut(url=found.url, kind=found.kind, id=found.id)


@router.post("/portal", response_model=StripeSessionOut)
async def portal(
    request: Request, caller: Writer, request_key: RequestKey = None
) -> StripeSessionOut:
    """A Customer Portal session: the subscription, payment methods and invoices (404 until
    the tenant subscribed through Stripe)."""
    rt = runtime(request)
    async with rt.db.read() as session:
        customer = await stripe_billing.get_customer(session, tenant_id=caller.tenant_id)
    if customer is None:
        raise stripe_billing.NoStripeCustomerError("this tenant has no Stripe customer yet")
    found = await stripe_billing.open_portal(
        rt.settings.stripe, customer=customer, request_key=request_key or "", now=rt.clock.now()
    )
    return StripeSessionOut(url=found.url, kind=found.kind, id=found.id)


@router.post("/webhook", response_model=WebhookAck)
async def webhook(request: Request) -> WebhookAck:
    """Stripe's events for the platform's account, signed (Stripe-Signature) on the raw body:
    stored once and applied by a job; unsigned, badly signed, stale or replayed: 400."""
    rt = runtime(request)
    received = await webhooks(rt).receive(
        await request.body(), request.headers.get(SIGNATURE_HEADER)
    )
    return WebhookAck(received=True, duplicate=received.duplicate)
