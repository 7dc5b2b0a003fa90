"""The one rule for text that comes in: no control characters (new lines and tabs only in free
text), checked by one validator for every field of every request body."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from whatsapp_ai.core.inputs import FREE_TEXT, Input, check_text


class Inner(Input):
    label: str


class Sample(Input):
    name: str
    note: Annotated[str, FREE_TEXT] | None = None
    body: Annotated[str, FREE_TEXT, Field(max_length=50)] = ""
    tags: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)
    inner: Inner | None = None


class Foreign(BaseModel):
    key: str


class WithForeign(Input):
    items: list[Foreign] = Field(default_factory=list)


def _error(**values: Any) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        Sample(**{"name": "ok", **values})
    [error] = caught.value.errors()
    return ".".join(str(part) for part in error["loc"]), error["msg"]


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\r", "\n", "\t"])
def test_a_name_refuses_every_control_character(char: str) -> None:
    field, message = _error(name=f"Bolo{char}de fubá")
    assert field == "name"
    assert f"U+{ord(char):04X}" in message


def test_free_text_keeps_new_lines_and_tabs_but_nothing_else() -> None:
    sample = Sample(name="ok", note="linha 1\n\tlinha 2", body="a\nb")
    assert sample.note == "linha 1\n\tlinha 2"
    assert _error(note="a\x00b")[0] == "note"
    assert _error(body="a\rb")[0] == "body"


def test_lists_mappings_and_nested_bodies_are_checked_too() -> None:
    assert _error(tags=["ok", "b\x00d"])[0] == "tags"
    assert _error(extra={"k": {"deep": ["x\x01"]}})[0] == "extra"
    assert _error(extra={"k\x00": 1})[0] == "extra"
    assert _error(inner={"label": "x\x00"})[0] == "inner.label"
    with pytest.raises(ValidationError):
        WithForeign(items=[{"key": "a\x00"}])


def test_plain_text_passes_untouched() -> None:
    text = "Pão de queijo — R$ 5,00 ✓ 日本"
    assert Sample(name=text).name == text
    assert check_text("a\tb\nc", free_text=True) == "a\tb\nc"


def test_unknown_fields_are_still_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Sample(name="ok", surprise=1)
