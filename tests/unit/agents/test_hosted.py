"""Hosted routing: which answers are usable, and how providers fall into tiers."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage
from pydantic import BaseModel, ConfigDict, Field

from whatsapp_ai.ai.agents import hosted
from whatsapp_ai.ai.agents.tools import Tool, ToolOutcome, ToolRuntime
from whatsapp_ai.core.config import ProviderSpec


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)


async def _note(runtime: ToolRuntime, args: Note) -> ToolOutcome:
    return ToolOutcome(say=args.text)


TOOLS = {"take_note": Tool("take_note", "notes", "Write a note down.", Note, _note)}


def _call(name: str, args: dict[str, Any]) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": "c1"}])


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (_call("take_note", {"text": "pão"}), None),
        (AIMessage(content="Qual o valor?"), None),
        (_call("take_note", {}), "invalid arguments for take_note"),
        (
            _call("take_note", {"text": "pão", "tenant_id": "other"}),
            "invalid arguments for take_note",
        ),
        (_call("drop_table", {}), "unknown tool drop_table"),
        (AIMessage(content=""), "empty answer"),
        (AIMessage(content="UNSURE"), "unsure"),
        (AIMessage(content="Não tenho certeza do que você quer?"), "unsure"),
        (AIMessage(content="I'm not sure what you mean?"), "unsure"),
        (AIMessage(content="Paris é a capital da França."), "no tool call"),
        (
            AIMessage(
                content="",
                invalid_tool_calls=[
                    {"name": "take_note", "args": "{oops", "id": "c1", "error": "bad json"}
                ],
            ),
            "invalid tool call",
        ),
    ],
)
def test_usable_answers(answer: AIMessage, why: str | None) -> None:
    assert hosted.unusable(answer, TOOLS) == why


def test_providers_fall_into_tiers_cheap_first() -> None:
    specs = [
        ProviderSpec(provider="openai", model="gpt-4.1", api_key="k", tier="strong"),
        ProviderSpec(provider="groq", model="llama-3.1-8b-instant", api_key="k"),
        ProviderSpec(provider="offline"),
        ProviderSpec(provider="openai", model="gpt-4.1-nano", api_key="k", tier="cheap"),
    ]
    built: list[list[str]] = []

    def build(chosen: Any) -> Any:
        built.append([spec.key for spec in chosen])
        return object()

    levels = hosted.levels(specs, build)
    assert [(level.tier, level.models) for level in levels] == [
        ("cheap", "groq:llama-3.1-8b-instant,openai:gpt-4.1-nano"),
        ("strong", "openai:gpt-4.1"),
    ]
    assert built == [["groq:llama-3.1-8b-instant", "openai:gpt-4.1-nano"], ["openai:gpt-4.1"]]
    assert hosted.levels([ProviderSpec(provider="offline")], build) == []
