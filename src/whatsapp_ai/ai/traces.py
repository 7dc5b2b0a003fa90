"""The audit trail of replies: one trace per reply, kept for the tenant's retention period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.ai.models import AssistantSettings, ReplyTrace
from whatsapp_ai.core.db import as_dict, insert_ignore
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.paging import Slice, by, paginate
from whatsapp_ai.core.privacy import ContactRef, Erased


async def record(
    session: AsyncSession,
    *,
    tenant_id: str,
    conversation_id: str,
    contact_id: str,
    message_id: str,
    model: str,
    trace: dict[str, Any],
    now: datetime,
) -> None:
    """Keep the trace of the reply ``message_id`` (once; a retried turn keeps the first)."""
    usage = trace.get("usage") or []
    steps = [c for c in trace.get("clauses", []) if isinstance(c, dict)]
    tokens_in = sum(int(u.get("tokens_in") or 0) for u in usage) or sum(
        int(c.get("tokens_in") or 0) for c in steps
    )
    tokens_out = sum(int(u.get("tokens_out") or 0) for u in usage) or sum(
        int(c.get("tokens_out") or 0) for c in steps
    )
    await insert_ignore(
        session,
        ReplyTrace,
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "conversation_id": conversation_id,
            "contact_id": contact_id,
            "message_id": message_id,
            "model": model[:120],
            "intents": [c.get("intent") for c in steps],
            "detail": trace,
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "cost_usd": float(trace.get("cost_usd") or 0.0),
            "latency_ms": float(trace.get("ms") or 0.0),
            "created_at": now,
        },
        conflict=["message_id"],
    )


async def list_traces(
    session: AsyncSession,
    *,
    tenant_id: str,
    cursor: str | None,
    limit: int,
    conversation_id: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Slice[ReplyTrace]:
    """A page of the tenant's traces, newest first, filtered."""
    query = select(ReplyTrace)
    query = query.where(ReplyTrace.tenant_id == tenant_id)
    if conversation_id is not None:
        query = query.where(ReplyTrace.conversation_id == conversation_id)
    if start is not None:
        query = query.where(ReplyTrace.created_at >= start)
    if end is not None:
        query = query.where(ReplyTrace.created_at < end)
    return await paginate(
        session, query, order=by(ReplyTrace.id, descending=True), cursor=cursor, limit=limit
    )


async def of_message(
    session: AsyncSession, *, tenant_id: str, message_id: str
) -> ReplyTrace | None:
    """The trace of the reply ``message_id``, if it has one."""
    return await session.scalar(
        select(ReplyTrace).where(
            ReplyTrace.tenant_id == tenant_id, ReplyTrace.message_id == message_id
        )
    )


async def get(session: AsyncSession, *, tenant_id: str, trace_id: str) -> ReplyTrace | None:
    """One trace of the tenant."""
    return await session.scalar(
        select(ReplyTrace).where(ReplyTrace.tenant_id == tenant_id, ReplyTrace.id == trace_id)
    )


@dataclass(frozen=True)
class ModelUsage:
    """Tokens and cost of one model over a period."""

    model: str
    replies: int
    tokens_in: int
    tokens_out: int
    cost_usd: float


async def usage(
    session: AsyncSession, *, tenant_id: str, start: datetime, end: datetime
) -> list[ModelUsage]:
    """Tokens and cost per model in [start, end)."""
    rows = await session.execute(
        select(
            ReplyTrace.model,
            func.count(),
            func.coalesce(func.sum(ReplyTrace.tokens_in), 0),
            func.coalesce(func.sum(ReplyTrace.tokens_out), 0),
            func.coalesce(func.sum(ReplyTrace.cost_usd), 0.0),
        )
        .where(
            ReplyTrace.tenant_id == tenant_id,
            ReplyTrace.created_at >= start,
            ReplyTrace.created_at < end,
        )
        .group_by(ReplyTrace.model)
        .order_by(ReplyTrace.model)
    )
    return [
        ModelUsage(str(model), int(count), int(t_in), int(t_out), round(float(cost), 6))
        for model, count, t_in, t_out, cost in rows.all()
    ]


