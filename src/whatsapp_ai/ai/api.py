"""Assistant REST API: the tenant's assistant settings, reply traces and usage."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Protocol, cast

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from whatsapp_ai.ai import settings as assistant_settings
from whatsapp_ai.ai import traces
from whatsapp_ai.ai.settings import TenantAssistant
from whatsapp_ai.billing import service as billing
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.config import ProviderSpec
from whatsapp_ai.core.crypto import SecretBox
from whatsapp_ai.core.db import Database
from whatsapp_ai.core.errors import InvalidInputError, NotFoundError
from whatsapp_ai.core.http import Principal, require
from whatsapp_ai.core.inputs import FREE_TEXT, Input
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Cursor, Limit, Page

router = APIRouter(prefix="/assistant", tags=["assistant"])
ProfileName = Literal["personal", "store", "services", "custom"]


class _Runtime(Protocol):
    db: Database
    box: SecretBox
    clock: Clock


def _runtime(request: Request) -> _Runtime:
    return cast(_Runtime, request.app.state.runtime)


class SettingsOut(BaseModel):
    """The settings in force (provider keys are never shown)."""

    profile: str
    assistant_name: str | None
    description: str | None
    enabled_agents: list[str] | None
    providers: list[dict[str, Any]]
    redact_pii: bool
    trace_retention_days: int
    monthly_ai_budget_usd: float | None


class SettingsIn(Input):
    """Changes; null resets a value to the platform default."""

    profile: ProfileName | None = None
    assistant_name: str | None = Field(default=None, max_length=80)
    description: Annotated[str, FREE_TEXT] | None = Field(default=None, max_length=300)
    enabled_agents: list[str] | None = None
    providers: list[ProviderSpec] | None = Field(default=None, max_length=5)
    redact_pii: bool | None = None
    trace_retention_days: int | None = Field(default=None, ge=1, le=3650)
    monthly_ai_budget_usd: float | None = Field(default=None, ge=0, le=1_000_000)


class TraceOut(BaseModel):
    """One reply's trace."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    conversation_id: str
    message_id: str
    model: str
    intents: list[Any]
    tokens_in: int
    tokens_out: int
    cost_usd: float
    latency_ms: float
    created_at: datetime
    detail: dict[str, Any] | None = None


class UsageOut(BaseModel):
    """Tokens and cost per model over a period."""

    model: str
    replies: int
    tokens_in: int
    tokens_out: int
    cost_usd: float


class BudgetOut(BaseModel):
    """The monthly AI budget (calendar month, UTC): once spent, only the offline model answers."""

    monthly_ai_budget_usd: float | None
    spent_usd: float
    remaining_usd: float | None
    month_start: datetime
    month_end: datetime


class UsageReportOut(BaseModel):
    """Usage per model over a period, and this month's budget."""

    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    models: list[UsageOut]
    budget: BudgetOut


def _shown(current: TenantAssistant) -> SettingsOut:
    agents = current.enabled_agents
    return SettingsOut(
        profile=current.profile,
        assistant_name=current.assistant_name,
        description=current.description,
        enabled_agents=assistant_settings.shown_agents(agents) if agents is not None else None,
        providers=[
            {
                **spec.model_dump(mode="json", exclude={"api_key"}),
                "api_key_set": bool(spec.api_key.get_secret_value()),
            }
            for spec in current.providers
        ],
        redact_pii=current.redact_pii,
        trace_retention_days=current.trace_retention_days,
        monthly_ai_budget_usd=current.monthly_ai_budget_usd,
    )


@router.get("/settings", response_model=SettingsOut)
async def get_settings(
    request: Request, caller: Annotated[Principal, Depends(require("settings:read"))]
) -> SettingsOut:
    """The assistant settings in force for the tenant."""
    rt = _runtime(request)
    async with rt.db.read() as session:
        return _shown(await assistant_settings.load(session, rt.box, tenant_id=caller.tenant_id))


