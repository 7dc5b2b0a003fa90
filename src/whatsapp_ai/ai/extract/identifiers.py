"""Digits that identify something rather than count it: cards, CPF/CNPJ, phones, order numbers.

`identifier_spans` gives the spans (in the folded text) that are never read as money, whatever
the message says about spending:

- Card numbers: four groups of four digits ("4111 1111 1111 1111", "4111-1111-1111-1111"), 13 to
  19 digits in a run, and the last digits after "final", "terminado em", "ending in" ("cartão
  final 4321").
- CPF and CNPJ, formatted ("123.456.789-09", "12.345.678/0001-90") or bare after their name
  ("cpf 12345678909").
- Phone numbers: "+1 415 555 0147", "+55 11 98765-4321", "(11) 98765-4321", "11 98765-4321",
  "98765-4321", "3456-7890", "(415) 555-0147", "415-555-0147".
- Order, protocol, ticket, invoice numbers: a number after "pedido", "protocolo", "order",
  "ticket", "nota", "nf", "boleto", "código", "nº", "#" and the like ("pedido #48213",
  "protocolo 2026030412345", "order no. 5521").
"""

from __future__ import annotations

import re

from whatsapp_ai.ai.extract._text import fold

_CARD = re.compile(r"(?<![\d.,])\d{4}(?:[ .-]\d{4}){2,3}(?:[ .-]\d{1,4})?(?![\d])")
_CARD_TAIL = re.compile(
    r"\b(?:final|finais|terminad[oa] em|termina em|ending in|ends in|ending|last four|last 4)"
    r"\s*(?:de\s+)?\d{2,6}\b"
)
_CPF = re.compile(r"(?<![\d.])\d{3}\.\d{3}\.\d{3}-?\d{2}(?!\d)|(?<![\d.])\d{9}-\d{2}(?!\d)")
_CNPJ = re.compile(r"(?<![\d.])\d{2}\.?\d{3}\.?\d{3}/\d{4}-?\d{2}(?!\d)")
_NAMED_DOCUMENT = re.compile(
    r"\b(?:cpf|cnpj|rg|cnh|pis|nit|renavam|cep|zip|ssn|passaporte|passport|matricula"
    r"|agencia|routing)\s*(?:n[º°.]\s*|no\.\s*|numero\s*|number\s*|:\s*|e\s+|is\s+)*"
    r"[\d][\d./ -]*\d"
)
_PHONE = re.compile(
    r"(?<![\w.,])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,3}\)[ .-]?|\d{2,3}[ .-])?(?:9\s?)?\d{4,5}-\d{4}"
    r"(?![\d,.]?\d)"
    r"|(?<![\w])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?!\d)"
    r"|\(\d{2,3}\)\s?\d{4,5}[ .-]?\d{4}(?!\d)"
    r"|(?<![\w.,])(?:\(\d{3}\)\s?|\d{3}[.-])\d{3}[ .-]\d{4}(?!\d)"
)
_ORDER = re.compile(
    r"(?:\b(?:pedido|pedidos|protocolo|order|orders|ticket|chamado|nota fiscal|nota|nf|nfe"
    r"|boleto|codigo|cod|code|rastreio|rastreamento|tracking|reserva|booking|invoice|fatura"
    r"|numero|number|n[º°]|n\.|no\.)\s*(?:n[º°.]\s*|no\.\s*|numero\s*|number\s*|:\s*|-\s*)*#?\s*"
    r"|#\s*)[a-z]{0,3}\d[\d./-]*"
)
_LONG_RUN = re.compile(r"(?<![\d.,])\d{8,}(?![\d])")

_PATTERNS = (_CARD, _CARD_TAIL, _CPF, _CNPJ, _NAMED_DOCUMENT, _PHONE, _ORDER, _LONG_RUN)


def identifier_spans(folded: str) -> list[tuple[int, int]]:
    """The spans of card, document, phone and order numbers in a folded text, left to right."""
    spans = [match.span() for pattern in _PATTERNS for match in pattern.finditer(folded)]
    return sorted(spans)


def blank_references(text: str) -> str:
    """The text with its card, document and order numbers blanked (same length): digits that
    name no person, unlike a phone number, which may be someone's."""
    patterns = (_CARD, _CARD_TAIL, _CPF, _CNPJ, _NAMED_DOCUMENT, _ORDER)
    folded = fold(text)
    for start, end in sorted(m.span() for p in patterns for m in p.finditer(folded))[::-1]:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def inside_identifier(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether the span [start, end) overlaps one of the identifier spans."""
    return any(start < stop and first < end for first, stop in spans)
