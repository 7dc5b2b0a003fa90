"""Money told as a statement is a record to keep, whatever words surround it; a question, or a
number that counts something else, is not."""

from __future__ import annotations

import pytest

from whatsapp_ai.ai.router import IntentScore
from whatsapp_ai.ai.router.statements import money_statement, restate


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
