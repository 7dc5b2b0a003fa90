"""Each tenant's conversation policy: the platform defaults, overridden field by field."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.conversation.models import ConversationPolicy
from whatsapp_ai.core.config import LifecycleSettings


@dataclass(frozen=True)
class Policy:
    """How a tenant's conversations age, wait for people and get handed off."""

    idle_after_min: float
    close_after_min: float
    human_wait_min: float
    resume_on_wait_timeout: bool
    operator_idle_min: float
    operator_max_open: int
    auto_assign: bool
    handoff_after_failures: int
    human_only_topics: tuple[str, ...] = ()

    @classmethod
    def defaults(cls, settings: LifecycleSettings) -> Policy:
        """The platform's defaults."""
        values = {
            f.name: getattr(settings, f.name) for f in fields(cls) if hasattr(settings, f.name)
        }
        return cls(**values)

    @property
    def idle_after(self) -> timedelta:
        return timedelta(minutes=self.idle_after_min)

    @property
    def close_after(self) -> timedelta:
        return timedelta(minutes=self.close_after_min)

    @property
    def human_wait(self) -> timedelta:
        return timedelta(minutes=self.human_wait_min)

    @property
    def operator_idle(self) -> timedelta:
        return timedelta(minutes=self.operator_idle_min)


OVERRIDABLE = tuple(f.name for f in fields(Policy))


async def load(session: AsyncSession, *, tenant_id: str, defaults: Policy) -> Policy:
    """The tenant's policy: its own values where set, the defaults elsewhere."""
    row = await session.get(ConversationPolicy, tenant_id)
    if row is None:
        return defaults
    changes: dict[str, Any] = {}
    for name in OVERRIDABLE:
        value = getattr(row, name)
        if name == "human_only_topics":
            changes[name] = tuple(value or ())
        elif value is not None:
            changes[name] = value
    return replace(defaults, **changes)


async def overrides(session: AsyncSession, *, tenant_id: str) -> dict[str, Any]:
    """The values the tenant set itself (the others follow the platform defaults)."""
    row = await session.get(ConversationPolicy, tenant_id)
    if row is None:
        return {}
    found = {name: getattr(row, name) for name in OVERRIDABLE}
    return {name: value for name, value in found.items() if value not in (None, [])}


async def update(
    session: AsyncSession, *, tenant_id: str, changes: dict[str, Any], now: datetime
) -> None:
    """Set (or, with None, reset to the default) some of the tenant's values."""
    row = await session.get(ConversationPolicy, tenant_id)
    if row is None:
        row = ConversationPolicy(tenant_id=tenant_id, human_only_topics=[], updated_at=now)
        session.add(row)
    for name, value in changes.items():
        if name not in OVERRIDABLE:
            raise KeyError(name)
        if name == "human_only_topics":
            value = list(value or [])
        setattr(row, name, value)
    row.updated_at = now
    await session.flush()
