"""Metering: usage per tenant, feature and billing period, counted in the database so any number
of workers agree.

A quantity is reserved before it is spent (one conditional UPDATE: it succeeds only while
used + reserved + quantity stays within the quota), settled afterwards with the real figure, or
released when the step fails. A reservation is keyed by the caller (a turn's event, a file), so
a step that runs again finds its own reservation instead of taking a second one. Plans that
allow overage never refuse: the part beyond the quota is recorded as overage, under an
identifier that is the same for a tenant, feature and period however often it is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.billing.errors import QuotaExceededError, UnknownFeatureError
from whatsapp_ai.billing.features import FEATURES, Kind
from whatsapp_ai.billing.gating import Entitlements, entitlements
from whatsapp_ai.billing.models import UsageAlert, UsageCounter, UsageReservation
from whatsapp_ai.billing.plans import cheapest_with
from whatsapp_ai.core.db import insert_ignore

THRESHOLDS = (80, 100)
RESERVED, SETTLED, RELEASED = "reserved", "settled", "released"


@dataclass(frozen=True)
class Reservation:
    """A quantity held for a step; ``status`` says whether it is still held."""

    key: str
    feature: str
    quantity: int
    status: str
    period_start: datetime


@dataclass(frozen=True)
class Alert:
    """A quota reached a threshold (80 or 100 percent) in a period, for the first time."""

    tenant_id: str
    feature: str
    threshold: int
    used: int
    quota: int
    plan: str
    period_start: datetime
    period_end: datetime


@dataclass(frozen=True)
class Settled:
    """What settling changed: the usage now, the overage added, and any alert it raised."""

    feature: str
    used: int
    overage_added: int
    plan: str
    alerts: list[Alert]


def overage_id(tenant_id: str, feature: str, period_start: datetime) -> str:
    """The identifier of a tenant's overage of one feature in one period (stable: reporting it
    again never bills twice)."""
    return f"ovg_{tenant_id}_{feature}_{period_start:%Y%m%dT%H%M%S}"


def _quota_feature(feature: str) -> None:
    known = FEATURES.get(feature)
    if known is None or known.kind is not Kind.QUOTA:
        raise UnknownFeatureError(f"{feature!r} is not a metered quota", field="feature")


async def _counter(
    session: AsyncSession, rights: Entitlements, feature: str, now: datetime
) -> None:
    """Make sure the period's counter exists (concurrent callers create it once)."""
    await insert_ignore(
        session,
        UsageCounter,
        {
            "tenant_id": rights.tenant_id,
            "feature": feature,
            "period_start": rights.period_start,
            "period_end": rights.period_end,
            "plan": rights.plan_code,
            "used": 0,
            "reserved": 0,
            "overage": 0,
            "updated_at": now,
        },
    )


async def reserve(
    session: AsyncSession,
    *,
    tenant_id: str,
    feature: str,
    quantity: int,
    key: str,
    now: datetime,
    rights: Entitlements | None = None,
) -> Reservation:
    """Hold ``quantity`` of a quota for the step ``key``; QuotaExceededError (402) when the
    period has not that much left (nothing is held then). The same key again returns the
    reservation made the first time."""
    _quota_feature(feature)
    rights = rights or await entitlements(session, tenant_id=tenant_id, now=now)
    await _counter(session, rights, feature, now)
    held = await insert_ignore(
        session,
        UsageReservation,
        {
            "tenant_id": tenant_id,
            "key": key,
            "feature": feature,
            "period_start": rights.period_start,
            "quantity": quantity,
            "status": RESERVED,
            "settled": None,
            "created_at": now,
            "updated_at": now,
        },
    )
    if held is None:
        found = await session.get(UsageReservation, (tenant_id, key))
        assert found is not None
        return _reservation(found)
    quota = rights.quota(feature)
    where = [
        UsageCounter.tenant_id == tenant_id,
        UsageCounter.feature == feature,
        UsageCounter.period_start == rights.period_start,
    ]
    if quota is not None and not rights.allows_overage:
        where.append(UsageCounter.used + UsageCounter.reserved + quantity <= quota)
    granted = await session.scalar(
        update(UsageCounter)
        .where(*where)
        .values(reserved=UsageCounter.reserved + quantity, updated_at=now)
        .returning(UsageCounter.used)
    )
    if granted is None:
        await session.execute(
            delete(UsageReservation).where(
                UsageReservation.tenant_id == tenant_id, UsageReservation.key == key
            )
        )
        raise await _exhausted(session, rights, feature, quota or 0)
    return Reservation(key, feature, quantity, RESERVED, rights.period_start)


async def _exhausted(
    session: AsyncSession, rights: Entitlements, feature: str, quota: int
) -> QuotaExceededError:
    larger = None
    for_more = await cheapest_with(session, feature=feature, amount=quota + 1)
    if for_more != rights.plan_code:
        larger = for_more
    where = f"the {larger} plan has more" if larger else "it renews with the next period"
    return QuotaExceededError(
        f"the {feature} quota of this period ({quota}) is used up; {where}",
        feature=feature,
        plan=larger,
        tenant_id=rights.tenant_id,
    )


