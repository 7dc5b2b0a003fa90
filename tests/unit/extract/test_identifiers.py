"""Card, document, phone and order numbers are never amounts; Brazilian ways of writing money."""

from __future__ import annotations

import pytest

from whatsapp_ai.ai.extract.amounts import bare_number_amount, find_amounts
from whatsapp_ai.ai.extract.identifiers import identifier_spans


def _values(text: str) -> list[tuple[str, str]]:
    return [(str(a.value), a.currency) for a in find_amounts(text, money_hint=True)]


IDENTIFIERS = [
    # Cards.
    ("gastei 50 no mercado com o cartão 4111 1111 1111 1111", [("50.00", "BRL")]),
    ("gastei 50 no mercado com o cartao 4111-1111-1111-1111", [("50.00", "BRL")]),
    ("paguei 30 no cartão final 4321", [("30.00", "BRL")]),
    ("paguei 30 no cartao com final 4321", [("30.00", "BRL")]),
    ("comprei 120 no cartao terminado em 9876", [("120.00", "BRL")]),
    ("spent 50 at the store with card 4111 1111 1111 1111", [("50.00", "BRL")]),
    ("paid 45 with the card ending in 1234", [("45.00", "BRL")]),
    ("paguei 99,90 no cartao 5500000000000004", [("99.90", "BRL")]),
    # CPF and CNPJ.
    ("meu cpf é 123.456.789-09, paguei 40", [("40.00", "BRL")]),
    ("cpf 12345678909 gastei 20", [("20.00", "BRL")]),
    ("gastei 20, cpf: 123456789-09", [("20.00", "BRL")]),
    ("cnpj 12.345.678/0001-90 paguei 100", [("100.00", "BRL")]),
    ("paguei 100 pro cnpj 12345678000190", [("100.00", "BRL")]),
    ("nota no cpf 123.456.789-09 deu 75", [("75.00", "BRL")]),
    # Phones.
    ("paguei 45 de pizza, o entregador ligou do 11 98765-4321", [("45.00", "BRL")]),
    ("paguei 50, meu numero 11 98765-4321", [("50.00", "BRL")]),
    ("gastei 30 reais, liga no (11) 3456-7890", [("30.00", "BRL")]),
    ("paguei (11) 98765-4321 30 reais", [("30.00", "BRL")]),
    ("paguei 60 pro encanador, whats +55 11 98765-4321", [("60.00", "BRL")]),
    ("gastei 25 no chaveiro 98765-4321", [("25.00", "BRL")]),
    (
        "uber to the airport was like 80 bucks, driver's number was +1 415 555 0147",
        [("80.00", "USD")],
    ),
    ("paid 20, call +1 415 555 0147", [("20.00", "BRL")]),
    ("paid 35 to the plumber, his number is (415) 555-0147", [("35.00", "BRL")]),
    # Order, protocol, invoice numbers.
    ("pedido #48213 do ifood deu 62,90", [("62.90", "BRL")]),
    ("pedido #48213 custou 90", [("90.00", "BRL")]),
    ("paguei 89,90 da internet, protocolo 2026030412345", [("89.90", "BRL")]),
    ("protocolo 2026030412345 paguei 15", [("15.00", "BRL")]),
    ("pedido nº 5521 saiu 40 reais", [("40.00", "BRL")]),
    ("recebi 3000 do pedido 123", [("3000.00", "BRL")]),
    ("boleto 23793381286000782713695000063305 de 150 reais", [("150.00", "BRL")]),
    ("order #55102 from doordash was 34.75", [("34.75", "BRL")]),
    ("order no. 5521 cost 30 dollars", [("30.00", "USD")]),
    ("ticket 778812 was 12 bucks", [("12.00", "USD")]),
    # Dates and times.
    ("gastei 30 dia 05/10 as 14:30", [("30.00", "BRL")]),
    ("paguei 50 em 2026-03-04 as 9h", [("50.00", "BRL")]),
    ("spent 40 on 03/04 at 3pm", [("40.00", "BRL")]),
]


@pytest.mark.parametrize(("text", "expected"), IDENTIFIERS)
def test_identifiers_are_not_amounts(text: str, expected: list[tuple[str, str]]) -> None:
    assert _values(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "cartão 4111 1111 1111 1111",
        "cartao final 4321",
        "cpf 123.456.789-09",
        "cnpj 12.345.678/0001-90",
        "11 98765-4321",
        "+1 415 555 0147",
        "pedido #48213",
        "protocolo 2026030412345",
        "12345678901",
    ],
)
def test_an_identifier_alone_is_no_amount(text: str) -> None:
    assert find_amounts(text, money_hint=True) == []
    assert identifier_spans(text.lower())


@pytest.mark.parametrize(
    "text",
    ["paguei a conta 120", "gastei 20 no 2 andar", "gastei 50 e 30", "paguei 1.234,56", "R$ 4.111"],
)
def test_money_is_not_taken_for_an_identifier(text: str) -> None:
    assert find_amounts(text, money_hint=True)


BRAZILIAN = [
    ("recebi 4 mil e quinhentos de salario", ("4500.00", "BRL")),
    ("recebi 4 mil e 500", ("4500.00", "BRL")),
    ("gastei 2 mil e duzentos e cinquenta", ("2250.00", "BRL")),
    ("paguei 3 mil e 200 no carro", ("3200.00", "BRL")),
    ("torrei duzentos e cinquenta pila em roupa", ("250.00", "BRL")),
    ("gastei duzentos e cinquenta pila", ("250.00", "BRL")),
    ("gastei cinquenta conto no bar", ("50.00", "BRL")),
    ("foi uns 80 paus de gasolina", ("80.00", "BRL")),
    ("gastei uns 80 paus", ("80.00", "BRL")),
    ("spent 80 bucks on uber", ("80.00", "USD")),
    ("paguei R$1.234,56 no aluguel", ("1234.56", "BRL")),
    ("paguei r$ 1234,56", ("1234.56", "BRL")),
    ("recebi 1,5k de freela", ("1500.00", "BRL")),
    ("ganhei 2k", ("2000.00", "BRL")),
    ("ganhei 2 k de bonus", ("2000.00", "BRL")),
    ("recebi quatro mil e quinhentos", ("4500.00", "BRL")),
    ("gastei mil e duzentos", ("1200.00", "BRL")),
    ("paguei dois mil e quinhentos reais", ("2500.00", "BRL")),
    ("deu 47,30 no mercado hj", ("47.30", "BRL")),
    ("got paid 3 grand", ("3000.00", "BRL")),
    ("my salary of 6,200 came in", ("6200.00", "BRL")),
    ("o salario de 4.500 caiu hj", ("4500.00", "BRL")),
    ("paguei 62,90 ontem no ifood", ("62.90", "BRL")),
]


@pytest.mark.parametrize(("text", "expected"), BRAZILIAN)
def test_brazilian_ways_of_writing_money(text: str, expected: tuple[str, str]) -> None:
    assert _values(text) == [expected]
    amount = bare_number_amount(text)
    assert amount is not None
    assert (str(amount.value), amount.currency) == expected
