"""Billing service: plans and each tenant's subscription."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.billing.models import Subscription
from whatsapp_ai.core.ids import new_id


@dataclass(frozen=True)
class Plan:
    """What a plan includes."""

    name: str
    monthly_messages: int | None
    agents: frozenset[str]


PLANS = {
    "free": Plan("free", monthly_messages=500, agents=frozenset({"support"})),
    "pro": Plan(
        "pro", monthly_messages=10_000, agents=frozenset({"support", "finance", "sales", "crm"})
    ),
    "enterprise": Plan(
        "enterprise",
        monthly_messages=None,
        agents=frozenset({"support", "finance", "sales", "crm", "profile"}),
    ),
}


async def start_subscription(
    session: AsyncSession, *, tenant_id: str, plan: str, now: datetime
) -> Subscription:
    """Put a tenant on a plan (registration starts everyone on Free)."""
    if plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}; plans: {sorted(PLANS)}")
    subscription = Subscription(
        id=new_id(),
        tenant_id=tenant_id,
        plan=plan,
        status="active",
        started_at=now,
        updated_at=now,
    )
    session.add(subscription)
    await session.flush()
    return subscription


async def get_subscription(session: AsyncSession, *, tenant_id: str) -> Subscription | None:
    """The tenant's current subscription."""
    return await session.scalar(select(Subscription).where(Subscription.tenant_id == tenant_id))
