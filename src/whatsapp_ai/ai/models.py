"""Assistant tables: each tenant's assistant settings, and the trace of every reply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_ai.core.db import Base, IdType, JSONType, TenantScoped, UTCDateTime


class AssistantSettings(TenantScoped, Base):
    """Which agents a tenant runs, on which chat models, and what leaves for a provider."""

    __tablename__ = "assistant_settings"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    # None: every agent the platform has.
    enabled_agents: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    # The tenant's own chain of chat models (JSON with API keys), encrypted; None: the default.
    providers_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    redact_pii: Mapped[bool] = mapped_column(Boolean, default=False)
    trace_retention_days: Mapped[int] = mapped_column(Integer, default=30)
    # The kind of assistant (personal, store, services, custom), its name and description.
    profile: Mapped[str] = mapped_column(String(16), default="personal", server_default="personal")
    assistant_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    description: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # USD a calendar month (UTC) of hosted models may cost; None: no limit.
    monthly_ai_budget_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReplyTrace(TenantScoped, Base):
    """How one reply was made: route, agents, tool calls, tokens, cost, latency, model."""

    __tablename__ = "assistant_traces"
    __table_args__ = (Index("ix_assistant_traces_tenant_time", "tenant_id", "created_at"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(IdType, unique=True)
    model: Mapped[str] = mapped_column(String(120))
    intents: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DialogueState(TenantScoped, Base):
    """Where a conversation stands: the last request and any question the assistant asked.

    One row per conversation; it goes with the conversation, and a stale row is ignored.
    """

    __tablename__ = "assistant_dialogue"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # The last request: its intent and slots (period, category, description, record...).
    intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    slots: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The assistant's open question, and the request (intent and words) that raised it.
    question: Mapped[str | None] = mapped_column(Text, nullable=True)
    pending_intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pending_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
