"""Billing tables: plans and their features, each tenant's subscription and its plan changes,
and usage per tenant, feature and period (counters, reservations, alerts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_ai.core.db import Base, IdType, TenantScoped, UTCDateTime


class Plan(Base):
    """A plan tenants subscribe to (platform data: only platform admins change it)."""

    __tablename__ = "plans"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    # "month" or "year": the length of one billing period (quotas count per period).
    period: Mapped[str] = mapped_column(String(8))
    # Past a quota, usage goes on and the excess is recorded as overage (billed later).
    allows_overage: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PlanFeature(Base):
    """One feature of a plan: on/off (``enabled``), or a quota or limit (``amount``; None:
    unlimited). A feature without a row is off."""

    __tablename__ = "plan_features"

    plan_code: Mapped[str] = mapped_column(
        ForeignKey("plans.code", ondelete="CASCADE"), primary_key=True
    )
    feature: Mapped[str] = mapped_column(String(48), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Subscription(TenantScoped, Base):
    """The plan a tenant is on (one current subscription per tenant)."""

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), unique=True
    )
    plan: Mapped[str] = mapped_column(String(32))
    # active, trialing, past_due, paused or canceled (past_due keeps the plan until grace_until).
    status: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Billing periods start at this moment and repeat every plan period from it.
    billing_anchor: Mapped[datetime] = mapped_column(UTCDateTime)
    grace_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Where usage alerts are posted (signed with the secret, kept encrypted); None: no webhook.
    alert_webhook_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    alert_webhook_secret: Mapped[str | None] = mapped_column(Text, nullable=True)


class PlanChange(TenantScoped, Base):
    """The audit record of a tenant moving from one plan (or status) to another."""

    __tablename__ = "billing_plan_changes"

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    from_plan: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_plan: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_status: Mapped[str] = mapped_column(String(32))
    # Who made the change: "registration", "platform:<user id>", "cli", "stripe:<event id>".
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class UsageCounter(TenantScoped, Base):
    """What a tenant used (settled) and holds reserved of one feature in one billing period;
    overage is the part of ``used`` beyond the plan's quota (plans that allow it)."""

    __tablename__ = "billing_usage"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    feature: Mapped[str] = mapped_column(String(48), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    plan: Mapped[str] = mapped_column(String(32))
    used: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    overage: Mapped[int] = mapped_column(BigInteger, default=0)
    # How much of ``overage`` Stripe has been told of (a meter event per increase).
    overage_reported: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UsageReservation(TenantScoped, Base):
    """A quantity held before spending it; settled with the real figure or released. The key
    is the caller's (e.g. the turn's event), so a retried step finds its own reservation."""

    __tablename__ = "billing_reservations"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    feature: Mapped[str] = mapped_column(String(48))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    quantity: Mapped[int] = mapped_column(BigInteger)
    # reserved → settled | released
    status: Mapped[str] = mapped_column(String(16))
    settled: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UsageAlert(TenantScoped, Base):
    """An alert sent once per tenant, feature, period and threshold (80 or 100 percent)."""

    __tablename__ = "billing_alerts"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    feature: Mapped[str] = mapped_column(String(48), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    threshold: Mapped[int] = mapped_column(Integer, primary_key=True)
    used: Mapped[int] = mapped_column(BigInteger)
    quota: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
