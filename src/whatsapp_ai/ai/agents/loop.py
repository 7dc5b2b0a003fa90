"""The bounded agent loop: the model answers or calls tools, the tools run, until a final answer.

Bounded three ways: steps (model calls), time, and tokens. It stops at the first answer without
tool calls, and never runs the same call twice in a turn (a model that repeats itself is
stopped, not indulged).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from whatsapp_ai.ai.agents.tools import Tool, ToolRuntime
from whatsapp_ai.ai.llm import FallbackChain
from whatsapp_ai.core.logging import get_logger

log = get_logger(__name__)
# A chat model, or a chain of them with fallbacks: both bind tools.
ChatModel = BaseChatModel | FallbackChain


@dataclass(frozen=True)
class Limits:
    """How far one agent may go in one turn."""

    max_steps: int = 4
    max_seconds: float = 30.0
    max_tokens: int = 8000


@dataclass
class AgentRun:
    """What one agent did in a turn."""

    agent: str
    text: str
    steps: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    model: str = ""
    stopped: str = "answered"  # answered | steps | time | tokens | repeated | failed
    tool_calls: list[str] = field(default_factory=list)


async def run_agent(
    agent: str,
    model: ChatModel,
    tools: list[Tool],
    runtime: ToolRuntime,
    messages: list[BaseMessage],
    limits: Limits = Limits(),
    *,
    first: AIMessage | None = None,
) -> AgentRun:
    """Run ``agent`` on ``messages`` with ``tools`` until it answers or hits a limit.

    ``first`` is the model's answer to ``messages`` when the caller already has it (it counts
    as the first step). A model that fails after tools ran stops the run ("failed"); what the
    tools did is still told. A failure before any tool ran is the caller's to handle.
    """
    bound_tools = {tool.name: tool.bind(runtime) for tool in tools}
    runnable: Any = model.bind_tools(list(bound_tools.values())) if bound_tools else model
    run = AgentRun(agent=agent, text="")
    seen: set[str] = set()
    deadline = time.monotonic() + limits.max_seconds
    history = list(messages)
    while run.steps < limits.max_steps:
        left = deadline - time.monotonic()
        if left <= 0:
            run.stopped = "time"
            break
        run.steps += 1
        try:
            if first is not None:
                answer, first = first, None
            else:
                answer = await asyncio.wait_for(runnable.ainvoke(history), timeout=left)
        except TimeoutError:
            run.stopped = "time"
            break
        except Exception:
            if not any(isinstance(message, ToolMessage) for message in history):
                raise
            run.stopped = "failed"
            break
        _count(run, answer)
        history.append(answer)
        if not answer.tool_calls:
            run.text = str(answer.content).strip()
            return run
        if run.tokens_in + run.tokens_out > limits.max_tokens:
            run.stopped = "tokens"
            break
        fresh = [c for c in answer.tool_calls if _signature(c) not in seen]
        if not fresh:
            run.stopped = "repeated"
            break
        for call in answer.tool_calls:
            signature = _signature(call)
            if signature in seen or call["name"] not in bound_tools:
                content = json.dumps({"say": "", "ok": False, "data": {"error": "not run"}})
            else:
                seen.add(signature)
                run.tool_calls.append(call["name"])
                content = await bound_tools[call["name"]].ainvoke(call["args"])
            history.append(ToolMessage(content=content, tool_call_id=call["id"] or call["name"]))
    else:
        run.stopped = "steps"
    log.warning("agent.stopped", agent=agent, reason=run.stopped, steps=run.steps)
    run.text = _said_by_tools(history)
    return run


def _signature(call: Any) -> str:
    return f"{call['name']}:{json.dumps(call['args'], sort_keys=True, default=str)}"


def _count(run: AgentRun, answer: AIMessage) -> None:
    usage: dict[str, Any] = dict(answer.usage_metadata or {})
    run.tokens_in += int(usage.get("input_tokens", 0))
    run.tokens_out += int(usage.get("output_tokens", 0))
    run.model = str(answer.response_metadata.get("model_name", run.model) or run.model)


def _said_by_tools(history: list[BaseMessage]) -> str:
    """When the model never answered, what the tools did is still worth telling."""
    said = []
    for message in history:
        if isinstance(message, ToolMessage):
            try:
                outcome = json.loads(str(message.content))
            except ValueError:
                continue
            if isinstance(outcome, dict) and outcome.get("say"):
                said.append(str(outcome["say"]))
    return "\n".join(said)
