"""Tests for PII redaction in logs and AI traces."""

from __future__ import annotations

import string
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whatsapp_ai.core.pii import find_pii, redact, redact_value


class Point(NamedTuple):
    label: str
    weight: int


TOKENS = ("[CPF]", "[CNPJ]", "[EMAIL]", "[PHONE]", "[CARD]")
CNPJ_WEIGHTS_1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
CNPJ_WEIGHTS_2 = (6, *CNPJ_WEIGHTS_1)


def _mod11_digit(total: int) -> int:
    """Turn a weighted sum into a CPF/CNPJ check digit."""
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def cpf_from_base(base: str) -> str:
    """Append the two CPF check digits to a 9-digit base."""
    digits = [int(c) for c in base]
    for first_weight in (10, 11):
        weights = range(first_weight, 1, -1)
        digits.append(_mod11_digit(sum(d * w for d, w in zip(digits, weights, strict=True))))
    return "".join(map(str, digits))


def cnpj_from_base(base: str) -> str:
    """Append the two CNPJ check digits to a 12-digit base."""
    digits = [int(c) for c in base]
    for weights in (CNPJ_WEIGHTS_1, CNPJ_WEIGHTS_2):
        digits.append(_mod11_digit(sum(d * w for d, w in zip(digits, weights, strict=True))))
    return "".join(map(str, digits))