def month_of(now: datetime) -> tuple[datetime, datetime]:
    """The calendar month (UTC) holding ``now``: its first instant and the next month's."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


async def spent_usd(
    session: AsyncSession, *, tenant_id: str, start: datetime, end: datetime
) -> float:
    """What the tenant's replies in [start, end) cost (the recorded cost of each reply)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(ReplyTrace.cost_usd), 0.0)).where(
            ReplyTrace.tenant_id == tenant_id,
            ReplyTrace.created_at >= start,
            ReplyTrace.created_at < end,
        )
    )
    return round(float(total or 0.0), 6)


@dataclass(frozen=True)
class Budget:
    """The tenant's AI budget for the calendar month (UTC) and what it has spent of it."""

    monthly_usd: float | None
    spent_usd: float
    month_start: datetime
    month_end: datetime

    @property
    def remaining_usd(self) -> float | None:
        """What is left this month (never below 0); None without a budget."""
        if self.monthly_usd is None:
            return None
        return round(max(self.monthly_usd - self.spent_usd, 0.0), 6)

    def allows(self, extra_usd: float = 0.0) -> bool:
        """Whether a hosted model may still be called, ``extra_usd`` being spent already."""
        return self.monthly_usd is None or self.spent_usd + extra_usd < self.monthly_usd


async def budget(
    session: AsyncSession, *, tenant_id: str, monthly_usd: float | None, now: datetime
) -> Budget:
    """The tenant's budget for the month of ``now`` and its spending so far."""
    start, end = month_of(now)
    spent = await spent_usd(session, tenant_id=tenant_id, start=start, end=end)
    return Budget(monthly_usd, spent, start, end)


async def purge(session: AsyncSession, *, now: datetime, default_days: int) -> int:
    """Delete traces older than each tenant's retention (run across tenants)."""
    removed = 0
    custom = dict(
        (
            await session.execute(
                select(AssistantSettings.tenant_id, AssistantSettings.trace_retention_days)
            )
        ).all()
    )
    for tenant_id, days in custom.items():
        result = await session.execute(
            delete(ReplyTrace).where(
                ReplyTrace.tenant_id == tenant_id,
                ReplyTrace.created_at < now - timedelta(days=int(days)),
            )
        )
        removed += int(result.rowcount)  # type: ignore[attr-defined]
    result = await session.execute(
        delete(ReplyTrace).where(
            ReplyTrace.tenant_id.not_in(list(custom))
            if custom
            else ReplyTrace.tenant_id.is_not(None),
            ReplyTrace.created_at < now - timedelta(days=default_days),
        )
    )
    return removed + int(result.rowcount)  # type: ignore[attr-defined]


async def export_contact(session: AsyncSession, ref: ContactRef) -> dict[str, Any]:
    """The traces of replies to the contact (ids, route and cost; no other contact's data)."""
    rows = await session.scalars(
        select(ReplyTrace)
        .where(ReplyTrace.tenant_id == ref.tenant_id, ReplyTrace.contact_id == ref.contact_id)
        .order_by(ReplyTrace.id)
    )
    return {
        "traces": [
            as_dict(t, "message_id", "model", "intents", "tokens_in", "tokens_out", "created_at")
            for t in rows
        ]
    }


async def erase_contact(session: AsyncSession, ref: ContactRef) -> Erased:
    """Delete the traces of replies to the contact."""
    result = await session.execute(
        delete(ReplyTrace).where(
            ReplyTrace.tenant_id == ref.tenant_id, ReplyTrace.contact_id == ref.contact_id
        )
    )
    return Erased(rows=int(result.rowcount))  # type: ignore[attr-defined]
