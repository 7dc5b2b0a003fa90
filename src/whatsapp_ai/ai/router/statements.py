"""Money told as a statement: what the encoder may miss, a rule reads well.

People note spending in every shape ("torrei duzentos pila em roupa", "uber 25", "order #55102
from doordash was 34.75", "vc anota ai: 35 de uber"). Whatever the words around it, a message
that names an amount of money, or a bare number beside a spending category, and asks nothing is
a record to keep: an expense, or income when it says money came in. The rule speaks only when
the router found nothing, or took the statement for a question about spending.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from whatsapp_ai.ai.extract import find_amounts, guess_category, mentions_money
from whatsapp_ai.ai.router.router import IntentScore
from whatsapp_ai.core.text import fold

FINANCE = "finance"
_QUESTION = re.compile(
    r"\?|\b(?:quanto|qnto|qto|quantos|quantas|quais|qual|quando|como|onde|cade|mostra|mostre"
    r"|lista|liste|ver|resumo|saldo|extrato|total|relatorio|how much|how many|what|which|when"
    r"|show|list|total|summary|balance|report)\b"
)
_INCOME = re.compile(
    r"\b(?:recebi|ganhei|caiu|entrou|entraram|salario|freela|reembolso|me pagou|me pagaram"
    r"|me devolveu|vendi|received|earned|got paid|paid me|salary|income|refund|sold)\b"
)
# Intents a statement of money may be mistaken for.
_READ_AS_QUESTION = frozenset({"finance.query"})


def money_statement(text: str) -> str | None:
    """The finance intent of a message that states an amount and asks nothing, else None."""
    folded = fold(text)
    if _QUESTION.search(folded):
        return None
    hint = mentions_money(text) or guess_category(text) is not None
    if not find_amounts(text, money_hint=hint):
        return None
    return "finance.add_income" if _INCOME.search(folded) else "finance.add_expense"


def restate(
    score: IntentScore | None, text: str, enabled_agents: Collection[str]
) -> IntentScore | None:
    """The router's verdict, or a statement of money where it found none or read a question."""
    if FINANCE not in enabled_agents:
        return score
    if score is not None and score.intent not in _READ_AS_QUESTION:
        return score
    intent = money_statement(text)
    if intent is None:
        return score
    strength = score.score if score is not None else 0.0
    return IntentScore(intent, FINANCE, strength, strength)
