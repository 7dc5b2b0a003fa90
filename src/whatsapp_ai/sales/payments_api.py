"""The tenant's Stripe webhook for order payments: its signing secret (tenant admins) and the
endpoint Stripe posts to (one URL per tenant, signed with the tenant's secret)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel

from whatsapp_ai.core.db import enter_tenant
from whatsapp_ai.core.errors import NotFoundError
from whatsapp_ai.core.http import Principal, require, runtime
from whatsapp_ai.core.stripe_events import SIGNATURE_HEADER, BadWebhookError
from whatsapp_ai.sales import service
from whatsapp_ai.sales.schemas import WebhookSecretIn

router = APIRouter(prefix="/sales", tags=["sales"])
Writer = Annotated[Principal, Depends(require("sales:write"))]
TenantId = Annotated[str, Path(min_length=1, max_length=40)]


class PaymentWebhookAck(BaseModel):
    """The event was received; ``duplicate``: it had been received before (not applied
    again)."""

    received: bool
    duplicate: bool


class PaymentWebhookOut(BaseModel):
    """The tenant's endpoint for Stripe's payment events."""

    webhook_path: str
    webhook_configured: bool


@router.put("/stripe-account/webhook", response_model=PaymentWebhookOut)
async def put_webhook_secret(
    request: Request, caller: Writer, body: WebhookSecretIn
) -> PaymentWebhookOut:
    """Set the signing secret of the endpoint added in the tenant's Stripe dashboard at
    ``webhook_path``: paid, expired and refunded checkouts then move the order."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        account = await service.set_webhook_secret(
            session, rt.box, tenant_id=caller.tenant_id,
            secret=body.secret.get_secret_value(), now=rt.clock.now(),
        )  # fmt: skip
    if account is None:
        raise NotFoundError("connect the Stripe account first (PUT /sales/stripe-account)")
    return PaymentWebhookOut(
        webhook_path=service.webhook_path(caller.tenant_id), webhook_configured=True
    )


@router.delete("/stripe-account/webhook", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook_secret(request: Request, caller: Writer) -> Response:
    """Forget the signing secret: payment events are refused until a new one is set."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        await service.set_webhook_secret(
            session, rt.box, tenant_id=caller.tenant_id, secret=None, now=rt.clock.now()
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/stripe/webhook/{tenant_id}", response_model=PaymentWebhookAck)
async def payment_webhook(request: Request, tenant_id: TenantId) -> PaymentWebhookAck:
    """Stripe's events for the tenant's own account, signed with the tenant's secret: stored
    once and applied by a job; unsigned, badly signed, stale or replayed (or no endpoint for
    this tenant): 400, nothing changes."""
    rt = runtime(request)
    if not tenant_id.isalnum():
        raise BadWebhookError("no signing secret is configured for this endpoint")
    # The signature, checked with this tenant's own secret, proves the tenant.
    enter_tenant(tenant_id)
    received = await service.receive_payment_event(
        rt.db, rt.queue, rt.box, rt.settings.stripe,
        tenant_id=tenant_id, payload=await request.body(),
        header=request.headers.get(SIGNATURE_HEADER), now=rt.clock.now(),
    )  # fmt: skip
    return PaymentWebhookAck(received=True, duplicate=received.duplicate)
