"""Gating: what a tenant's plan lets it do now, and one check every module asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.billing.errors import FeatureNotInPlanError, UnknownFeatureError
from whatsapp_ai.billing.features import FEATURES, Kind
from whatsapp_ai.billing.periods import calendar_month, period_of
from whatsapp_ai.billing.plans import PlanView, cheapest_with, get_plan
from whatsapp_ai.billing.subscriptions import get_subscription, plan_in_force


@dataclass(frozen=True)
class Entitlements:
    """The plan in force for a tenant and its current billing period. ``plan`` None: a tenant
    the platform runs without a plan (made by the operator, not signed up): everything is on and
    usage is counted by calendar month without quotas."""

    tenant_id: str
    plan: PlanView | None
    status: str | None
    period_start: datetime
    period_end: datetime

    @property
    def plan_code(self) -> str:
        """The code of the plan in force ("none" without one)."""
        return self.plan.code if self.plan is not None else "none"

    def covers(self, feature: str, amount: int | None = None) -> bool:
        """Whether the plan has ``feature`` (at least ``amount`` of a quota or limit)."""
        return self.plan is None or self.plan.covers(feature, amount)

    def quota(self, feature: str) -> int | None:
        """A quota's or limit's amount this period (None: unlimited)."""
        return None if self.plan is None else self.plan.amount(feature)

    @property
    def allows_overage(self) -> bool:
        """Whether usage may go past the quotas (recorded as overage)."""
        return self.plan is not None and self.plan.allows_overage


async def entitlements(session: AsyncSession, *, tenant_id: str, now: datetime) -> Entitlements:
    """What the tenant's plan lets it do at ``now``."""
    subscription = await get_subscription(session, tenant_id=tenant_id)
    if subscription is None:
        start, end = calendar_month(now)
        return Entitlements(tenant_id, None, None, start, end)
    plan = await get_plan(session, code=plan_in_force(subscription, now))
    start, end = period_of(subscription.billing_anchor, plan.period, now)
    return Entitlements(tenant_id, plan, subscription.status, start, end)


async def refusal(
    session: AsyncSession, rights: Entitlements, feature: str, amount: int | None = None
) -> FeatureNotInPlanError:
    """The 402 that names ``feature`` and the cheapest plan that covers it."""
    cheapest = await cheapest_with(session, feature=feature, amount=amount)
    current = rights.plan.name if rights.plan is not None else "current"
    where = f"the {cheapest} plan does" if cheapest else "no plan does"
    wanted = feature if amount is None else f"{feature} of {amount}"
    return FeatureNotInPlanError(
        f"the {current} plan does not include {wanted}; {where}",
        feature=feature,
        plan=cheapest,
        tenant_id=rights.tenant_id,
    )


async def check(
    session: AsyncSession,
    *,
    tenant_id: str,
    feature: str,
    now: datetime,
    amount: int | None = None,
) -> Entitlements:
    """The tenant's entitlements when its plan covers ``feature`` (``amount`` of a limit);
    FeatureNotInPlanError (402) naming the cheapest plan that does otherwise."""
    if feature not in FEATURES:
        raise UnknownFeatureError(f"unknown feature {feature!r}", field="feature")
    rights = await entitlements(session, tenant_id=tenant_id, now=now)
    if FEATURES[feature].kind is Kind.QUOTA:
        amount = None  # a quota is metered, not gated: see metering.reserve
    if not rights.covers(feature, amount):
        raise await refusal(session, rights, feature, amount)
    return rights
