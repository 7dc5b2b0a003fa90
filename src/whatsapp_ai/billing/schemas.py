"""Billing API shapes: plans, subscriptions, usage and alert webhooks."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from whatsapp_ai.billing.plans import Value
from whatsapp_ai.core.inputs import Input

PlanCode = Field(pattern=r"^[a-z][a-z0-9_-]{1,31}$", description="Lowercase letters, digits, - _")


class PlanOut(BaseModel):
    """A plan and the value of each feature it has (on/off: true; quota or limit: an amount,
    null for unlimited); a feature not listed is off."""

    code: str
    name: str
    price_cents: int
    currency: str
    period: str
    allows_overage: bool
    features: dict[str, Value]


class PlanIn(Input):
    """A new plan (platform admins)."""

    model_config = ConfigDict(extra="forbid")

    code: str = PlanCode
    name: str = Field(min_length=1, max_length=80)
    price_cents: int = Field(ge=0, le=100_000_000)
    currency: str = Field(default="usd", pattern=r"^[A-Za-z]{3}$")
    period: str = Field(default="month", pattern=r"^(month|year)$")
    allows_overage: bool = False
    features: dict[str, Value] = Field(default_factory=dict)


class PlanPatch(Input):
    """Changes to a plan; ``features`` sets the features it lists (on/off false: off)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=80)
    price_cents: int | None = Field(default=None, ge=0, le=100_000_000)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    period: str | None = Field(default=None, pattern=r"^(month|year)$")
    allows_overage: bool | None = None
    features: dict[str, Value] | None = None


class TenantPlanIn(Input):
    """Put a tenant on a plan (platform admins)."""

    model_config = ConfigDict(extra="forbid")

    plan: str = Field(min_length=1, max_length=32)
    status: str = Field(default="active", pattern=r"^(active|trialing|past_due|paused|canceled)$")
    reason: str = Field(default="", max_length=300)
    restart_period: bool = Field(
        default=False, description="Start the billing periods anew from now."
    )


class SubscriptionOut(BaseModel):
    """A tenant's subscription and the plan whose features apply now."""

    tenant_id: str
    plan: str
    status: str
    plan_in_force: str
    billing_anchor: datetime
    grace_until: datetime | None
    started_at: datetime
    alert_webhook_url: str | None


class UsageItem(BaseModel):
    """One quota in the current period (``quota`` null: unlimited)."""

    feature: str
    unit: str
    used: int
    reserved: int
    quota: int | None
    remaining: int | None
    overage: int
    overage_id: str | None = Field(
        description="Stable identifier of this period's overage (reported to billing once)."
    )


class UsageOut(BaseModel):
    """A tenant's usage of every quota this billing period."""

    tenant_id: str
    plan: str
    status: str | None
    period_start: datetime
    period_end: datetime
    quotas: list[UsageItem]


class WebhookIn(Input):
    """Where usage alerts are posted (signed with the secret answered once)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=500)


class WebhookOut(BaseModel):
    """The alert webhook; ``secret`` signs each POST (X-Billing-Signature: sha256=HMAC of
    "<X-Billing-Timestamp>.<body>") and is shown only here."""

    url: str
    secret: str
