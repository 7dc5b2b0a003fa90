"""People's names in messages (PT and EN)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whatsapp_ai.ai.extract.names import FIRST_NAMES, find_person_names


def _names(text: str) -> list[tuple[str, str]]:
    return [(n.name, text[n.span[0] : n.span[1]]) for n in find_person_names(text)]


FOUND = [
    ("ligar pro joão", [("João", "joão")]),
    ("ligar pro João", [("João", "João")]),
    ("me lembra de ligar pro João amanhã", [("João", "João")]),
    ("ligar para a maria", [("Maria", "maria")]),
    ("liga pra kleber", [("Kleber", "kleber")]),
    ("ligar pra joão pedro", [("João Pedro", "joão pedro")]),
    ("falar com maria da silva amanhã", [("Maria da Silva", "maria da silva")]),
    ("reunião com Maria da Silva às 10", [("Maria da Silva", "Maria da Silva")]),
    ("reunião com o Carlos", [("Carlos", "Carlos")]),
    ("Amanhã tenho reunião com João Pedro", [("João Pedro", "João Pedro")]),
    (
        "Preciso falar com Ana Paula Souza sobre o contrato",
        [("Ana Paula Souza", "Ana Paula Souza")],
    ),
    ("conversar com a Bia", [("Bia", "Bia")]),
    ("mandar mensagem pro thiago", [("Thiago", "thiago")]),
    ("Fiz um Pix pro Carlos", [("Carlos", "Carlos")]),
    ("paguei 50 pro joão", [("João", "joão")]),
    ("almoço com a Fernanda", [("Fernanda", "Fernanda")]),
    ("João e Maria vão jantar", [("João", "João"), ("Maria", "Maria")]),
    ("ligar pro joão e maria", [("João", "joão"), ("Maria", "maria")]),
    ("Ricardo ligou ontem", [("Ricardo", "Ricardo")]),
    ("Dr. Kleber ligou", [("Kleber", "Kleber")]),
    ("consulta com a dra. Luana", [("Luana", "Luana")]),
    ("manda mensagem pra dona Cida", [("Cida", "Cida")]),
    ("viagem pra São Paulo com Paulo", [("Paulo", "Paulo")]),
    ("Compra no Mercado Livre pro Pedro", [("Pedro", "Pedro")]),
    ("Remind me to call John Smith tomorrow", [("John Smith", "John Smith")]),
    ("remind me to call john", [("John", "john")]),
    ("call Sarah", [("Sarah", "Sarah")]),
    ("meet Sarah at 3", [("Sarah", "Sarah")]),
    ("meeting with Tom and Jerry", [("Tom", "Tom"), ("Jerry", "Jerry")]),
    ("Lunch with Ana", [("Ana", "Ana")]),
    ("text mike about the rent", [("Mike", "mike")]),
    ("CPF do João", [("João", "João")]),
    ("ligar pro JOÃO", [("João", "JOÃO")]),
]


@pytest.mark.parametrize(("text", "expected"), FOUND)
def test_finds_names(text: str, expected: list[tuple[str, str]]) -> None:
    assert _names(text) == expected


NONE = [
    "",
    "oi, tudo bem?",
    "falar com o gerente",
    "ligar pro banco",
    "ligar para o médico amanhã",
    "ligar pra mãe",
    "call mom",
    "call the plumber",
    "paguei 50 pro mercado",
    "Amanhã tenho reunião",
    "Hoje gastei 50 no Uber",
    "Netflix aumentou",
    "comprei na Amazon",
    "Kleber ligou",  # unknown and opening the sentence: could be any word
    "Segunda tenho dentista",
    "Gastei 30 no Pix",
    "Paguei o PIX",
    "viagem pra São Paulo em Março",
    "Remind me to pay the rent",
    "Quanto gastei em Outubro?",
]


@pytest.mark.parametrize("text", NONE)
def test_finds_no_name(text: str) -> None:
    assert find_person_names(text) == []


@given(
    st.sampled_from(sorted(FIRST_NAMES)),
    st.sampled_from(["ligar pro {}", "falar com {} amanhã", "reunião com {} às 10", "call {}"]),
    st.booleans(),
)
def test_known_names_after_a_cue_in_any_case(name: str, template: str, capital: bool) -> None:
    written = name.capitalize() if capital else name
    text = template.format(written)
    [found] = find_person_names(text)
    assert found.name == name.capitalize()
    assert text[found.span[0] : found.span[1]] == written


@given(st.text(max_size=60))
def test_spans_are_ordered_and_inside_the_text(text: str) -> None:
    previous_end = 0
    for found in find_person_names(text):
        start, end = found.span
        assert previous_end <= start < end <= len(text)
        assert found.name.casefold() == text[start:end].casefold()
        previous_end = end
