"""Billing service, the module's public face: plans, each tenant's subscription, one gating
check, and the meter that reserves, settles and releases usage.

Other modules reach billing only through here (and ``billing.errors``). A gated request gets
``check`` (402 naming the feature and the cheapest plan that has it); metered work goes through
a ``Meter``: reserve before spending, settle with the real figure, release on failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.billing import alerts, metering
from whatsapp_ai.billing.alerts import BLOCKED_EVENT
from whatsapp_ai.billing.errors import PaymentRequiredError, QuotaExceededError
from whatsapp_ai.billing.features import (
    AGENTS,
    AI_TOKENS,
    CONSOLE_SEATS,
    CONTACTS,
    FEATURES,
    HUMAN_HANDOFF,
    KNOWLEDGE_BASE,
    KNOWLEDGE_DOCUMENTS,
    KNOWLEDGE_MB,
    MESSAGES,
    OWN_MODELS,
    TRANSCRIPTION_MINUTES,
    VOICE_NOTE_SECONDS,
    VOICE_NOTES,
    agent_feature,
)
from whatsapp_ai.billing.gating import Entitlements, check, entitlements, refusal
from whatsapp_ai.billing.metering import Reservation, Settled, overage_id
from whatsapp_ai.billing.plans import PlanView, cheapest_with, get_plan, list_plans
from whatsapp_ai.billing.subscriptions import (
    DEFAULT_GRACE,
    FREE,
    get_subscription,
    mark_past_due,
    plan_in_force,
    set_plan,
    start_subscription,
)
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.events import Event, EventBus
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.metrics import Metrics
from whatsapp_ai.core.queue import Queue

log = get_logger(__name__)

__all__ = [
    "AGENTS",
    "AI_TOKENS",
    "BLOCKED_EVENT",
    "CONSOLE_SEATS",
    "CONTACTS",
    "DEFAULT_GRACE",
    "FEATURES",
    "FREE",
    "HUMAN_HANDOFF",
    "KNOWLEDGE_BASE",
    "KNOWLEDGE_DOCUMENTS",
    "KNOWLEDGE_MB",
    "MESSAGES",
    "OWN_MODELS",
    "TRANSCRIPTION_MINUTES",
    "VOICE_NOTES",
    "VOICE_NOTE_SECONDS",
    "Entitlements",
    "Meter",
    "PaymentRequiredError",
    "PlanView",
    "QuotaExceededError",
    "Reservation",
    "Settled",
    "agent_feature",
    "allowed_agents",
    "cheapest_with",
    "check",
    "entitlements",
    "get_plan",
    "get_subscription",
    "list_plans",
    "mark_past_due",
    "overage_id",
    "plan_in_force",
    "refusal",
    "set_plan",
    "start_subscription",
]


async def allowed_agents(session: AsyncSession, *, tenant_id: str, now: datetime) -> frozenset[str]:
    """The agents (by the assistant's stored names) the tenant's plan includes."""
    rights = await entitlements(session, tenant_id=tenant_id, now=now)
    return frozenset(stored for shown, stored in AGENTS.items() if rights.covers(f"agent.{shown}"))


class _Runtime(Protocol):
    clock: Clock
    queue: Queue
    metrics: Metrics
    bus: EventBus


@dataclass
class Meter:
    """Usage metering with its side effects: alerts (event + webhook job) and metrics. Every
    method works in the caller's transaction."""

    clock: Clock
    queue: Queue
    metrics: Metrics | None = None
    bus: EventBus | None = None

    @classmethod
    def of(cls, runtime: _Runtime) -> Meter:
        """The meter of an application's runtime (routers build it per request)."""
        return cls(runtime.clock, runtime.queue, runtime.metrics, runtime.bus)

    async def reserve(
        self, session: AsyncSession, *, tenant_id: str, feature: str, quantity: int, key: str
    ) -> Reservation:
        """Hold ``quantity`` for the step ``key``; QuotaExceededError (402) when it is not left."""
        now = self.clock.now()
        rights = await entitlements(session, tenant_id=tenant_id, now=now)
        try:
            return await metering.reserve(
                session,
                tenant_id=tenant_id,
                feature=feature,
                quantity=quantity,
                key=key,
                now=now,
                rights=rights,
            )
        except QuotaExceededError:
            self._refused(rights.plan_code, feature, "quota")
            raise

    async def settle(
        self, session: AsyncSession, *, tenant_id: str, key: str, actual: int
    ) -> Settled | None:
        """Spend the real figure of a held reservation; alerts raised are announced."""
        done = await metering.settle(
            session, tenant_id=tenant_id, key=key, actual=actual, now=self.clock.now()
        )
        if done is None:
            return None
        await alerts.announce(session, done.alerts, queue=self.queue, bus=self.bus)
        if self.metrics is not None:
            self.metrics.billing_usage.labels(done.plan, done.feature).inc(actual)
            if done.overage_added:
                self.metrics.billing_overage.labels(done.plan, done.feature).inc(done.overage_added)
            for alert in done.alerts:
                self.metrics.billing_alerts.labels(
                    done.plan, alert.feature, str(alert.threshold)
                ).inc()
        return done

    async def release(self, session: AsyncSession, *, tenant_id: str, key: str) -> bool:
        """Give back a held reservation (the step failed)."""
        return await metering.release(session, tenant_id=tenant_id, key=key, now=self.clock.now())

    async def consume(
        self, session: AsyncSession, *, tenant_id: str, feature: str, quantity: int, key: str
    ) -> Settled | None:
        """Reserve and spend at once (a step whose figure is known beforehand)."""
        await self.reserve(
            session, tenant_id=tenant_id, feature=feature, quantity=quantity, key=key
        )
        return await self.settle(session, tenant_id=tenant_id, key=key, actual=quantity)

    async def check(self, session: AsyncSession, *, tenant_id: str, feature: str,
                    amount: int | None = None) -> Entitlements:  # fmt: skip
        """``check`` that also counts a refusal in the metrics."""
        try:
            return await check(
                session, tenant_id=tenant_id, feature=feature, now=self.clock.now(), amount=amount
            )
        except PaymentRequiredError:
            rights = await entitlements(session, tenant_id=tenant_id, now=self.clock.now())
            self._refused(rights.plan_code, feature, "feature")
            raise

    async def blocked(self, *, tenant_id: str, feature: str, **data: Any) -> None:
        """Tell the tenant's operators (a console event) that a contact met the plan's limit:
        ``feature`` and ids only (conversation, contact, message)."""
        if self.bus is None:
            return
        event = Event(tenant_id, alerts.BLOCKED_EVENT, {"feature": feature, **data})
        try:
            await self.bus.publish(event)
        except Exception as exc:  # the console misses a live update; the reply says it all
            log.warning("billing.event_failed", kind=event.kind, error=repr(exc)[:200])

    async def release_stale(self, session: AsyncSession, *, older_than: timedelta) -> int:
        """Release reservations nobody settled within ``older_than`` (across tenants)."""
        now = self.clock.now()
        return await metering.release_stale(session, before=now - older_than, now=now)

    def _refused(self, plan: str, feature: str, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.billing_refusals.labels(plan, feature, reason).inc()
