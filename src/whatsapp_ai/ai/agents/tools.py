"""Tools the agents call: typed arguments, the run's context, idempotent writes, a trace.

A tool is declared once (name, agent, description, Pydantic arguments, an async function) and
offered to any chat model as a LangChain tool. The function receives the run's context (tenant,
contact, conversation, message) from the platform; the model only supplies the arguments, so
no prompt can make a tool act for another contact or tenant.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, ConfigDict, ValidationError

from whatsapp_ai.ai.agents.context import RunContext
from whatsapp_ai.core.db import Database, tenant_scope
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.pii import redact

log = get_logger(__name__)


class NoArgs(BaseModel):
    """No arguments."""

    model_config = ConfigDict(extra="forbid")


class ToolOutcome(BaseModel):
    """What a tool did: a sentence for the contact in their language, and the data."""

    model_config = ConfigDict(frozen=True)

    say: str
    data: dict[str, Any] = {}
    ok: bool = True


@dataclass
class ToolCallTrace:
    """One call as the audit trail keeps it (arguments and result redacted)."""

    tool: str
    args: str
    result: str
    ok: bool
    ms: float


@dataclass
class ToolRuntime:
    """What tool functions may use during one turn."""

    ctx: RunContext
    db: Database
    calls: int = 0
    traces: list[ToolCallTrace] = field(default_factory=list)
    # Signals tools leave for the engine: a search that found nothing (it answered, but did
    # not help), and a call for a person (e.g. an order waiting for an operator).
    unhelpful: int = 0
    handoff: str | None = None

    def note(self, outcome: ToolOutcome) -> None:
        """Keep what an outcome tells the engine beyond its sentence."""
        if outcome.data.get("found") is False:
            self.unhelpful += 1
        if outcome.data.get("handoff") and self.handoff is None:
            self.handoff = str(outcome.data["handoff"])

    def key(self, label: str) -> str:
        """An idempotency key for the n-th write of this turn: a retried turn makes the same."""
        self.calls += 1
        return f"{self.ctx.message_id}:{label}:{self.calls}"


ToolFn = Callable[[ToolRuntime, Any], Awaitable[ToolOutcome]]


@dataclass(frozen=True)
class Tool:
    """A capability an agent may use."""

    name: str
    agent: str
    description: str
    args: type[BaseModel]
    run: ToolFn

    def bind(self, runtime: ToolRuntime) -> StructuredTool:
        """This tool as a LangChain tool bound to one turn's runtime."""

        def record(arguments: Any, outcome: ToolOutcome, started: float) -> str:
            content = outcome.model_dump_json()
            runtime.traces.append(
                ToolCallTrace(
                    tool=self.name,
                    args=redact(json.dumps(arguments, ensure_ascii=False, default=str))[:2000],
                    result=redact(content)[:2000],
                    ok=outcome.ok,
                    ms=round((time.perf_counter() - started) * 1000, 2),
                )
            )
            log.info("tool.called", tool=self.name, ok=outcome.ok)
            return content

        async def call(**kwargs: Any) -> str:
            started = time.perf_counter()
            args = self.args.model_validate(kwargs)
            try:
                with tenant_scope(runtime.ctx.tenant_id):
                    outcome = await self.run(runtime, args)
            except ToolError as exc:
                outcome = ToolOutcome(say=str(exc), data={"error": str(exc)}, ok=False)
            runtime.note(outcome)
            return record(args.model_dump(mode="json"), outcome, started)

        def refused(exc: ValidationError) -> str:
            # The model's arguments did not validate: the tool never runs; the model is told why.
            problem = ToolOutcome(say="", data={"error": _validation_message(exc)}, ok=False)
            return record({"invalid": True}, problem, time.perf_counter())

        return StructuredTool.from_function(
            coroutine=call,
            name=self.name,
            description=self.description,
            args_schema=self.args,
            handle_validation_error=refused,
        )


class ToolError(Exception):
    """A tool could not do what was asked; the message is said to the contact."""


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "arguments"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
