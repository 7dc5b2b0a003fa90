"""Each tenant's subscription: its plan, its status (with a grace period when a payment fails),
its billing anchor, and an audit record of every change."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.billing.errors import UnknownFeatureError, UnknownPlanError
from whatsapp_ai.billing.models import Plan, PlanChange, Subscription
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.paging import Slice, by, paginate

FREE = "free"
STATUSES = ("active", "trialing", "past_due", "paused", "canceled")
# Statuses whose plan is in force; past_due keeps it until the grace period ends.
IN_FORCE = frozenset({"active", "trialing"})
DEFAULT_GRACE = timedelta(days=7)


async def get_subscription(session: AsyncSession, *, tenant_id: str) -> Subscription | None:
    """The tenant's current subscription (None: the platform runs it without a plan)."""
    return await session.scalar(select(Subscription).where(Subscription.tenant_id == tenant_id))


def plan_in_force(subscription: Subscription, now: datetime) -> str:
    """The plan whose features apply now: the subscribed one while it is active (or past due
    within its grace period), else Free."""
    if subscription.status in IN_FORCE:
        return subscription.plan
    grace = subscription.grace_until
    if subscription.status == "past_due" and grace is not None and now < grace:
        return subscription.plan
    return FREE


async def set_plan(
    session: AsyncSession,
    *,
    tenant_id: str,
    plan: str,
    actor: str,
    now: datetime,
    reason: str = "",
    status: str = "active",
    billing_anchor: datetime | None = None,
) -> Subscription:
    """Put a tenant on a plan (creating its subscription if it has none), with an audit record.

    ``billing_anchor`` starts the billing periods anew (a new paid subscription); without it a
    subscription keeps its anchor, and a new one is anchored now.
    """
    if status not in STATUSES:
        raise UnknownFeatureError(f"status must be one of {list(STATUSES)}", field="status")
    if await session.get(Plan, plan) is None:
        raise UnknownPlanError(f"no plan {plan!r}", field="plan")
    subscription = await get_subscription(session, tenant_id=tenant_id)
    before_plan = before_status = None
    if subscription is None:
        subscription = Subscription(
            id=new_id(),
            tenant_id=tenant_id,
            plan=plan,
            status=status,
            started_at=now,
            updated_at=now,
            billing_anchor=billing_anchor or now,
        )
        session.add(subscription)
    else:
        before_plan, before_status = subscription.plan, subscription.status
        subscription.plan = plan
        subscription.status = status
        subscription.updated_at = now
        if billing_anchor is not None:
            subscription.billing_anchor = billing_anchor
    if status != "past_due":
        subscription.grace_until = None
    session.add(
        PlanChange(
            id=new_id(),
            tenant_id=tenant_id,
            from_plan=before_plan,
            to_plan=plan,
            from_status=before_status,
            to_status=status,
            actor=actor,
            reason=reason,
            at=now,
        )
    )
    await session.flush()
    return subscription


async def start_subscription(
    session: AsyncSession, *, tenant_id: str, plan: str, now: datetime
) -> Subscription:
    """Put a new tenant on a plan (registration starts everyone on Free)."""
    return await set_plan(
        session, tenant_id=tenant_id, plan=plan, actor="registration", now=now, reason="sign-up"
    )


async def mark_past_due(
    session: AsyncSession,
    *,
    tenant_id: str,
    actor: str,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    reason: str = "payment failed",
) -> Subscription | None:
    """A payment failed: the plan stays in force for ``grace``, then only Free's features."""
    subscription = await get_subscription(session, tenant_id=tenant_id)
    if subscription is None:
        return None
    if subscription.status == "past_due":
        return subscription  # the grace period runs from the first failure
    updated = await set_plan(
        session,
        tenant_id=tenant_id,
        plan=subscription.plan,
        actor=actor,
        now=now,
        reason=reason,
        status="past_due",
    )
    updated.grace_until = now + grace
    await session.flush()
    return updated


async def plan_changes(
    session: AsyncSession, *, tenant_id: str, cursor: str | None, limit: int
) -> Slice[PlanChange]:
    """The tenant's plan changes, newest first."""
    return await paginate(
        session,
        select(PlanChange).where(PlanChange.tenant_id == tenant_id),
        order=by(PlanChange.at, PlanChange.id, descending=True),
        cursor=cursor,
        limit=limit,
    )


async def page_subscriptions(
    session: AsyncSession, *, cursor: str | None, limit: int
) -> Slice[Subscription]:
    """Every tenant's subscription (platform admins), by tenant."""
    return await paginate(
        session, select(Subscription), order=by(Subscription.tenant_id), cursor=cursor, limit=limit
    )
