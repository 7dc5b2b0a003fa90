"""The agent loop with the offline chat model: tool calls, final answers, and every limit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field

from whatsapp_ai.ai.agents.context import Moment, RunContext, read_header
from whatsapp_ai.ai.agents.engine import AGENTS
from whatsapp_ai.ai.agents.loop import Limits, run_agent
from whatsapp_ai.ai.agents.offline_model import OfflineChatModel, Plan, openai_tool
from whatsapp_ai.ai.agents.tools import Tool, ToolError, ToolOutcome, ToolRuntime
from whatsapp_ai.core.clock import ManualClock
from whatsapp_ai.core.config import DatabaseSettings
from whatsapp_ai.core.db import Database, create_engine

NOW = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)


class Note(BaseModel):
    text: str = Field(min_length=1)


async def _note(runtime: ToolRuntime, args: Note) -> ToolOutcome:
    if args.text == "boom":
        raise ToolError("Não consegui anotar isso.")
    return ToolOutcome(say=f"Anotado: {args.text}", data={"key": runtime.key("note")})


NOTE = Tool("take_note", "notes", "Write a note down.", Note, _note)


class Scripted:
    """A planner that calls take_note with the message text, or answers plainly."""

    def __init__(self, *, repeat: bool = False) -> None:
        self.repeat = repeat
        self.seen: list[tuple[str, tuple[str, ...], Moment]] = []

    def plan(self, text: str, tools: Sequence[str], moment: Moment) -> Plan:
        self.seen.append((text, tuple(tools), moment))
        if text.startswith("anota"):
            return Plan(calls=[("take_note", {"text": text.removeprefix("anota ").strip()})])
        return Plan(text="Oi!")


@pytest.fixture
def runtime(tmp_path: Path) -> ToolRuntime:
    ctx = RunContext(
        tenant_id="t1",
        contact_id="c1",
        conversation_id="v1",
        message_id="m1",
        now=NOW,
        timezone="America/Sao_Paulo",
    )
    db = Database(create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/x.db")))
    return ToolRuntime(ctx=ctx, db=db)


def _messages(runtime: ToolRuntime, text: str) -> list[SystemMessage | HumanMessage]:
    return [SystemMessage(content=runtime.ctx.header()), HumanMessage(content=text)]


async def test_a_tool_call_then_the_tools_sentence_is_the_answer(runtime: ToolRuntime) -> None:
    planner = Scripted()
    model = OfflineChatModel(planner=planner)
    run = await run_agent("notes", model, [NOTE], runtime, _messages(runtime, "anota pão"))
    assert (run.text, run.steps, run.stopped) == ("Anotado: pão", 2, "answered")
    assert run.tool_calls == ["take_note"]
    assert run.tokens_in > 0
    assert run.model == "offline-planner"
    [trace] = runtime.traces
    assert (trace.tool, trace.ok) == ("take_note", True)
    _text, tools, moment = planner.seen[0]
    assert tools == ("take_note",)
    assert moment.timezone == "America/Sao_Paulo"
    assert moment.now.utcoffset() is not None


async def test_no_tool_needed_is_one_step(runtime: ToolRuntime) -> None:
    model = OfflineChatModel(planner=Scripted())
    run = await run_agent("notes", model, [NOTE], runtime, _messages(runtime, "oi"))
    assert (run.text, run.steps, run.tool_calls) == ("Oi!", 1, [])


async def test_a_tool_error_is_told_not_raised(runtime: ToolRuntime) -> None:
    model = OfflineChatModel(planner=Scripted())
    run = await run_agent("notes", model, [NOTE], runtime, _messages(runtime, "anota boom"))
    assert run.text == "Não consegui anotar isso."
    assert runtime.traces[0].ok is False


async def test_invalid_arguments_never_reach_the_tool(runtime: ToolRuntime) -> None:
    model = OfflineChatModel(planner=Scripted())
    run = await run_agent("notes", model, [NOTE], runtime, _messages(runtime, "anota "))
    assert runtime.traces[0].ok is False
    assert "text" in runtime.traces[0].result
    assert run.stopped == "answered"


class Looper:
    """A model that keeps asking for the same call."""

    def plan(self, text: str, tools: Sequence[str], moment: Moment) -> Plan:
        return Plan(calls=[("take_note", {"text": "de novo"})])


async def test_a_model_that_repeats_a_call_is_stopped(runtime: ToolRuntime) -> None:
    class Stubborn(OfflineChatModel):
        def _answer(self, messages, tools):  # type: ignore[no-untyped-def]
            return super()._answer([messages[0], messages[1]], tools)

    run = await run_agent(
        "notes", Stubborn(planner=Looper()), [NOTE], runtime, _messages(runtime, "x")
    )
    assert run.stopped == "repeated"
    assert run.tool_calls == ["take_note"]
    assert run.text == "Anotado: de novo"


async def test_the_step_limit_holds(runtime: ToolRuntime) -> None:
    run = await run_agent(
        "notes",
        OfflineChatModel(planner=Scripted()),
        [NOTE],
        runtime,
        _messages(runtime, "anota leite"),
        Limits(max_steps=1),
    )
    assert (run.stopped, run.steps) == ("steps", 1)
    assert run.text == "Anotado: leite"


def test_the_context_header_round_trips() -> None:
    ctx = RunContext("t", "c", "v", "m", NOW, timezone="America/Sao_Paulo", language="en")
    moment = read_header("You are an assistant.\n" + ctx.header())
    assert moment is not None
    assert moment.now == NOW
    assert (moment.timezone, moment.language) == ("America/Sao_Paulo", "en")
    assert read_header("no header here") is None


def test_a_prompt_without_a_context_header_is_dated_by_the_models_clock() -> None:
    planner = Scripted()
    model = OfflineChatModel(planner=planner, clock=ManualClock(NOW))
    model.invoke([HumanMessage(content="oi")])
    [(_text, _tools, moment)] = planner.seen
    assert moment.now == NOW
    assert moment.timezone == "America/Sao_Paulo"


async def test_an_answer_given_first_counts_as_the_first_step(runtime: ToolRuntime) -> None:
    model = OfflineChatModel(planner=Scripted())
    first = AIMessage(
        content="", tool_calls=[{"name": "take_note", "args": {"text": "leite"}, "id": "c1"}]
    )
    run = await run_agent("notes", model, [NOTE], runtime, _messages(runtime, "oi"), first=first)
    assert (run.text, run.steps, run.tool_calls) == ("Anotado: leite", 2, ["take_note"])


class _Broken(OfflineChatModel):
    """Fails whenever it is called after a tool answered."""

    async def _agenerate(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> Any:
        if isinstance(messages[-1], ToolMessage):
            raise RuntimeError("provider down")
        return await super()._agenerate(messages, stop, run_manager, **kw)


async def test_a_model_failing_after_the_tools_ran_still_tells_what_they_did(
    runtime: ToolRuntime,
) -> None:
    model = _Broken(planner=Scripted())
    run = await run_agent("notes", model, [NOTE], runtime, _messages(runtime, "anota pão"))
    assert (run.text, run.stopped) == ("Anotado: pão", "failed")
    with pytest.raises(RuntimeError):
        await run_agent(
            "notes", _Broken(planner=_Failing()), [NOTE], runtime, _messages(runtime, "x")
        )


class _Failing:
    def plan(self, text: str, tools: Sequence[str], moment: Moment) -> Plan:
        raise RuntimeError("provider down")


def test_a_tools_schema_is_built_once_and_handed_out_as_a_copy(runtime: ToolRuntime) -> None:
    for agent in AGENTS.values():
        for tool in agent.tools:
            bound = tool.bind(runtime)
            assert openai_tool(bound) == convert_to_openai_tool(bound), tool.name
    first = openai_tool(NOTE.bind(runtime))
    first["function"]["name"] = "changed"
    assert openai_tool(NOTE.bind(runtime))["function"]["name"] == "take_note"
