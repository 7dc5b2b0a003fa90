"""Payment events of orders (a job per event from the tenant's own Stripe account): the order
follows what Stripe says, the customer is told on WhatsApp and the operators in the console.

The order's change, the message to the customer (queued for delivery) and the event's outcome
are written in one transaction: a job that runs twice changes and says nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.ai.agents import say
from whatsapp_ai.conversation import service as conversation
from whatsapp_ai.conversation.lifecycle import Lifecycle
from whatsapp_ai.core import i18n, stripe_events
from whatsapp_ai.core.config import StripeSettings
from whatsapp_ai.core.crypto import SecretBox
from whatsapp_ai.core.db import Database, tenant_scope
from whatsapp_ai.core.events import Event
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.queue import LeasedJob
from whatsapp_ai.sales import service as sales

# What the customer is told of each change (an expired link is not worth a message).
CUSTOMER_TEXTS = {
    "paid": "sales.order_paid",
    "refunded": "sales.order_refunded",
    "payment_failed": "sales.payment_failed",
}

log = get_logger(__name__)


@dataclass
class SalesPayments:
    """The job that applies a payment event of a tenant's Stripe account."""

    db: Database
    lifecycle: Lifecycle
    box: SecretBox
    settings: StripeSettings
    default_channel: str

    async def handle(self, payload: dict[str, Any], job: LeasedJob) -> None:
        """Read the event's object back from Stripe and move the order (Stripe unreachable:
        retried, then a dead letter)."""
        del job
        tenant_id = str(payload["tenant_id"])
        with tenant_scope(tenant_id):
            await self._handle(tenant_id, payload)

    async def _handle(self, tenant_id: str, payload: dict[str, Any]) -> None:
        endpoint, event_id = str(payload["endpoint"]), str(payload["event_id"])
        async with self.db.read() as session:
            call = await sales.stripe_call(session, self.box, self.settings, tenant_id=tenant_id)
        fetched = (
            None
            if call is None or not payload.get("object_id")
            else await sales.fetch_payment(
                call, kind=str(payload["type"]), object_id=str(payload["object_id"])
            )
        )
        async with self.db.transaction() as session:
            changes = (
                []
                if fetched is None
                else await sales.apply_payment(
                    session, tenant_id=tenant_id, fetched=fetched, now=self.lifecycle.clock.now()
                )
            )
            for change in changes:
                await self._tell(session, change)
            outcome = stripe_events.APPLIED if fetched is not None else stripe_events.IGNORED
            detail = (
                "no such object (or no account)"
                if fetched is None
                else ", ".join(f"order {c.order.id} {c.change}" for c in changes) or "no change"
            )
            await stripe_events.mark(
                session, endpoint=endpoint, event_id=event_id, outcome=outcome, detail=detail,
                now=self.lifecycle.clock.now(),
            )  # fmt: skip
        log.info("sales.payment_event", event_id=event_id, outcome=outcome, detail=detail)

    async def _tell(self, session: AsyncSession, change: sales.OrderPayment) -> None:
        order = change.order
        self.lifecycle.emit_raw(
            session,
            Event(
                tenant_id=order.tenant_id,
                kind=f"sales.order_{change.change}",
                data={
                    "order_id": order.id,
                    "contact_id": order.contact_id,
                    "status": order.status,
                    "total": str(order.total),
                    "currency": order.currency,
                },
            ),
        )
        key = CUSTOMER_TEXTS.get(change.change)
        if key is None:
            return
        channel = await conversation.latest_channel(
            session, tenant_id=order.tenant_id, contact_id=order.contact_id
        )
        thread, opened = await conversation.get_or_open(
            session,
            tenant_id=order.tenant_id,
            contact_id=order.contact_id,
            channel=channel or self.default_channel,
            now=self.lifecycle.clock.now(),
        )
        if opened:
            self.lifecycle.emit(
                session, thread, "conversation.opened", {"previous_id": thread.previous_id}
            )
        language = thread.language or "pt"
        text = i18n.text(language, key, total=say.money(order.total, order.currency, language))
        await self.lifecycle.say(
            session,
            thread,
            text,
            key=f"order:{order.id}:{change.change}",
            meta={"order_id": order.id},
        )