def luhn_valid(number: str) -> bool:
    """Return whether number passes the Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def luhn_complete(partial: str) -> str:
    """Append the Luhn check digit to partial."""
    return next(partial + d for d in string.digits if luhn_valid(partial + d))


def format_cpf(number: str) -> str:
    """Format 11 digits as 123.456.789-09."""
    return f"{number[:3]}.{number[3:6]}.{number[6:9]}-{number[9:]}"


def format_cnpj(number: str) -> str:
    """Format 14 digits as 12.345.678/0001-95."""
    return f"{number[:2]}.{number[2:5]}.{number[5:8]}/{number[8:12]}-{number[12:]}"


def digits_of(text: str) -> str:
    """Keep only the digits of text."""
    return "".join(c for c in text if c.isdigit())


KNOWN_CPFS = ["529.982.247-25", "111.444.777-35", "123.456.789-09"]
KNOWN_CNPJS = ["11.222.333/0001-81", "11.444.777/0001-61", "12.345.678/0001-95"]
GENERATED_CPFS = [cpf_from_base(b) for b in ("390533447", "071294036", "860176538", "453178287")]
GENERATED_CNPJS = [cnpj_from_base(b) for b in ("334567890001", "060479870001", "987654320003")]
TEST_CARDS = [
    "4111111111111111",
    "5555555555554444",
    "378282246310005",
    "6011111111111117",
    "4012888888881881",
    "3566002020360505",
    "30569309025904",
]


def test_helpers_agree_with_known_documents() -> None:
    for cpf in KNOWN_CPFS:
        assert cpf_from_base(digits_of(cpf)[:9]) == digits_of(cpf)
    for cnpj in KNOWN_CNPJS:
        assert cnpj_from_base(digits_of(cnpj)[:12]) == digits_of(cnpj)
    for card in TEST_CARDS:
        assert luhn_valid(card)
        assert luhn_complete(card[:-1]) == card


@pytest.mark.parametrize(
    "cpf",
    KNOWN_CPFS
    + [digits_of(c) for c in KNOWN_CPFS]
    + GENERATED_CPFS
    + [format_cpf(c) for c in GENERATED_CPFS],
)
def test_cpf_in_portuguese_sentence(cpf: str) -> None:
    text = f"Olá, meu CPF é {cpf}, pode conferir?"
    assert redact(text) == "Olá, meu CPF é [CPF], pode conferir?"
    assert find_pii(text) == [("CPF", cpf)]


@pytest.mark.parametrize(
    "cnpj",
    KNOWN_CNPJS
    + [digits_of(c) for c in KNOWN_CNPJS]
    + GENERATED_CNPJS
    + [format_cnpj(c) for c in GENERATED_CNPJS],
)
def test_cnpj_in_portuguese_sentence(cnpj: str) -> None:
    text = f"A nota sai no CNPJ {cnpj} da loja."
    assert redact(text) == "A nota sai no CNPJ [CNPJ] da loja."
    assert find_pii(text) == [("CNPJ", cnpj)]


@pytest.mark.parametrize(
    "email",
    [
        "joao.silva@empresa.com.br",
        "maria+pedidos@gmail.com",
        "support@mail.example.co.uk",
        "first.last@sub.domain.io",
        "JOAO_1990@hotmail.com",
        "vendas-sp@loja-exemplo.com.br",
    ],
)
def test_email_in_sentence(email: str) -> None:
    text = f"Please reply to {email} before Friday."
    assert redact(text) == "Please reply to [EMAIL] before Friday."
    assert find_pii(text) == [("EMAIL", email)]


@pytest.mark.parametrize(
    "phone",
    [
        "+5511987654321",
        "+1 415 555 2671",
        "+14155552671",
        "+44 20 7946 0958",
        "(11) 98765-4321",
        "(11) 3456-7890",
        "(21) 9 8765-4321",
        "11 98765-4321",
        "+55 (11) 98765-4321",
        "+55 11 98765 4321",
        "+55 11 98765-4321",
        "011 98765-4321",
        "5511987654321",
        "11987654321",
        "21998765432",
        "98765-4321",
        "(415) 555-2671",
        "415-555-2671",
    ],
)
def test_phone_in_sentence(phone: str) -> None:
    text = f"Me chama no {phone} depois das 18h."
    assert redact(text) == "Me chama no [PHONE] depois das 18h."
    assert find_pii(text) == [("PHONE", phone)]


def test_whatsapp_address_keeps_prefix() -> None:
    text = "inbound from whatsapp:+5511987654321 to whatsapp:+14155238886"
    assert redact(text) == "inbound from whatsapp:[PHONE] to whatsapp:[PHONE]"


@pytest.mark.parametrize(
    "card",
    [
        *TEST_CARDS,
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5555 5555 5555 4444",
        "3782 822463 10005",
        "4222222222222",
        luhn_complete("601100099013942"),
        luhn_complete("622126000000000000"),
    ],
)
def test_card_in_sentence(card: str) -> None:
    text = f"I paid with card {card} yesterday."
    assert redact(text) == "I paid with card [CARD] yesterday."
    assert find_pii(text) == [("CARD", card)]


@pytest.mark.parametrize(
    "text",
    [
        "CPF 123.456.789-00 com dígito errado",
        "CPF 12345678900 com dígito errado",
        "111.111.111-11",
        "11111111111",
        "000.000.000-00",
        "99999999999",
        "CNPJ 11.222.333/0001-80",
        "CNPJ 11222333000180",
        "00.000.000/0000-00",
        "11111111111111",
        "card 1234 5678 9012 3456",
        "card 1234567890123456",
        "Total: R$ 1.234,56",
        "Total: $12.50",
        "Frete R$ 50,00",
        "R$ 1.234.567,89",
        "Entrega em 25/11/2026",
        "created_at=2026-11-25T17:47:53Z",
        "Abrimos às 15h30",
        "17:47:53.123",
        "Seu pedido 4821 saiu para entrega",
        "Código de verificação: 123456",
        "versão 1.2.3",
        "IP 192.168.0.1",
        "request_id=123e4567-e89b-12d3-a456-426614174000",
        "trace 550e8400-e29b-41d4-a716-446655440000",
        "id=01JDQ8Z3X4K7M9N2P5Q8R1S4T6",
        "message_sid=SM0123456789abcdef0123456789abcdef",
        "fala com @mention no grupo",
        "o usuário user@ sumiu",
        "sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "Feliz 2026!",
        "CEP 01310-100",
        f"ts={luhn_complete('173255687300')}",
        "DDD inválido 20987654321",
    ],
)
def test_look_alikes_are_not_redacted(text: str) -> None:
    assert redact(text) == text
    assert find_pii(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "9123456789090",
        "abc12345678909",
        "12345678909xyz",
        "order_12345678909",
        "ulid=01JDQ8Z3X412345678909ABCDE",
        "hash=a1b24111111111111111c3d4",
        "4111111111111111111111",
        "v1.12345678909",
        "12345678909.5",
        "11222333000181999",
        "id-11987654321",
    ],
)
def test_pii_shaped_digits_inside_longer_runs_or_identifiers_are_kept(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cartão 4111 1111 1111 1111 123", "cartão [CARD] 123"),
        ("cartão 4111 1111 1111 1111 12/28", "cartão [CARD] 12/28"),
        ("pedido 4821 4111 1111 1111 1111", "pedido 4821 [CARD]"),
        ("pedido 4821 11 98765-4321", "pedido 4821 [PHONE]"),
        ("R$ 1.234,56 no CPF 123.456.789-09", "R$ 1.234,56 no CPF [CPF]"),
        ("em 25/11/2026 às 15h30 ligar (11) 98765-4321", "em 25/11/2026 às 15h30 ligar [PHONE]"),
        ("+44 20 7946 0958 2026", "[PHONE]"),
    ],
)
def test_pii_next_to_other_numbers(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_valid_cpf_shaped_like_a_mobile_is_a_cpf() -> None:
    cpf = cpf_from_base("119876543")
    phone = cpf[:9] + f"{(int(cpf[9:]) + 1) % 100:02d}"
    assert redact(f"numero {cpf}") == "numero [CPF]"
    assert redact(f"numero {phone}") == "numero [PHONE]"


def test_luhn_valid_brazilian_mobile_is_a_phone() -> None:
    number = luhn_complete("551198765432")
    assert redact(f"tel {number}") == "tel [PHONE]"


def test_several_pii_in_one_text() -> None:
    text = (
        "Cliente Ana (CPF 529.982.247-25, empresa 11.222.333/0001-81) pediu reembolso; "
        "email ana.souza+loja@gmail.com, whatsapp:+5511987654321, tel (21) 3456-7890, "
        "cartão 4111 1111 1111 1111. Pedido 4821 de R$ 1.234,56 em 25/11/2026."
    )
    assert redact(text) == (
        "Cliente Ana (CPF [CPF], empresa [CNPJ]) pediu reembolso; "
        "email [EMAIL], whatsapp:[PHONE], tel [PHONE], "
        "cartão [CARD]. Pedido 4821 de R$ 1.234,56 em 25/11/2026."
    )
    assert sorted(find_pii(text)) == sorted(
        [
            ("CPF", "529.982.247-25"),
            ("CNPJ", "11.222.333/0001-81"),
            ("EMAIL", "ana.souza+loja@gmail.com"),
            ("PHONE", "+5511987654321"),
            ("PHONE", "(21) 3456-7890"),
            ("CARD", "4111 1111 1111 1111"),
        ]
    )


def test_adjacent_pii_separated_by_punctuation() -> None:
    text = "12345678909,11987654321;4111111111111111/joao@x.com"
    assert redact(text) == "[CPF],[PHONE];[CARD]/[EMAIL]"


@pytest.mark.parametrize(
    "text",
    [
        "CPF 123.456.789-09 e cartão 4111-1111-1111-1111",
        "joao@x.com.br 5511987654321 11.222.333/0001-81",
        "whatsapp:+5511987654321",
        "4111111111111111+12345678909",
        "+44 20 7946 0958 2026",
        "[CPF] [PHONE] já redigido",
        "nada aqui",
    ],
)
def test_redact_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


def test_text_without_digits_or_at_is_returned_as_is() -> None:
    text = "Bom dia! Gostaria de saber o horário de funcionamento."
    assert redact(text) is text


def test_redact_value_walks_nested_structures() -> None:
    payload: dict[str, object] = {
        "cpf 123.456.789-09": "cliente 123.456.789-09",
        "contact": {"email": "ana@empresa.com.br", "phones": ["+5511987654321", 11]},
        "cards": ("4111111111111111", None, 3.5),
        "tags": {"vip", "tel 11 98765-4321"},
        "frozen": frozenset({"joao@x.com"}),
        "point": Point("12345678909", 2),
        "raw": b"12345678909",
        "ok": True,
    }
    assert redact_value(payload) == {
        "cpf 123.456.789-09": "cliente [CPF]",
        "contact": {"email": "[EMAIL]", "phones": ["[PHONE]", 11]},
        "cards": ("[CARD]", None, 3.5),
        "tags": {"vip", "tel [PHONE]"},
        "frozen": frozenset({"[EMAIL]"}),
        "point": Point("[CPF]", 2),
        "raw": b"12345678909",
        "ok": True,
    }
    redacted = redact_value(payload)
    assert isinstance(redacted, dict)
    assert type(redacted["point"]) is Point
    assert type(redacted["frozen"]) is frozenset


@pytest.mark.parametrize("value", [42, 3.14, None, True, b"joao@x.com", 12345678909])
def test_redact_value_returns_other_types_unchanged(value: object) -> None:
    assert redact_value(value) is value


LETTERS = string.ascii_letters + "áàâãéêíóôõúçÁÉÍÓÚÇ"
words = st.lists(st.text(alphabet=LETTERS, min_size=1, max_size=10), max_size=4).map(" ".join)
nine_digit_bases = st.text(alphabet=string.digits, min_size=9, max_size=9)


@st.composite
def valid_cpfs(draw: st.DrawFn) -> str:
    """Generate a valid CPF, formatted or bare."""
    number = cpf_from_base(draw(nine_digit_bases.filter(lambda b: len(set(b)) > 1)))
    return format_cpf(number) if draw(st.booleans()) else number


@st.composite
def valid_cnpjs(draw: st.DrawFn) -> str:
    """Generate a valid CNPJ, formatted or bare."""
    root = draw(st.text(alphabet=string.digits, min_size=8, max_size=8))
    branch = draw(st.sampled_from(["0001", "0002", "0010"]))
    number = cnpj_from_base(root + branch)
    return format_cnpj(number) if draw(st.booleans()) else number


@st.composite
def valid_cards(draw: st.DrawFn) -> str:
    """Generate a Luhn-valid card number with a real issuer prefix, bare or grouped."""
    prefix = draw(st.sampled_from(["4", "51", "55", "2221", "34", "37", "36", "6011", "65", "35"]))
    length = draw(st.integers(min_value=13, max_value=19))
    size = length - len(prefix) - 1
    body = draw(st.text(alphabet=string.digits, min_size=size, max_size=size))
    number = luhn_complete(prefix + body)
    separator = draw(st.sampled_from(["", " ", "-"]))
    if separator and length == 16:
        return separator.join(number[i : i + 4] for i in range(0, 16, 4))
    if separator and length == 15:
        return separator.join((number[:4], number[4:10], number[10:]))
    return number


@st.composite
def brazilian_mobiles(draw: st.DrawFn) -> str:
    """Generate a Brazilian mobile number in one of the common spellings."""
    ddd = draw(st.sampled_from(["11", "21", "31", "41", "51", "61", "71", "81", "85", "91"]))
    local = "9" + draw(st.text(alphabet=string.digits, min_size=8, max_size=8))
    spelling = draw(st.sampled_from(range(5)))
    spellings = (
        f"+55{ddd}{local}",
        f"+55 ({ddd}) {local[:5]}-{local[5:]}",
        f"({ddd}) {local[:5]}-{local[5:]}",
        f"{ddd} {local[:5]}-{local[5:]}",
        f"whatsapp:+55{ddd}{local}",
    )
    return spellings[spelling]


@given(
    left=words,
    pii=st.one_of(valid_cpfs(), valid_cnpjs(), valid_cards(), brazilian_mobiles()),
    punctuation=st.sampled_from(["", ".", ",", "!", "?", ";", ")"]),
    right=words,
)
def test_generated_pii_between_words_is_gone(
    left: str, pii: str, punctuation: str, right: str
) -> None:
    out = redact(f"{left} {pii}{punctuation} {right}")
    assert digits_of(pii) not in digits_of(out)
    prefix = "whatsapp:" if pii.startswith("whatsapp:") else ""
    assert out in {f"{left} {prefix}{token}{punctuation} {right}" for token in TOKENS}


any_pii = st.one_of(
    valid_cpfs(), valid_cnpjs(), valid_cards(), brazilian_mobiles(), st.just("ana@loja.com.br")
)
other_numbers = st.one_of(
    st.text(alphabet=string.digits, min_size=1, max_size=5),
    st.sampled_from(["R$ 1.234,56", "25/11/2026", "12/28", "15h30", "1.2.3", "(", ")", "+"]),
)


@given(
    st.lists(st.one_of(any_pii, other_numbers), max_size=6),
    st.sampled_from([" ", ", ", "; ", " e ", "\n"]),
)
def test_mixed_pii_and_numbers_are_redacted_once_and_for_all(
    items: list[str], separator: str
) -> None:
    out = redact(separator.join(items))
    assert redact(out) == out
    for item in items:
        if len(digits_of(item)) >= 11:
            assert item.removeprefix("whatsapp:") not in out


@given(st.text(alphabet=st.one_of(st.characters(categories=["L"]), st.just(" "))))
def test_letters_and_spaces_are_unchanged(text: str) -> None:
    assert redact(text) == text
    assert find_pii(text) == []


@given(st.text())
def test_redact_never_raises_on_arbitrary_text(text: str) -> None:
    assert isinstance(redact(text), str)
    assert isinstance(find_pii(text), list)


@given(st.text(alphabet="0123456789 .,-/()+@:_abxyzé", max_size=60))
def test_redact_is_idempotent_on_digit_heavy_text(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@given(
    st.recursive(
        st.one_of(st.text(), st.integers(), st.none(), st.booleans()),
        lambda children: st.one_of(
            st.lists(children), st.tuples(children), st.dictionaries(st.text(), children)
        ),
        max_leaves=20,
    )
)
def test_redact_value_never_raises(value: object) -> None:
    redact_value(value)