def _reservation(row: UsageReservation) -> Reservation:
    return Reservation(row.key, row.feature, row.quantity, row.status, row.period_start)


async def settle(
    session: AsyncSession, *, tenant_id: str, key: str, actual: int, now: datetime
) -> Settled | None:
    """Spend the real figure of a held reservation (it may be more or less than held); None
    when the reservation is not held (settled or released already, or never made)."""
    closed = (
        await session.execute(
            update(UsageReservation)
            .where(
                UsageReservation.tenant_id == tenant_id,
                UsageReservation.key == key,
                UsageReservation.status == RESERVED,
            )
            .values(status=SETTLED, settled=actual, updated_at=now)
            .returning(
                UsageReservation.feature, UsageReservation.period_start, UsageReservation.quantity
            )
        )
    ).one_or_none()
    if closed is None:
        return None
    feature, period_start, held = closed
    where = (
        UsageCounter.tenant_id == tenant_id,
        UsageCounter.feature == feature,
        UsageCounter.period_start == period_start,
    )
    row = (
        await session.execute(
            update(UsageCounter)
            .where(*where)
            .values(
                used=UsageCounter.used + actual,
                reserved=UsageCounter.reserved - held,
                updated_at=now,
            )
            .returning(UsageCounter.used, UsageCounter.period_end, UsageCounter.plan)
        )
    ).one()
    used, period_end, plan = int(row[0]), row[1], str(row[2])
    rights = await entitlements(session, tenant_id=tenant_id, now=now)
    quota = rights.quota(feature) if rights.period_start == period_start else None
    added = 0
    if quota is not None and rights.allows_overage:
        added = max(0, used - quota) - max(0, used - actual - quota)
        if added:
            await session.execute(
                update(UsageCounter).where(*where).values(overage=UsageCounter.overage + added)
            )
    alerts = []
    for threshold in THRESHOLDS if quota else ():
        assert quota is not None
        if used * 100 < threshold * quota:
            continue
        new = await insert_ignore(
            session,
            UsageAlert,
            {
                "tenant_id": tenant_id,
                "feature": feature,
                "period_start": period_start,
                "threshold": threshold,
                "used": used,
                "quota": quota,
                "at": now,
            },
        )
        if new is not None:
            alerts.append(
                Alert(tenant_id, feature, threshold, used, quota, plan, period_start, period_end)
            )
    return Settled(feature, used, added, plan, alerts)


async def release(session: AsyncSession, *, tenant_id: str, key: str, now: datetime) -> bool:
    """Give back a held reservation (the step failed); False when it was not held."""
    closed = (
        await session.execute(
            update(UsageReservation)
            .where(
                UsageReservation.tenant_id == tenant_id,
                UsageReservation.key == key,
                UsageReservation.status == RESERVED,
            )
            .values(status=RELEASED, settled=0, updated_at=now)
            .returning(
                UsageReservation.feature, UsageReservation.period_start, UsageReservation.quantity
            )
        )
    ).one_or_none()
    if closed is None:
        return False
    feature, period_start, held = closed
    await session.execute(
        update(UsageCounter)
        .where(
            UsageCounter.tenant_id == tenant_id,
            UsageCounter.feature == feature,
            UsageCounter.period_start == period_start,
        )
        .values(reserved=UsageCounter.reserved - held, updated_at=now)
    )
    return True


async def release_stale(session: AsyncSession, *, before: datetime, now: datetime) -> int:
    """Release reservations held since before ``before`` (their worker died mid-step and no
    retry settled them), across tenants; how many were released."""
    stale = list(
        (
            await session.execute(
                select(UsageReservation.tenant_id, UsageReservation.key)
                .where(UsageReservation.status == RESERVED, UsageReservation.created_at < before)
                .limit(500)
            )
        ).all()
    )
    released = 0
    for tenant_id, key in stale:
        released += await release(session, tenant_id=tenant_id, key=key, now=now)
    return released


async def usage(
    session: AsyncSession, *, tenant_id: str, now: datetime
) -> tuple[Entitlements, dict[str, UsageCounter]]:
    """The tenant's entitlements and its counters of the current period, by feature."""
    rights = await entitlements(session, tenant_id=tenant_id, now=now)
    rows = await session.scalars(
        select(UsageCounter).where(
            UsageCounter.tenant_id == tenant_id,
            UsageCounter.period_start == rights.period_start,
        )
    )
    return rights, {row.feature: row for row in rows}


async def alerts_of(
    session: AsyncSession, *, tenant_id: str, period_start: datetime
) -> list[UsageAlert]:
    """The alerts a tenant got in a period, oldest first."""
    return list(
        await session.scalars(
            select(UsageAlert)
            .where(UsageAlert.tenant_id == tenant_id, UsageAlert.period_start == period_start)
            .order_by(UsageAlert.at, UsageAlert.feature, UsageAlert.threshold)
        )
    )
