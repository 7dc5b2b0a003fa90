"""Hosted models for the requests the router is unsure of.

The model sees the tools of every agent the tenant switched on at once and chooses the calls.
Cheap models answer first; a strong one is asked only when the cheap answer is unusable: no
tool call where one was needed, a call the tool schema refuses, or a model that says it is not
sure. Before each call the tenant's monthly budget is asked; once it is spent, no hosted model
is called. When no hosted answer is usable the caller's offline planner answers.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import ValidationError

from whatsapp_ai.ai.agents.loop import AgentRun, ChatModel, Limits, run_agent
from whatsapp_ai.ai.agents.tools import Tool, ToolRuntime
from whatsapp_ai.core.config import ProviderSpec
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.text import fold

log = get_logger(__name__)
AGENT = "hosted"
UNSURE = "UNSURE"
# Why a clause was answered by the model that answered it (kept in the reply's trace).
CONFIDENT_OFFLINE = "confident-offline"
CONFIDENT_HOSTED = "confident-hosted"
LOW_CONFIDENCE_HOSTED = "low-confidence-hosted"
LOW_CONFIDENCE_OFFLINE = "low-confidence-offline"
ESCALATED = "escalated"
BUDGET_EXHAUSTED = "budget-exhausted"
FALLBACK = "fallback"

PROMPT = (
    "The request below could not be routed with confidence. You have the tools of every agent "
    "at once: call the ones the request needs, with arguments exactly as their schemas say. "
    "If the request lacks a detail a tool needs, ask for it in one short question. If no tool "
    f"fits the request or you are not sure what it asks, answer exactly {UNSURE}. The agents:"
)
_UNSURE = re.compile(
    r"\bunsure\b|\bnot (?:sure|certain)\b|\bnao (?:tenho (?:certeza|ctz)|sei|entendi)\b"
)


@dataclass(frozen=True)
class Level:
    """The hosted models of one tier, tried in order (failures fall to the next of the tier)."""

    tier: str
    models: str
    model: ChatModel


def levels(
    specs: Sequence[ProviderSpec], build: Callable[[Sequence[ProviderSpec]], ChatModel]
) -> list[Level]:
    """The cheap models, then the strong ones (a tier without models is left out)."""
    hosted = [spec for spec in specs if spec.provider != "offline"]
    found = []
    for tier in ("cheap", "strong"):
        chosen = [spec for spec in hosted if spec.tier == tier]
        if chosen:
            found.append(Level(tier, ",".join(spec.key for spec in chosen), build(chosen)))
    return found


def system_prompt(agents: Sequence[tuple[str, str]]) -> str:
    """The routing instructions and each enabled agent's own."""
    return "\n".join([PROMPT, *(f"- {name}: {prompt}" for name, prompt in agents)])


def unusable(answer: AIMessage, tools: dict[str, Tool]) -> str | None:
    """Why ``answer`` cannot be acted on, or None when it can (deterministic)."""
    if answer.invalid_tool_calls:
        return "invalid tool call"
    for call in answer.tool_calls:
        tool = tools.get(call["name"])
        if tool is None:
            return f"unknown tool {call['name']}"
        try:
            tool.args.model_validate(call["args"])
        except ValidationError:
            return f"invalid arguments for {call['name']}"
    if answer.tool_calls:
        return None
    text = str(answer.content).strip()
    if not text:
        return "empty answer"
    if _UNSURE.search(fold(text)):
        return "unsure"
    # A question back asks for what a tool needs; any other text skipped the tools.
    if not text.endswith("?"):
        return "no tool call"
    return None


@dataclass
class Attempt:
    """One tier's try: which models, and how it went (answered, unusable, failed, budget)."""

    tier: str
    models: str
    outcome: str


@dataclass
class Outcome:
    """What the hosted models did with a request."""

    run: AgentRun | None = None
    tier: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    over_budget: bool = False

    @property
    def route(self) -> str:
        """Why the model that answers was chosen."""
        if self.run is None:
            return BUDGET_EXHAUSTED if self.over_budget else FALLBACK
        return LOW_CONFIDENCE_HOSTED if len(self.attempts) == 1 else ESCALATED

    def trace(self) -> list[dict[str, Any]]:
        """The attempts, for the reply's trace."""
        return [asdict(attempt) for attempt in self.attempts]


async def answer(
    *,
    tiers: Sequence[Level],
    tools: Sequence[Tool],
    runtime: ToolRuntime,
    messages: list[BaseMessage],
    limits: Limits,
    affordable: Callable[[], Awaitable[bool]],
) -> Outcome:
    """The first usable answer of the tiers, its tool calls run; or why there is none."""
    by_name = {tool.name: tool for tool in tools}
    outcome = Outcome()
    for level in tiers:
        if not await affordable():
            outcome.attempts.append(Attempt(level.tier, level.models, "budget"))
            outcome.over_budget = True
            break
        runnable: Any = level.model.bind_tools([tool.bind(runtime) for tool in tools])
        try:
            async with asyncio.timeout(limits.max_seconds):
                first: AIMessage = await runnable.ainvoke(messages)
        except Exception as exc:  # any failure of the models: the next tier, or the offline planner
            causes = getattr(exc, "errors", None) or [exc]
            failure = ", ".join(type(getattr(c, "cause", None) or c).__name__ for c in causes)
            log.warning("hosted.failed", tier=level.tier, error=failure)
            outcome.attempts.append(Attempt(level.tier, level.models, f"failed: {failure}"))
            continue
        why = unusable(first, by_name)
        if why is not None:
            log.info("hosted.unusable", tier=level.tier, why=why)
            outcome.attempts.append(Attempt(level.tier, level.models, f"unusable: {why}"))
            continue
        outcome.attempts.append(Attempt(level.tier, level.models, "answered"))
        outcome.run = await run_agent(
            AGENT, level.model, list(tools), runtime, messages, limits, first=first
        )
        outcome.tier = level.tier
        return outcome
    return outcome
