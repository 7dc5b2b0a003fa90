"""Each tenant's assistant settings: its profile (a personal assistant, a store, a services
business, or custom), the agents switched on, its name and description, its own chat models,
PII redaction before text leaves for a provider, its monthly AI budget, and how long reply
traces are kept."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.ai.models import AssistantSettings
from whatsapp_ai.core.config import ProviderSpec
from whatsapp_ai.core.crypto import SecretBox

DEFAULT_RETENTION_DAYS = 30

# The agents as the README names them; "crm" is the stored name of the agenda.
AGENT_NAMES = ("finance", "agenda", "knowledge", "sales", "profile")
_STORED = {"agenda": "crm"}
_SHOWN = {stored: shown for shown, stored in _STORED.items()}
ALL_AGENTS = frozenset(_STORED.get(name, name) for name in AGENT_NAMES)
PROFILES = ("personal", "store", "services", "custom")
# What each profile switches on (custom: what the tenant lists; personal: everything).
PROFILE_AGENTS: dict[str, frozenset[str] | None] = {
    "personal": None,
    "store": frozenset({"sales", "knowledge", "profile"}),
    "services": frozenset({"knowledge", "profile"}),
}


def stored_agents(names: Iterable[str]) -> list[str]:
    """The stored names of agents named as the README does (or by their legacy names)."""
    return sorted({_STORED.get(name, name) for name in names})


def shown_agents(names: Iterable[str]) -> list[str]:
    """The README's names of stored agent names."""
    return sorted(_SHOWN.get(name, name) for name in names)


def unknown_agents(names: Iterable[str]) -> list[str]:
    """The names that are no agent (the legacy "crm" is the agenda)."""
    return sorted(set(names) - set(AGENT_NAMES) - set(_SHOWN))


@dataclass(frozen=True)
class TenantAssistant:
    """The settings in force for one tenant."""

    enabled_agents: frozenset[str] | None = None
    providers: tuple[ProviderSpec, ...] = ()
    redact_pii: bool = False
    trace_retention_days: int = DEFAULT_RETENTION_DAYS
    profile: str = "personal"
    assistant_name: str | None = None
    description: str | None = None
    # USD a calendar month (UTC) of hosted models may cost; None: no limit.
    monthly_ai_budget_usd: float | None = None

    def enabled(self, agent: str) -> bool:
        """Whether ``agent`` (stored name) is switched on."""
        return self.enabled_agents is None or agent in self.enabled_agents


async def load(session: AsyncSession, box: SecretBox, *, tenant_id: str) -> TenantAssistant:
    """The tenant's settings (the platform's defaults where it set nothing)."""
    row = await session.get(AssistantSettings, tenant_id)
    if row is None:
        return TenantAssistant()
    providers: tuple[ProviderSpec, ...] = ()
    if row.providers_secret:
        raw = json.loads(box.decrypt(row.providers_secret))
        providers = tuple(ProviderSpec.model_validate(item) for item in raw)
    agents = frozenset(row.enabled_agents) if row.enabled_agents is not None else None
    return TenantAssistant(
        agents,
        providers,
        row.redact_pii,
        row.trace_retention_days,
        row.profile or "personal",
        row.assistant_name,
        row.description,
        row.monthly_ai_budget_usd,
    )


async def agent_enabled(session: AsyncSession, *, tenant_id: str, agent: str) -> bool:
    """Whether the tenant runs ``agent`` (stored name); every agent when it chose none."""
    row = await session.get(AssistantSettings, tenant_id)
    return row is None or row.enabled_agents is None or agent in row.enabled_agents


async def update(
    session: AsyncSession,
    box: SecretBox,
    *,
    tenant_id: str,
    changes: dict[str, Any],
    now: datetime,
) -> TenantAssistant:
    """Apply ``changes`` (providers as specs; None clears a value back to the default)."""
    row = await session.get(AssistantSettings, tenant_id)
    if row is None:
        row = AssistantSettings(
            tenant_id=tenant_id,
            redact_pii=False,
            trace_retention_days=DEFAULT_RETENTION_DAYS,
            profile="personal",
            updated_at=now,
        )
        session.add(row)
    if changes.get("profile") is not None:
        row.profile = str(changes["profile"])
        # A profile sets its agents unless the same change lists them.
        if "enabled_agents" not in changes and row.profile in PROFILE_AGENTS:
            preset = PROFILE_AGENTS[row.profile]
            row.enabled_agents = sorted(preset) if preset is not None else None
    if "enabled_agents" in changes:
        agents = changes["enabled_agents"]
        row.enabled_agents = stored_agents(agents) if agents is not None else None
    for text_field in ("assistant_name", "description"):
        if text_field in changes:
            value = (changes[text_field] or "").strip()
            setattr(row, text_field, value or None)
    if "providers" in changes:
        specs = changes["providers"]
        row.providers_secret = (
            box.encrypt(json.dumps([_plain_spec(spec) for spec in specs])) if specs else None
        )
    if "monthly_ai_budget_usd" in changes:
        budget = changes["monthly_ai_budget_usd"]
        row.monthly_ai_budget_usd = float(budget) if budget is not None else None
    if "redact_pii" in changes:
        row.redact_pii = bool(changes["redact_pii"])
    if "trace_retention_days" in changes:
        row.trace_retention_days = int(changes["trace_retention_days"] or DEFAULT_RETENTION_DAYS)
    row.updated_at = now
    await session.flush()
    return await load(session, box, tenant_id=tenant_id)


def _plain_spec(spec: ProviderSpec) -> dict[str, Any]:
    data = spec.model_dump(mode="json")
    data["api_key"] = spec.api_key.get_secret_value()
    return data


async def rotate_secrets(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypt every tenant's chat-model keys under the newest key; how many rewritten."""
    rows = list(
        await session.scalars(
            select(AssistantSettings).where(AssistantSettings.providers_secret.is_not(None))
        )
    )
    for row in rows:
        assert row.providers_secret is not None
        row.providers_secret = box.rotate(row.providers_secret)
    await session.flush()
    return len(rows)
