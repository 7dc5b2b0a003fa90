"""Who a statement opens with: a note about that person, or nobody."""

from __future__ import annotations

import pytest

from whatsapp_ai.ai.extract.subjects import statement_subject
from whatsapp_ai.core.text import stems

ABOUT = [
    ("a Bia trabalha na Globo", "Bia"),
    ("my boss Rick loves golf", "Rick"),
    ("o pedro vai casar em junho", "Pedro"),
    ("minha mae mora em Santos", "Mãe"),
    ("meu chefe odeia atraso", "Chefe"),
    ("Tom lives in Boston", "Tom"),
    ("a Carla tem 2 filhos", "Carla"),
    ("meu dentista e o Dr. Paulo, fica na Av Paulista", "Paulo"),  # the relation, named
    ("minha manicure atende no sabado", "Manicure"),
]
NOBODY = [
    "ela e designer",  # a pronoun: the conversation says who
    "liga pro Pedro amanha",  # named later: a request
    "paguei o Pedro",
    "onde a Julia mora?",  # a question
    "o Pedro",  # nothing said of them
    "Maria ligou",
    "Pedro e Maria vem jantar",
    "oi Pedro tudo bem",
    "gastei 50 no mercado",
]


@pytest.mark.parametrize(("text", "subject"), ABOUT)
def test_a_statement_that_opens_with_a_person_is_about_them(text: str, subject: str) -> None:
    assert statement_subject(text) == subject


@pytest.mark.parametrize("text", NOBODY)
def test_other_messages_are_about_nobody(text: str) -> None:
    assert statement_subject(text) is None


def test_stems_join_the_forms_of_a_word() -> None:
    assert "dev" in stems("quem ta me devendo") & stems("o Joao me deve 50")
    assert "owe" in stems("who owes me") & stems("Tom owed me 20")
    assert stems("a é 1") == frozenset()
