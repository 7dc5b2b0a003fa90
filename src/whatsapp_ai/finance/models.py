"""Finance tables: a contact's expenses and income, kept per tenant."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_ai.core.db import Base, IdType, TenantScoped, UTCDateTime


class FinanceEntry(TenantScoped, Base):
    """One expense or income of a contact, in one currency."""

    __tablename__ = "finance_entries"
    __table_args__ = (
        Index("ix_finance_entries_contact_day", "tenant_id", "contact_id", "occurred_on"),
        # A retried assistant turn records the same entry once (NULLs never conflict).
        Index("ux_finance_entries_source_key", "tenant_id", "source_key", unique=True),
        CheckConstraint("kind IN ('expense', 'income')", name="kind"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="BRL")
    category: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The day in the contact's time zone when it was recorded: days and months are theirs.
    occurred_on: Mapped[date] = mapped_column(Date)
    payment_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # What the person called it ("ifood", "aluguel", "tenis"): how they find it again.
    description: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
