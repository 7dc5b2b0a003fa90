"""Twilio tables: each tenant's account and the parts of every message sent through it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_ai.core.db import Base, IdType, JSONType, TenantScoped, UTCDateTime


class TwilioAccount(TenantScoped, Base):
    """A tenant's Twilio credentials (tokens encrypted) and WhatsApp sender."""

    __tablename__ = "twilio_accounts"
    __table_args__ = (UniqueConstraint("account_sid", "whatsapp_number"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), unique=True
    )
    account_sid: Mapped[str] = mapped_column(String(34))
    auth_token: Mapped[str] = mapped_column(Text)
    secondary_auth_token: Mapped[str | None] = mapped_column(Text, nullable=True)
    whatsapp_number: Mapped[str] = mapped_column(String(32))
    messaging_service_sid: Mapped[str | None] = mapped_column(
        String(34), unique=True, nullable=True
    )
    template_content_sid: Mapped[str | None] = mapped_column(String(34), nullable=True)
    template_variables: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TwilioOutbound(TenantScoped, Base):
    """One part of an outbound message as sent to Twilio (long replies are split)."""

    __tablename__ = "twilio_outbound"
    __table_args__ = (
        UniqueConstraint("message_id", "part"),
        Index("ix_twilio_outbound_tenant_message", "tenant_id", "message_id"),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(IdType)
    part: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    via_template: Mapped[bool] = mapped_column(default=False)
    twilio_sid: Mapped[str | None] = mapped_column(String(34), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