@router.patch("/settings", response_model=SettingsOut)
async def update_settings(
    request: Request,
    caller: Annotated[Principal, Depends(require("settings:write"))],
    body: SettingsIn,
) -> SettingsOut:
    """Choose the assistant's profile (personal, store, services, custom), name and description,
    switch agents on or off, set the tenant's own chat models (keys are stored encrypted),
    redact personal data before text leaves for a provider, keep traces for N days, and cap
    what hosted models may cost a month (`monthly_ai_budget_usd`, null: no cap)."""
    changes = body.model_dump(exclude_unset=True)
    unknown = assistant_settings.unknown_agents(changes.get("enabled_agents") or ())
    if unknown:
        valid = ", ".join(assistant_settings.AGENT_NAMES)
        raise InvalidInputError(
            f"unknown agents: {', '.join(unknown)}; the agents are: {valid}",
            field="enabled_agents",
        )
    if "providers" in changes:
        changes["providers"] = body.providers
    rt = _runtime(request)
    async with rt.db.transaction() as session:
        if changes.get("providers"):
            # The tenant's own hosted models are a plan feature (402 names the plan).
            await billing.check(
                session,
                tenant_id=caller.tenant_id,
                feature=billing.OWN_MODELS,
                now=rt.clock.now(),
            )
        current = await assistant_settings.update(
            session, rt.box, tenant_id=caller.tenant_id, changes=changes, now=rt.clock.now()
        )
    return _shown(current)


Reader = Annotated[Principal, Depends(require("conversations:read"))]


@router.get("/traces", response_model=Page[TraceOut])
async def list_traces(
    request: Request,
    caller: Reader,
    conversation_id: str | None = None,
    start: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[TraceOut]:
    """Reply traces, newest first (route, tokens, cost, latency), without their detail."""
    async with _runtime(request).db.read() as session:
        found = await traces.list_traces(
            session,
            tenant_id=caller.tenant_id,
            cursor=cursor,
            limit=limit,
            conversation_id=conversation_id,
            start=start,
            end=end,
        )
        return Page[TraceOut].of(
            found, lambda row: TraceOut.model_validate(row).model_copy(update={"detail": None})
        )


@router.get("/traces/{trace_id}", response_model=TraceOut)
async def get_trace(request: Request, caller: Reader, trace_id: str) -> TraceOut:
    """One trace with its detail: each request's intent and agent, tool calls (arguments and
    results redacted), provider calls with tokens and cost."""
    async with _runtime(request).db.read() as session:
        found = await traces.get(session, tenant_id=caller.tenant_id, trace_id=trace_id)
        if found is None:
            raise NotFoundError("trace not found")
        return TraceOut.model_validate(found)


@router.get("/usage", response_model=UsageReportOut, response_model_by_alias=True)
async def usage(
    request: Request,
    caller: Reader,
    start: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to")] = None,
) -> UsageReportOut:
    """Replies, tokens and cost per model in [from, to) (default: this calendar month, UTC),
    and the monthly AI budget: its amount, what this month spent and what remains."""
    rt = _runtime(request)
    month_start, month_end = traces.month_of(rt.clock.now())
    start = start or month_start
    end = end or month_end
    if end <= start:
        raise InvalidInputError("`to` must be after `from`", field="to")
    async with rt.db.read() as session:
        rows = await traces.usage(session, tenant_id=caller.tenant_id, start=start, end=end)
        current = await assistant_settings.load(session, rt.box, tenant_id=caller.tenant_id)
        month = await traces.budget(
            session,
            tenant_id=caller.tenant_id,
            monthly_usd=current.monthly_ai_budget_usd,
            now=rt.clock.now(),
        )
    return UsageReportOut(
        start=start,
        end=end,
        models=[UsageOut(**row.__dict__) for row in rows],
        budget=BudgetOut(
            monthly_ai_budget_usd=month.monthly_usd,
            spent_usd=month.spent_usd,
            remaining_usd=month.remaining_usd,
            month_start=month.month_start,
            month_end=month.month_end,
        ),
    )
