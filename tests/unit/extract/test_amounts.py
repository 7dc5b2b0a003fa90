"""Money amounts in messages (PT and EN)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whatsapp_ai.ai.extract.amounts import (
    Amount,
    bare_number_amount,
    find_amounts,
    mentions_money,
)


def _read(text: str, amounts: list[Amount]) -> list[tuple[str, str, str]]:
    return [(str(a.value), a.currency, text[a.span[0] : a.span[1]]) for a in amounts]


MARKED = [
    ("R$ 50,00", [("50.00", "BRL", "R$ 50,00")]),
    ("R$50", [("50.00", "BRL", "R$50")]),
    ("50 reais", [("50.00", "BRL", "50 reais")]),
    ("50,90", [("50.90", "BRL", "50,90")]),
    ("1.234,56", [("1234.56", "BRL", "1.234,56")]),
    ("$1,234.56", [("1234.56", "USD", "$1,234.56")]),
    ("$12.50", [("12.50", "USD", "$12.50")]),
    ("12 dólares", [("12.00", "USD", "12 dólares")]),
    ("12 dolares", [("12.00", "USD", "12 dolares")]),
    ("US$ 30", [("30.00", "USD", "US$ 30")]),
    ("€ 20", [("20.00", "EUR", "€ 20")]),
    ("20 euros", [("20.00", "EUR", "20 euros")]),
    ("£ 15", [("15.00", "GBP", "£ 15")]),
    ("50 conto", [("50.00", "BRL", "50 conto")]),
    ("50 contos", [("50.00", "BRL", "50 contos")]),
    ("50 pila", [("50.00", "BRL", "50 pila")]),
    ("100 paus", [("100.00", "BRL", "100 paus")]),
    ("cinquenta reais", [("50.00", "BRL", "cinquenta reais")]),
    ("mil e duzentos reais", [("1200.00", "BRL", "mil e duzentos reais")]),
    ("dez mil reais", [("10000.00", "BRL", "dez mil reais")]),
    ("vinte e cinco reais", [("25.00", "BRL", "vinte e cinco reais")]),
    ("cento e vinte reais", [("120.00", "BRL", "cento e vinte reais")]),
    ("um real", [("1.00", "BRL", "um real")]),
    ("dois mil", [("2000.00", "BRL", "dois mil")]),
    ("R$ 2 mil", [("2000.00", "BRL", "R$ 2 mil")]),
    ("R$ 2,5 mil", [("2500.00", "BRL", "R$ 2,5 mil")]),
    ("1,5 mil", [("1500.00", "BRL", "1,5 mil")]),
    ("2k", [("2000.00", "BRL", "2k")]),
    ("1.5k", [("1500.00", "BRL", "1.5k")]),
    ("twenty dollars", [("20.00", "USD", "twenty dollars")]),
    ("fifty bucks", [("50.00", "USD", "fifty bucks")]),
    ("twenty-five dollars", [("25.00", "USD", "twenty-five dollars")]),
    ("a hundred bucks", [("100.00", "USD", "a hundred bucks")]),
    ("one hundred and twenty dollars", [("120.00", "USD", "one hundred and twenty dollars")]),
    ("gastei R$ 35,90 no mercado", [("35.90", "BRL", "R$ 35,90")]),
    ("paguei 120 reais de luz", [("120.00", "BRL", "120 reais")]),
    ("custou 3 mil reais", [("3000.00", "BRL", "3 mil reais")]),
    ("R$ 1.000", [("1000.00", "BRL", "R$ 1.000")]),
    ("R$1.000.000,00", [("1000000.00", "BRL", "R$1.000.000,00")]),
    ("2 milhões de reais", [("2000000.00", "BRL", "2 milhões de reais")]),
    ("US$ 1,000.00", [("1000.00", "USD", "US$ 1,000.00")]),
    ("R$ 0,99", [("0.99", "BRL", "R$ 0,99")]),
    ("R$ 50 reais", [("50.00", "BRL", "R$ 50 reais")]),
    ("BRL 40", [("40.00", "BRL", "BRL 40")]),
    ("40 USD", [("40.00", "USD", "40 USD")]),
    ("12.50", [("12.50", "BRL", "12.50")]),
    ("cinquenta reais e vinte centavos", [("50.20", "BRL", "cinquenta reais e vinte centavos")]),
    ("10 reais e 50 centavos", [("10.50", "BRL", "10 reais e 50 centavos")]),
    ("50 centavos", [("0.50", "BRL", "50 centavos")]),
    ("99 cents", [("0.99", "USD", "99 cents")]),
    ("R$ 2 mil e 500", [("2500.00", "BRL", "R$ 2 mil e 500")]),
    ("spent $20 at the store", [("20.00", "USD", "$20")]),
    ("paguei 3x de 100 reais", [("100.00", "BRL", "100 reais")]),
    ("paguei 10% de 50 reais", [("50.00", "BRL", "50 reais")]),
    ("50 e 30 reais", [("50.00", "BRL", "50"), ("30.00", "BRL", "30 reais")]),
    (
        "10, 20 e 30 reais",
        [("10.00", "BRL", "10"), ("20.00", "BRL", "20"), ("30.00", "BRL", "30 reais")],
    ),
    ("de 10 a 20 dólares", [("10.00", "USD", "10"), ("20.00", "USD", "20 dólares")]),
    ("R$ 10 e R$ 20", [("10.00", "BRL", "R$ 10"), ("20.00", "BRL", "R$ 20")]),
    ("R$ 50 e 2 pizzas", [("50.00", "BRL", "R$ 50")]),
    (
        "paguei R$ 15 às 15:30 do dia 05/10",
        [("15.00", "BRL", "R$ 15")],
    ),
]


@pytest.mark.parametrize(("text", "expected"), MARKED)
def test_reads_marked_amounts(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert _read(text, find_amounts(text)) == expected


def test_default_currency_applies_to_unmarked_amounts() -> None:
    assert _read("5 grand", find_amounts("5 grand", default_currency="USD")) == [
        ("5000.00", "USD", "5 grand")
    ]
    assert _read("50,90", find_amounts("50,90", default_currency="EUR")) == [
        ("50.90", "EUR", "50,90")
    ]
    # A marker always wins over the default.
    assert find_amounts("R$ 10", default_currency="USD")[0].currency == "BRL"


HINTED = [
    ("gastei 50 no mercado", ("50.00", "BRL", "50")),
    ("paguei 120 de luz", ("120.00", "BRL", "120")),
    ("recebi 3000 de salário", ("3000.00", "BRL", "3000")),
    ("comprei 2 pizzas por 60", ("60.00", "BRL", "60")),
    ("gastei cinquenta no mercado", ("50.00", "BRL", "cinquenta")),
    ("spent 40 on gas", ("40.00", "BRL", "40")),
    ("paid 15 for lunch", ("15.00", "BRL", "15")),
    ("gastei 50 ontem às 15h", ("50.00", "BRL", "50")),
    ("custou 25", ("25.00", "BRL", "25")),
    ("fiz um pix de 80 pro João", ("80.00", "BRL", "80")),
    ("a conta de luz deu 230", ("230.00", "BRL", "230")),
    ("gastei 50 em 2026", ("50.00", "BRL", "50")),
    ("gastei R$ 20 e depois 30", ("20.00", "BRL", "R$ 20")),
]


@pytest.mark.parametrize(("text", "expected"), HINTED)
def test_bare_numbers_are_money_in_a_money_sentence(
    text: str, expected: tuple[str, str, str]
) -> None:
    amount = bare_number_amount(text)
    assert amount is not None
    assert _read(text, [amount]) == [expected]


def test_money_hint_takes_every_bare_number() -> None:
    text = "gastei 50 no mercado e 30 na farmácia"
    assert find_amounts(text) == []
    assert _read(text, find_amounts(text, money_hint=True)) == [
        ("50.00", "BRL", "50"),
        ("30.00", "BRL", "30"),
    ]


NOT_MONEY = [
    "2 pizzas",
    "comprei 2 pizzas",
    "às 15h",
    "paguei às 3",
    "paguei às 3pm",
    "reunião 15:30",
    "paguei dia 5",
    "paguei no dia 05/10",
    "paguei em 05/10/2026",
    "paguei em 5 de outubro",
    "gastei 10% do salário",
    "gastei em 2026",
    "liga 11987654321",
    "paguei pro 11987654321",
    "comprei dois no mercado",
    "gastei um absurdo",
    "dois mil pessoas",
    "2 mil pessoas",
    "comprei 5kg de arroz",
    "gastei 3 horas no banco",
    "paguei em 2 dias",
    "paguei em 3x",
    "me lembra de ligar pro João amanhã",
    "o pedido #123 chegou",
    "compramos 3 ingressos",
    "paguei a 1ª parcela",
    "",
]


@pytest.mark.parametrize("text", NOT_MONEY)
def test_numbers_that_are_not_money(text: str) -> None:
    assert find_amounts(text) == []
    assert bare_number_amount(text) is None


@pytest.mark.parametrize(
    "text", ["gastei 50", "paguei a conta", "recebi o salário", "I spent 20", "it cost 5", "valor"]
)
def test_mentions_money(text: str) -> None:
    assert mentions_money(text)


@pytest.mark.parametrize("text", ["me lembra de ligar pro João", "2 pizzas", "call John at 3"])
def test_does_not_mention_money(text: str) -> None:
    assert not mentions_money(text)


_CENTS = st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2)


def _brazilian(value: Decimal) -> str:
    return f"{value:,.2f}".translate(str.maketrans(",.", ".,"))


@given(_CENTS)
def test_brazilian_format_round_trips(value: Decimal) -> None:
    text = f"R$ {_brazilian(value)}"
    assert find_amounts(text) == [Amount(value, "BRL", (0, len(text)))]


@given(_CENTS)
def test_american_format_round_trips(value: Decimal) -> None:
    text = f"${value:,.2f}"
    assert find_amounts(text) == [Amount(value, "USD", (0, len(text)))]


@given(
    st.integers(min_value=1, max_value=999_999),
    st.sampled_from(["gastei {} no mercado", "paguei {} reais", "recebi R$ {} ontem", "{} bucks"]),
)
def test_spans_slice_to_the_digits(number: int, template: str) -> None:
    text = template.format(number)
    amounts = bare_number_amount(text)
    assert amounts is not None
    assert amounts.value == number
    assert str(number) in text[amounts.span[0] : amounts.span[1]]


@given(st.text(max_size=60))
def test_spans_are_ordered_and_inside_the_text(text: str) -> None:
    previous_end = 0
    for amount in find_amounts(text, money_hint=True):
        start, end = amount.span
        assert previous_end <= start < end <= len(text)
        assert any(c.isdigit() or c.isalpha() for c in text[start:end])
        previous_end = end


def test_reais_and_centavos_said_as_spoken() -> None:
    def read(text: str) -> list[str]:
        return [str(a.value) for a in find_amounts(text, money_hint=True)]

    assert read("38 e 50") == ["38.50"]
    assert read("paguei a net 99 e 90") == ["99.90"]
    assert read("foi 12 e 90, no pix") == ["12.90"]
    assert read("uber 15 e 50 de ifood") == ["15.00", "50.00"]
    assert read("gastei 30 e 20 no uber") == ["30.00", "20.00"]
