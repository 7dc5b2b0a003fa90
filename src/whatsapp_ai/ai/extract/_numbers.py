"""Numbers written in words, PT and EN ("mil e duzentos", "twenty-five", "a hundred").

Words join as speakers say them: larger parts first ("cento e vinte e cinco", "two thousand five
hundred"), with or without "e"/"and" between them. A word that could not continue the number
("dois e trinta": thirty after two) starts a new one, so "cinquenta e trinta" is two numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from whatsapp_ai.ai.extract._text import words

# Folded words and their values; "um"/"uma"/"one" are numbers here, the callers decide if a lone
# one is an article.
UNITS: dict[str, int] = {
    "zero": 0, "um": 1, "uma": 1, "dois": 2, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5,
    "seis": 6, "sete": 7, "oito": 8, "nove": 9, "dez": 10, "onze": 11, "doze": 12, "treze": 13,
    "quatorze": 14, "catorze": 14, "quinze": 15, "dezesseis": 16, "dezasseis": 16,
    "dezessete": 17, "dezassete": 17, "dezoito": 18, "dezenove": 19, "dezanove": 19,
    "vinte": 20, "trinta": 30, "quarenta": 40, "cinquenta": 50, "cincoenta": 50, "sessenta": 60,
    "setenta": 70, "oitenta": 80, "noventa": 90, "cem": 100, "cento": 100, "duzentos": 200,
    "duzentas": 200, "trezentos": 300, "trezentas": 300, "quatrocentos": 400,
    "quatrocentas": 400, "quinhentos": 500, "quinhentas": 500, "seiscentos": 600,
    "seiscentas": 600, "setecentos": 700, "setecentas": 700, "oitocentos": 800,
    "oitocentas": 800, "novecentos": 900, "novecentas": 900,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
SCALES: dict[str, int] = {
    "mil": 1_000, "thousand": 1_000, "milhao": 1_000_000, "milhoes": 1_000_000,
    "million": 1_000_000, "bilhao": 1_000_000_000, "bilhoes": 1_000_000_000,
    "billion": 1_000_000_000,
}  # fmt: skip
_HUNDRED = "hundred"
_CONNECTORS = frozenset({"e", "and"})
_ARTICLES = frozenset({"a", "an"})
NUMBER_WORDS = frozenset(UNITS) | frozenset(SCALES) | {_HUNDRED}


@dataclass(frozen=True, slots=True)
class SpelledNumber:
    """A number in words: its value, its span in the folded text, and whether it has a scale."""

    value: int
    start: int
    end: int
    scaled: bool


def _place(value: int) -> int:
    """The smallest value that may not follow `value` ("vinte" takes units, "cento" tens)."""
    if value >= 100:
        return 100
    return 10 if value >= 20 else 1


def spelled_numbers(folded: str) -> list[SpelledNumber]:
    """The numbers written in words in a folded text, left to right."""
    tokens = words(folded)
    found: list[SpelledNumber] = []
    index = 0
    while index < len(tokens):
        parsed = _parse(folded, tokens, index)
        if parsed is None:
            index += 1
            continue
        number, index = parsed
        found.append(number)
    return found


def _joined(folded: str, end: int, start: int) -> bool:
    return folded[end:start].strip(" -") == "" and "\n" not in folded[end:start]


def _parse(
    folded: str, tokens: list[tuple[str, int, int]], first: int
) -> tuple[SpelledNumber, int] | None:
    total = current = 0
    limit: int | None = None  # what the next added word must be below
    last_scale = 10**12
    scaled = False
    end: int | None = None
    after = first
    pos = first
    while pos < len(tokens):
        word, start, stop = tokens[pos]
        if pos > first and not _joined(folded, tokens[pos - 1][2], start):
            break
        following = tokens[pos + 1][0] if pos + 1 < len(tokens) else ""
        if pos == first and word in _ARTICLES and (following in SCALES or following == _HUNDRED):
            current, limit = 1, 1
        elif word in UNITS:
            value = UNITS[word]
            if limit is not None and value >= limit:
                break
            current += value
            limit = _place(value)
        elif word == _HUNDRED:
            if not 1 <= current <= 9:
                break
            current *= 100
            limit = 100
        elif word in SCALES:
            scale = SCALES[word]
            if scale >= last_scale or current >= 1000:
                break
            total += (current or 1) * scale
            current, limit, last_scale, scaled = 0, scale, scale, True
        elif word in _CONNECTORS and end is not None and following in NUMBER_WORDS:
            pos += 1
            continue
        else:
            break
        end, after = stop, pos + 1
        pos += 1
    if end is None:
        return None
    return SpelledNumber(total + current, tokens[first][1], end, scaled), after
