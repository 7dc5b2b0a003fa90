"""Billing API: a tenant's plan, usage and alert webhook; plans and tenants' plans for platform
admins (tenants never create or change plans, nor choose their own)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.billing import alerts, metering, plans, subscriptions
from whatsapp_ai.billing.errors import UnknownPlanError
from whatsapp_ai.billing.features import FEATURES, Kind
from whatsapp_ai.billing.models import Subscription
from whatsapp_ai.billing.schemas import (
    PlanIn,
    PlanOut,
    PlanPatch,
    SubscriptionOut,
    TenantPlanIn,
    UsageItem,
    UsageOut,
    WebhookIn,
    WebhookOut,
)
from whatsapp_ai.core.errors import NotFoundError
from whatsapp_ai.core.http import (
    PlatformPrincipal,
    Principal,
    require,
    require_platform_admin,
    runtime,
)
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Cursor, Limit, Page, list_position, slice_list
from whatsapp_ai.identity import service as identity

router = APIRouter(prefix="/billing", tags=["billing"])
Reader = Annotated[Principal, Depends(require("settings:read"))]
Writer = Annotated[Principal, Depends(require("settings:write"))]
Platform = Annotated[PlatformPrincipal, Depends(require_platform_admin)]


def _plan_out(plan: plans.PlanView) -> PlanOut:
    return PlanOut(
        code=plan.code,
        name=plan.name,
        price_cents=plan.price_cents,
        currency=plan.currency,
        period=plan.period,
        allows_overage=plan.allows_overage,
        features=plan.features,
    )


def _subscription_out(row: Subscription, now: datetime) -> SubscriptionOut:
    return SubscriptionOut(
        tenant_id=row.tenant_id,
        plan=row.plan,
        status=row.status,
        plan_in_force=subscriptions.plan_in_force(row, now),
        billing_anchor=row.billing_anchor,
        grace_until=row.grace_until,
        started_at=row.started_at,
        alert_webhook_url=row.alert_webhook_url,
    )


async def _usage(session: AsyncSession, tenant_id: str, now: datetime) -> UsageOut:
    rights, counters = await metering.usage(session, tenant_id=tenant_id, now=now)
    items = []
    for feature in (f for f in FEATURES.values() if f.kind is Kind.QUOTA):
        row = counters.get(feature.key)
        used, reserved, overage = (row.used, row.reserved, row.overage) if row else (0, 0, 0)
        quota = rights.quota(feature.key)
        items.append(
            UsageItem(
                feature=feature.key,
                unit=feature.unit,
                used=used,
                reserved=reserved,
                quota=quota,
                remaining=None if quota is None else max(quota - used - reserved, 0),
                overage=overage,
                overage_id=(
                    metering.overage_id(tenant_id, feature.key, rights.period_start)
                    if overage
                    else None
                ),
            )
        )
    return UsageOut(
        tenant_id=tenant_id,
        plan=rights.plan_code,
        status=rights.status,
        period_start=rights.period_start,
        period_end=rights.period_end,
        quotas=items,
    )


# --- the tenant's own ----------------------------------------------------------------------


@router.get("/plans", response_model=Page[PlanOut])
async def list_plans(
    request: Request, _caller: Reader, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[PlanOut]:
    """Every plan and its features, cheapest first."""
    return await _plans_page(request, cursor, limit)


@router.get("/subscription", response_model=SubscriptionOut)
async def get_subscription(request: Request, caller: Reader) -> SubscriptionOut:
    """The tenant's subscription (404: the platform runs this tenant without a plan)."""
    rt = runtime(request)
    async with rt.db.read() as session:
        row = await subscriptions.get_subscription(session, tenant_id=caller.tenant_id)
    if row is None:
        raise NotFoundError("this tenant has no subscription")
    return _subscription_out(row, rt.clock.now())


@router.get("/usage", response_model=UsageOut)
async def get_usage(request: Request, caller: Reader) -> UsageOut:
    """The tenant's use of each quota in the current billing period."""
    rt = runtime(request)
    async with rt.db.read() as session:
        return await _usage(session, caller.tenant_id, rt.clock.now())


