"""The tenant's customer on the platform's Stripe account, and the subscription that sets its
plan there."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_ai.core.db import Base, TenantScoped, UTCDateTime


class StripeCustomer(TenantScoped, Base):
    """A tenant's Stripe customer (one per tenant) and what Stripe last said of its
    subscription."""

    __tablename__ = "billing_stripe_customers"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String(255), unique=True)
    subscription_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The subscription item whose price sets the plan (a plan change replaces its price).
    item_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    price_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    stripe_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    trial_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
