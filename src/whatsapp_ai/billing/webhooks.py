"""Events from the platform's Stripe account: received (signature checked, kept once, queued
in one transaction) and handled by a job that reads the subscription back from Stripe and
brings the tenant's plan to it, with an audit record of every change.

An event for a customer no tenant has is recorded and acknowledged, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe as stripe_sdk

from whatsapp_ai.billing import stripe_billing
from whatsapp_ai.billing.alerts import publish_after_commit
from whatsapp_ai.core import stripe_events
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.config import StripeSettings
from whatsapp_ai.core.db import Database, system_scope, tenant_scope
from whatsapp_ai.core.events import Event, EventBus
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.queue import LeasedJob, PermanentJobError, Queue

ENDPOINT = "billing"
EVENT_JOB = "billing.stripe_event"
TRIAL_EVENT = "billing.trial_will_end"
PLAN_EVENT = "billing.plan_changed"
SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
    }
)
INVOICE_EVENTS = frozenset({"invoice.paid", "invoice.payment_failed"})
HANDLED = (
    SUBSCRIPTION_EVENTS
    | INVOICE_EVENTS
    | {
        "checkout.session.completed",
        "customer.subscription.trial_will_end",
    }
)

log = get_logger(__name__)


def _subscription_of(obj: dict[str, Any]) -> str | None:
    """The subscription an object names: a session's or an invoice's (both API shapes)."""
    found = obj.get("subscription")
    if found is None:
        parent = obj.get("parent") or {}
        found = (parent.get("subscription_details") or {}).get("subscription")
    if isinstance(found, dict):
        found = found.get("id")
    return str(found) if found else None


def _customer_of(obj: dict[str, Any]) -> str | None:
    found = obj.get("customer")
    if isinstance(found, dict):
        found = found.get("id")
    return str(found) if found else None


@dataclass
class StripeWebhooks:
    """The platform's Stripe webhook endpoint and the job that applies its events."""

    db: Database
    queue: Queue
    clock: Clock
    settings: StripeSettings
    bus: EventBus | None = None

    async def receive(self, payload: bytes, header: str | None) -> stripe_events.Received:
        """Check the signature, keep the event once and queue its handling (one transaction);
        BadWebhookError (400) changes nothing."""
        event = stripe_events.verify(
            payload,
            header,
            self.settings.signing_secrets(),
            tolerance_s=self.settings.webhook_tolerance_s,
        )
        obj = stripe_events.object_of(event)
        now = self.clock.now()
        with system_scope():  # the customer says which tenant, found by the job
            async with self.db.transaction() as session:
                received = await stripe_events.record(
                    session, endpoint=ENDPOINT, event=event, header=header or "", now=now
                )
                if received.duplicate:
                    return received
                if event["type"] not in HANDLED:
                    await stripe_events.mark(
                        session, endpoint=ENDPOINT, event_id=event["id"],
                        outcome=stripe_events.IGNORED, detail="not an event billing uses", now=now,
                    )  # fmt: skip
                    return received
                await self.queue.enqueue(
                    session,
                    EVENT_JOB,
                    {
                        "event_id": event["id"],
                        "type": event["type"],
                        "object_id": obj.get("id"),
                        "customer": _customer_of(obj),
                        "subscription": _subscription_of(obj),
                        "trial_end": obj.get("trial_end"),
                    },
                    idempotency_key=f"stripe:{ENDPOINT}:{event['id']}",
                )
        return received

    async def handle(self, payload: dict[str, Any], job: LeasedJob) -> None:
        """Apply one event (a job: Stripe unreachable → retried, then a dead letter)."""
        del job
        event_id, kind = str(payload["event_id"]), str(payload["type"])
        customer = payload.get("customer")
        with system_scope():
            async with self.db.read() as session:
                tenant_id = (
                    None
                    if not customer
                    else await stripe_billing.tenant_of_customer(session, customer_id=customer)
                )
            if tenant_id is None:
                await self._mark(event_id, stripe_events.UNKNOWN_CUSTOMER, f"customer {customer}")
                log.warning("billing.stripe_unknown_customer", event_id=event_id)
                return
        with tenant_scope(tenant_id):
            outcome, detail = await self._apply(tenant_id, event_id, kind, payload)
        with system_scope():
            await self._mark(event_id, outcome, detail, tenant_id)

    async def _mark(
        self, event_id: str, outcome: str, detail: str, tenant_id: str | None = None
    ) -> None:
        async with self.db.transaction() as session:
            await stripe_events.mark(
                session, endpoint=ENDPOINT, event_id=event_id, outcome=outcome,
                detail=detail, now=self.clock.now(), tenant_id=tenant_id,
            )  # fmt: skip

    async def _apply(
        self, tenant_id: str, event_id: str, kind: str, payload: dict[str, Any]
    ) -> tuple[str, str]:
        if kind == "customer.subscription.trial_will_end":
            await self._trial_ends(tenant_id, payload)
            return stripe_events.APPLIED, "admins told"
        subscription_id = payload.get("subscription")
        invoice_unpaid = False
        async with stripe_events.StripeApi(
            self.settings.secret_key.get_secret_value(), self.settings
        ) as client:
            try:
                if kind in SUBSCRIPTION_EVENTS:
                    subscription_id = payload.get("object_id")
                elif kind in INVOICE_EVENTS:
                    invoice = (
                        await client.v1.invoices.retrieve_async(payload["object_id"])
                    ).to_dict()
                    subscription_id = _subscription_of(invoice) or subscription_id
                    invoice_unpaid = (
                        kind == "invoice.payment_failed" and invoice.get("status") == "open"
                    )
                elif subscription_id is None:  # a Checkout Session read back
                    found = await client.v1.checkout.sessions.retrieve_async(payload["object_id"])
                    subscription_id = _subscription_of(found.to_dict())
                if not subscription_id:
                    return stripe_events.IGNORED, "no subscription"
                subscription = (
                    await client.v1.subscriptions.retrieve_async(str(subscription_id))
                ).to_dict()
            except stripe_sdk.InvalidRequestError as exc:
                if exc.http_status == 404:
                    return stripe_events.IGNORED, "gone from Stripe"
                raise PermanentJobError(f"Stripe refused: HTTP {exc.http_status}") from None
        now = self.clock.now()
        async with self.db.transaction() as session:
            before = await stripe_billing.plan_state(session, tenant_id=tenant_id)
            outcome = await stripe_billing.apply_subscription(
                session,
                tenant_id=tenant_id,
                subscription=subscription,
                settings=self.settings,
                actor=f"stripe:{event_id}",
                now=now,
                invoice_unpaid=invoice_unpaid,
            )
            after = await stripe_billing.plan_state(session, tenant_id=tenant_id)
            if after != before:
                data = {"plan": after[0], "status": after[1], "event_id": event_id}
                publish_after_commit(session, self.bus, Event(tenant_id, PLAN_EVENT, data))
        return outcome

    async def _trial_ends(self, tenant_id: str, payload: dict[str, Any]) -> None:
        trial_end = payload.get("trial_end")
        ends = (
            datetime.fromtimestamp(int(trial_end), UTC).isoformat()
            if isinstance(trial_end, int)
            else None
        )
        async with self.db.transaction() as session:
            publish_after_commit(
                session, self.bus, Event(tenant_id, TRIAL_EVENT, {"trial_end": ends})
            )
