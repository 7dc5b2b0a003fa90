"""Splitting a message into one clause per request (PT and EN)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whatsapp_ai.ai.extract.clauses import split_intents


def _texts(text: str) -> list[str]:
    clauses = split_intents(text)
    for clause in clauses:
        assert text[clause.span[0] : clause.span[1]] == clause.text
    return [c.text for c in clauses]


SPLITS = [
    (
        "gastei 50 no mercado e me lembra de ligar pro João amanhã",
        ["gastei 50 no mercado", "me lembra de ligar pro João amanhã"],
    ),
    (
        "gastei 50 no mercado, me lembra de ligar pro João",
        ["gastei 50 no mercado", "me lembra de ligar pro João"],
    ),
    ("gastei 50 no mercado; paguei 30 de uber", ["gastei 50 no mercado", "paguei 30 de uber"]),
    ("gastei 50\npaguei 30", ["gastei 50", "paguei 30"]),
    ("oi\n\ngastei 50", ["oi", "gastei 50"]),
    ("Gastei 50. E me lembra de pagar a luz", ["Gastei 50.", "me lembra de pagar a luz"]),
    ("Dr. João ligou. Quanto gastei?", ["Dr. João ligou.", "Quanto gastei?"]),
    ("Me lembra amanhã! E quanto gastei?", ["Me lembra amanhã!", "quanto gastei?"]),
    (
        "quanto gastei com uber e quanto com ifood?",
        ["quanto gastei com uber", "quanto com ifood?"],
    ),
    (
        "paguei a luz e também me lembra de pagar a água",
        ["paguei a luz", "me lembra de pagar a água"],
    ),
    ("R$ 1.234,56 no mercado e anota isso", ["R$ 1.234,56 no mercado", "anota isso"]),
    ("gastei 50 e depois paguei 20", ["gastei 50", "paguei 20"]),
    ("comprei pão e registra 30 de uber", ["comprei pão", "registra 30 de uber"]),
    (
        "anota 20 de café, e lembre-me de ligar pra Ana",
        ["anota 20 de café", "lembre-me de ligar pra Ana"],
    ),
    ("recebi 3000 e qual meu saldo?", ["recebi 3000", "qual meu saldo?"]),
    (
        "spent 20 on lunch and remind me to call John",
        ["spent 20 on lunch", "remind me to call John"],
    ),
    (
        "add 50 for groceries, then how much did I spend?",
        ["add 50 for groceries", "how much did I spend?"],
    ),
    ("I paid the rent and I spent 30 on gas", ["I paid the rent", "I spent 30 on gas"]),
    ("remind me to pay rent; show my expenses", ["remind me to pay rent", "show my expenses"]),
    (
        "gastei 50 no mercado e 30 na farmácia e me lembra de pagar o aluguel dia 5",
        ["gastei 50 no mercado e 30 na farmácia", "me lembra de pagar o aluguel dia 5"],
    ),
]


@pytest.mark.parametrize(("text", "expected"), SPLITS)
def test_splits_requests(text: str, expected: list[str]) -> None:
    assert _texts(text) == expected


WHOLE = [
    "arroz e feijão",
    "gastei 50 e 30 reais",
    "gastei 50 no mercado e 30 na farmácia",
    "me lembra de comprar pão e leite",
    "me lembra de comprar arroz, feijão e carne",
    "ligar pro João e pra Maria",
    "uber e ifood",
    "quanto gastei com uber e ifood?",
    "gastei 50 e depois de amanhã pago o resto",
    "R$ 1.234,56",
    "paguei R$ 12.50 no café",
    "salt and pepper",
    "remind me to buy milk and eggs",
    "Dr. Souza às 10",
    "me lembra de ligar pro Sr. Carlos",
]


@pytest.mark.parametrize("text", WHOLE)
def test_keeps_one_request_whole(text: str) -> None:
    assert _texts(text) == [text]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", ";", " . "])
def test_blank_has_no_clause(text: str) -> None:
    assert split_intents(text) == []


_REQUESTS = st.sampled_from(
    [
        "gastei 50 no mercado",
        "me lembra de ligar pro João",
        "quanto gastei este mês",
        "anota 30 de uber",
        "remind me to call Sarah",
        "how much did I spend",
        "paguei a luz",
    ]
)


@given(
    st.lists(_REQUESTS, min_size=1, max_size=4), st.sampled_from([" e ", ", ", "; ", "\n", " and "])
)
def test_joined_requests_come_apart(requests: list[str], joiner: str) -> None:
    text = joiner.join(requests)
    assert _texts(text) == requests


@given(st.text(max_size=80))
def test_clauses_are_ordered_slices_of_the_text(text: str) -> None:
    previous_end = 0
    for clause in split_intents(text):
        start, end = clause.span
        assert previous_end <= start < end <= len(text)
        assert clause.text == text[start:end] == clause.text.strip()
        previous_end = end
