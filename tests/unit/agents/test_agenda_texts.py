"""The agenda agent says the same words in each language: its questions and its refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from whatsapp_ai.ai.agents import relationships as agenda
from whatsapp_ai.ai.agents.context import Moment
from whatsapp_ai.relationships.errors import DuplicateError, PastTimeError

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _moment(language: str) -> Moment:
    return Moment(now=NOW, timezone="America/Sao_Paulo", language=language)


@pytest.mark.parametrize(
    ("language", "when", "who"),
    [
        ("pt", "Para quando?", "De quem você está falando?"),
        ("en", "For when?", "Who is this about?"),
    ],
)
def test_the_planner_asks_what_is_missing(language: str, when: str, who: str) -> None:
    assert agenda.plan("crm.add_reminder", "me lembra de pagar", _moment(language)).text == when
    assert agenda.plan("crm.log_interaction", "almoçamos", _moment(language)).text == who


@pytest.mark.parametrize(("language", "title"), [("pt", "Reunião"), ("en", "Meeting")])
def test_a_meeting_without_a_title_gets_the_default_one(language: str, title: str) -> None:
    planned = agenda.plan("crm.add_meeting", "marca amanhã às 10h", _moment(language))
    [(tool, args)] = planned.calls
    assert (tool, args["title"]) == ("add_meeting", title)


def test_refusals_ask_for_a_later_time_or_say_why() -> None:
    past = PastTimeError("the reminder would be due in the past", field="due_at")
    assert agenda._refusal(past, "pt") == "Esse horário já passou; me diga um horário futuro."
    assert agenda._refusal(past, "en") == "That time has passed; tell me a time ahead."
    other = DuplicateError("source_key 'k' was used for another contact")
    assert agenda._refusal(other, "pt") == (
        "Não consegui salvar isso: source_key 'k' was used for another contact"
    )
    assert agenda._refusal(other, "en") == (
        "I couldn't save that: source_key 'k' was used for another contact"
    )
