"""Usage past a quota, reported to Stripe: a billing meter event for each increase of a
period's overage (plans that allow it), on the tenant's Stripe customer.

Each event is identified by the tenant, the feature, the period and the overage it brings the
total to, so a report retried after a failure (or after a crash before it was recorded here)
carries the same identifier and Stripe counts it once. What was reported is kept per counter;
a feature with no meter configured is not reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import stripe as stripe_sdk
import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.billing.metering import overage_id
from whatsapp_ai.billing.models import UsageCounter
from whatsapp_ai.billing.stripe_models import StripeCustomer
from whatsapp_ai.core.config import StripeSettings
from whatsapp_ai.core.db import Database, system_scope
from whatsapp_ai.core.stripe_events import StripeApi

log = structlog.get_logger(__name__)
# Stripe's error code for a meter event whose identifier it already has.
_ALREADY_SENT = "resource_already_exists"


@dataclass(frozen=True)
class Unreported:
    """Overage Stripe has not been told of yet."""

    tenant_id: str
    feature: str
    period_start: datetime
    overage: int
    reported: int
    customer_id: str

    @property
    def identifier(self) -> str:
        """Stable for this total: a retry is the same event to Stripe."""
        return f"{overage_id(self.tenant_id, self.feature, self.period_start)}_{self.overage}"


async def unreported(session: AsyncSession, features: set[str]) -> list[Unreported]:
    """Every counter whose overage grew since it was last reported, with its customer."""
    rows = await session.execute(
        select(UsageCounter, StripeCustomer.customer_id)
        .join(StripeCustomer, StripeCustomer.tenant_id == UsageCounter.tenant_id)
        .where(
            UsageCounter.overage > UsageCounter.overage_reported,
            UsageCounter.feature.in_(sorted(features)),
        )
        .order_by(UsageCounter.tenant_id, UsageCounter.feature, UsageCounter.period_start)
    )
    return [
        Unreported(
            counter.tenant_id,
            counter.feature,
            counter.period_start,
            counter.overage,
            counter.overage_reported,
            customer,
        )
        for counter, customer in rows.all()
    ]


async def report(db: Database, settings: StripeSettings) -> int:
    """Send Stripe the overage not reported yet; how many events it took. A failed event is
    logged and sent again (same identifier) on the next run."""
    key = settings.secret_key.get_secret_value()
    if not key or not settings.overage_meters:
        return 0
    with system_scope():
        async with db.read() as session:
            pending = await unreported(session, set(settings.overage_meters))
    sent = 0
    for item in pending:
        try:
            async with StripeApi(key, settings) as client:
                await client.v1.billing.meter_events.create_async(
                    {
                        "event_name": settings.overage_meters[item.feature],
                        "identifier": item.identifier,
                        "payload": {
                            "stripe_customer_id": item.customer_id,
                            "value": str(item.overage - item.reported),
                        },
                    }
                )
        except stripe_sdk.StripeError as exc:
            # Sent before but not recorded here (a crash in between): Stripe counted it once.
            already = isinstance(exc, stripe_sdk.InvalidRequestError) and exc.code == _ALREADY_SENT
            if not already:
                log.warning(
                    "billing.overage_report_failed",
                    tenant_id=item.tenant_id,
                    feature=item.feature,
                    error=type(exc).__name__,
                    status=exc.http_status,
                )
                continue
        with system_scope():
            async with db.transaction() as session:
                await session.execute(
                    update(UsageCounter)
                    .where(
                        UsageCounter.tenant_id == item.tenant_id,
                        UsageCounter.feature == item.feature,
                        UsageCounter.period_start == item.period_start,
                        UsageCounter.overage_reported == item.reported,
                    )
                    .values(overage_reported=item.overage)
                )
        sent += 1
        log.info("billing.overage_reported", tenant_id=item.tenant_id, feature=item.feature)
    return sent
