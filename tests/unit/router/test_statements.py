"""Money told as a statement is a record to keep, whatever words surround it; a question, or a
number that counts something else, is not."""

from __future__ import annotations

import pytest

from whatsapp_ai.ai.router import IntentScore
from whatsapp_ai.ai.router.statements import (
    agenda_statement,
    money_statement,
    person_statement,
    restate,
)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("torrei duzentos e cinquenta pila em roupa", "finance.add_expense"),
        ("pedido #48213 do ifood deu 62,90", "finance.add_expense"),
        ("uber 25", "finance.add_expense"),
        ("vc anota ai pfv: 35 de uber", "finance.add_expense"),
        ("order #55102 from doordash was 34.75", "finance.add_expense"),
        ("caiu 3000 do salario", "finance.add_income"),
        ("got paid 1200 for the freelance gig", "finance.add_income"),
    ],
)
def test_a_stated_amount_is_a_record(text: str, intent: str) -> None:
    assert money_statement(text) == intent


@pytest.mark.parametrize(
    "text",
    [
        "quanto gastei com uber?",
        "mostra meus gastos de 50 pra cima",
        "tenho 3 filhos",
        "me lembra as 15h",
        "pedido 12345",
        "comprei 2 pizzas",
        "how much did I spend on uber",
    ],
)
def test_questions_and_counts_are_not_records(text: str) -> None:
    assert money_statement(text) is None


def test_restate_speaks_only_when_the_router_found_nothing_or_a_question() -> None:
    agents = {"finance", "crm"}
    reminder = IntentScore("crm.add_reminder", "crm", 0.6, 0.6)
    query = IntentScore("finance.query", "finance", 0.37, 0.37)
    assert restate(reminder, "uber 25", agents) is reminder
    assert restate(None, "uber 25", agents) == IntentScore(
        "finance.add_expense", "finance", 0.0, 0.0
    )
    restated = restate(query, "vc anota ai: 35 de uber", agents)
    assert restated is not None
    assert restated.intent == "finance.add_expense"
    assert restate(query, "quanto gastei de uber?", agents) is query


def test_without_finance_a_statement_is_left_to_the_other_agents() -> None:
    assert restate(None, "uber 25", {"sales", "knowledge"}) is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("anota q o Pedro gosta de cafe", "crm.log_interaction"),
        ("falei com a Tati dia 11/02 sobre a viagem", "crm.log_interaction"),
        ("met Hannah for coffee on feb 26", "crm.log_interaction"),
        ("o Marcos me deve 100 conto", "crm.log_interaction"),
        ("salva a Bianca: 11 98123-4567, bianca.r@gmail.com", "crm.add_contact"),
    ],
)
def test_a_statement_about_a_person_is_a_note(text: str, intent: str) -> None:
    assert person_statement(text) == intent
    restated = restate(IntentScore("finance.add_income", "finance", 0.44, 0.44), text, {"crm"})
    assert restated is not None
    assert restated.intent == intent


@pytest.mark.parametrize(
    "text",
    ["quando falei com a Tati?", "almocei com o Joao, paguei 50", "me lembra de ligar pra Ju"],
)
def test_questions_plans_and_spending_with_someone_are_not_notes(text: str) -> None:
    assert person_statement(text) is None


def test_spending_told_without_the_amount_is_never_small_talk_or_a_purchase() -> None:
    agents = {"finance", "sales"}
    greeting = IntentScore("smalltalk.greeting", "assistant", 0.37, 0.37)
    checkout = IntentScore("sales.checkout", "sales", 0.49, 0.49)
    assert restate(greeting, "gastei no posto hj", agents).intent == "finance.add_expense"  # type: ignore[union-attr]
    assert restate(checkout, "paguei o aluguel", agents).intent == "finance.add_expense"  # type: ignore[union-attr]
    assert restate(checkout, "quero pagar o pedido", agents) is checkout


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("tenho consulta no medico terca q vem as 10 e meia", "crm.add_meeting"),
        ("I have a dentist appointment friday at 3pm", "crm.add_meeting"),
        ("tenho q pagar o ipva ate dia 30, me avisa uns dias antes", "crm.add_reminder"),
    ],
)
def test_an_event_told_with_its_moment_goes_to_the_agenda(text: str, intent: str) -> None:
    assert agenda_statement(text) == intent
    restated = restate(IntentScore("finance.add_expense", "finance", 0.4, 0.4), text, {"crm"})
    assert restated is not None
    assert restated.intent == intent


def test_having_something_without_a_moment_is_not_an_event() -> None:
    assert agenda_statement("tenho consulta marcada?") is None
    assert agenda_statement("tenho 3 filhos") is None