@router.put("/alert-webhook", response_model=WebhookOut)
async def set_alert_webhook(request: Request, caller: Writer, body: WebhookIn) -> WebhookOut:
    """Post usage alerts (80% and 100% of a quota) to this URL; the answer holds the signing
    secret, shown once (a new one each time)."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        row, secret = await alerts.set_webhook(
            session, rt.box, tenant_id=caller.tenant_id, url=body.url, now=rt.clock.now()
        )
    return WebhookOut(url=row.alert_webhook_url or body.url, secret=secret or "")


@router.delete("/alert-webhook", status_code=status.HTTP_204_NO_CONTENT)
async def delete_alert_webhook(request: Request, caller: Writer) -> Response:
    """Stop posting usage alerts (the console still shows them)."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        await alerts.set_webhook(
            session, rt.box, tenant_id=caller.tenant_id, url=None, now=rt.clock.now()
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- platform admins -----------------------------------------------------------------------


async def _plans_page(request: Request, cursor: str | None, limit: int) -> Page[PlanOut]:
    async with runtime(request).db.read() as session:
        found = await plans.list_plans(session)
    if cursor is not None:
        after = list_position(cursor)
        codes = [plan.code for plan in found]
        found = found[codes.index(after) + 1 :] if after in codes else []
    return Page[PlanOut].of(
        slice_list(found, limit=limit, position=lambda plan: plan.code), _plan_out
    )


@router.get("/platform/plans", response_model=Page[PlanOut])
async def platform_plans(
    request: Request, _admin: Platform, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[PlanOut]:
    """Every plan and its features, cheapest first (platform admins)."""
    return await _plans_page(request, cursor, limit)


@router.post("/platform/plans", response_model=PlanOut, status_code=status.HTTP_201_CREATED)
async def create_plan(request: Request, _admin: Platform, body: PlanIn) -> PlanOut:
    """Add a plan (platform admins)."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        plan = await plans.create_plan(
            session,
            code=body.code,
            name=body.name,
            price_cents=body.price_cents,
            currency=body.currency,
            period=body.period,
            allows_overage=body.allows_overage,
            features=body.features,
            now=rt.clock.now(),
        )
    return _plan_out(plan)


@router.patch("/platform/plans/{code}", response_model=PlanOut)
async def update_plan(request: Request, _admin: Platform, code: str, body: PlanPatch) -> PlanOut:
    """Change a plan's price, period, overage or features (platform admins)."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        plan = await plans.update_plan(
            session, code=code, changes=body.model_dump(exclude_unset=True), now=rt.clock.now()
        )
    return _plan_out(plan)


@router.put("/platform/tenants/{tenant_id}/plan", response_model=SubscriptionOut)
async def set_tenant_plan(
    request: Request, admin: Platform, tenant_id: str, body: TenantPlanIn
) -> SubscriptionOut:
    """Put a tenant on a plan, audited (platform admins)."""
    rt = runtime(request)
    now = rt.clock.now()
    async with rt.db.transaction() as session:
        if await identity.get_tenant(session, tenant_id=tenant_id) is None:
            raise NotFoundError("tenant not found")
        try:
            row = await subscriptions.set_plan(
                session,
                tenant_id=tenant_id,
                plan=body.plan,
                actor=f"platform:{admin.user_id}",
                reason=body.reason,
                status=body.status,
                billing_anchor=now if body.restart_period else None,
                now=now,
            )
        except UnknownPlanError as exc:
            raise NotFoundError(exc.message) from exc
    return _subscription_out(row, now)


@router.get("/platform/usage", response_model=Page[UsageOut])
async def platform_usage(
    request: Request, _admin: Platform, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[UsageOut]:
    """Every tenant's use of each quota this period, oldest tenant first (platform admins)."""
    rt = runtime(request)
    now = rt.clock.now()
    async with rt.db.read() as session:
        tenants = await identity.list_tenants(session, cursor=cursor, limit=limit)
        items = [await _usage(session, tenant.id, now) for tenant in tenants.items]
    return Page[UsageOut](items=items, next_cursor=tenants.next_cursor)
