"""The offline chat model: no network, deterministic, and a real LangChain chat model with
tool calling, so the same router → agents → tools path runs with or without an API key.

It reads the user's message, asks a planner (encoder routing plus extraction of amounts,
dates and names) which of the bound tools to call with which arguments, and answers with those
tool calls. Once the tools have answered, it replies with the sentences they wrote for the
contact. The moment, time zone and language come from the context header of the system prompt,
the same line hosted models read.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, SkipValidation

from whatsapp_ai.ai.agents.context import DEFAULT_TIMEZONE, Moment, read_header
from whatsapp_ai.core.clock import Clock, SystemClock

MODEL_NAME = "offline-planner"


@dataclass(frozen=True)
class Plan:
    """What to do with a message: tool calls, or a text answer (a question back, a refusal)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    text: str = ""


class Planner(Protocol):
    """Chooses tool calls for a message among the tools the model was given."""

    def plan(self, text: str, tools: Sequence[str], moment: Moment) -> Plan:
        """The plan for ``text``."""
        ...


_SCHEMAS: dict[tuple[str, str, Any], dict[str, Any]] = {}
_SCHEMAS_LOCK = threading.Lock()


def openai_tool(tool: Any) -> dict[str, Any]:
    """``tool`` in OpenAI's format. A tool's schema depends only on its name, description and
    argument model, so it is built once per tool: building it (a Pydantic JSON schema) costs
    milliseconds, and every agent run of every turn binds its tools again."""
    args = getattr(tool, "args_schema", None)
    if not isinstance(args, type) or not hasattr(tool, "name"):
        return convert_to_openai_tool(tool)
    key = (str(tool.name), str(getattr(tool, "description", "")), args)
    with _SCHEMAS_LOCK:
        schema = _SCHEMAS.get(key)
    if schema is None:
        schema = convert_to_openai_tool(tool)
        with _SCHEMAS_LOCK:
            _SCHEMAS[key] = schema
    return copy.deepcopy(schema)


class OfflineChatModel(BaseChatModel):
    """A chat model backed by a planner; it plans only among the tools bound to the call."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    planner: Any
    # The moment of a prompt without a context header.
    clock: SkipValidation[Clock] = Field(default_factory=SystemClock)
    model_name: str = MODEL_NAME

    @property
    def _llm_type(self) -> str:
        return "offline"

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """The model with ``tools`` bound (in OpenAI's format, as every provider binds them)."""
        del tool_choice
        return self.bind(tools=[openai_tool(tool) for tool in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        del stop, run_manager
        names = tuple(tool["function"]["name"] for tool in kwargs.get("tools") or ())
        message = self._answer(messages, names)
        words_in = sum(len(str(m.content).split()) for m in messages)
        words_out = len(str(message.content).split()) + 8 * len(message.tool_calls)
        message.usage_metadata = {
            "input_tokens": words_in,
            "output_tokens": words_out,
            "total_tokens": words_in + words_out,
        }
        message.response_metadata = {"model_name": self.model_name}
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _answer(self, messages: list[BaseMessage], tools: tuple[str, ...]) -> AIMessage:
        if messages and isinstance(messages[-1], ToolMessage):
            return AIMessage(content=_tool_answers(messages))
        moment = _moment(messages, self.clock)
        text = next((str(m.content) for m in reversed(messages) if isinstance(m, HumanMessage)), "")
        plan: Plan = self.planner.plan(text, tools, moment)
        if not plan.calls:
            return AIMessage(content=plan.text)
        calls = [
            {"name": name, "args": args, "id": f"call_{index}", "type": "tool_call"}
            for index, (name, args) in enumerate(plan.calls)
            if name in tools
        ]
        return AIMessage(content="", tool_calls=calls)


def _moment(messages: list[BaseMessage], clock: Clock) -> Moment:
    for message in messages:
        if isinstance(message, SystemMessage) and (found := read_header(str(message.content))):
            return found
    return Moment(clock.now(), DEFAULT_TIMEZONE, "pt")


def _tool_answers(messages: list[BaseMessage]) -> str:
    """The sentences the tools of the last round wrote for the contact."""
    said: list[str] = []
    for message in reversed(messages):
        if not isinstance(message, ToolMessage):
            break
        try:
            outcome = json.loads(str(message.content))
        except ValueError:
            continue
        if isinstance(outcome, dict) and outcome.get("say"):
            said.append(str(outcome["say"]))
    return "\n".join(reversed(said))
