"""Money amounts in a message (PT and EN): "R$ 50,00", "50 reais", "$12.50", "mil e duzentos reais".

An amount is a number in digits or in words with, around it, what makes it money:

- A currency marker: a symbol or code before it ("R$", "US$", "$", "€", "£", "BRL", "USD") or a
  currency word after it ("reais", "conto", "pila", "paus", "dólares", "bucks", "euros",
  "libras"). "$" is the US dollar. "centavos" and "cents" make the number hundredths (of the
  default currency and of the dollar). "cinquenta reais e vinte centavos" is one amount.
- Cents: digits with exactly two decimals ("50,90", "12.50", "1.234,56") are money in the default
  currency.
- A scale: "2 mil", "1,5 mil", "2k", "dois mil", "5 grand" are money in the default currency;
  the hundreds after it join it, in digits or words ("2 mil e 500", "4 mil e quinhentos").
- A neighbour: a bare number joined by "e", "ou", "a", "," or "-" to an amount takes its currency
  ("50 e 30 reais" is two amounts in reais, "de 10 a 20 dólares" two in dollars).
- With `money_hint` (the caller knows the message is about money), any other bare number too.

Separators: a "." or "," followed by exactly three digits groups thousands, one followed by one or
two digits is the decimal mark, so "1.234,56", "1,234.56", "1.000" (one thousand) and "1,5" all
read as they are meant, whatever the currency.

A number without a currency marker is not money when the text says it is something else: a time
("15h", "15:30", "3pm", "às 3"), a date ("dia 5", "05/10", "5 de outubro", "em 2026"), a
percentage, an ordinal, a quantity ("2 pizzas": a number followed by a word other than a
preposition, article, conjunction or time word), letters glued to it ("5kg", "3x") or a long run of
digits (a phone or document number). Card numbers ("4111 1111 1111 1111", "final 4321"),
CPF/CNPJ, phone numbers and order or protocol numbers (see `identifiers`) are never money. In a
money sentence a number written like money ("6,200", "62,90") stays money even when a verb follows
it ("my salary of 6,200 came in"). Numbers in words below ten are never bare amounts: "comprei
dois no mercado" counts things.

`bare_number_amount` is the hint made automatic: it turns `money_hint` on when the message has a
verb or noun of spending or earning ("gastei 50 no mercado", "recebi 3000", "paid 20").
"meio real" and other fractions in words are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from whatsapp_ai.ai.extract._numbers import spelled_numbers
from whatsapp_ai.ai.extract._text import fold, next_word, previous_word
from whatsapp_ai.ai.extract.identifiers import identifier_spans, inside_identifier

_CENT = Decimal("0.01")

_PREFIXES: dict[str, str] = {
    "r$": "BRL", "brl": "BRL", "us$": "USD", "u$": "USD", "usd": "USD", "$": "USD", "eur": "EUR",
    "€": "EUR", "gbp": "GBP", "£": "GBP",
}  # fmt: skip
_SUFFIXES: dict[str, str] = {
    "reais": "BRL", "real": "BRL", "r$": "BRL", "brl": "BRL", "conto": "BRL", "contos": "BRL",
    "pila": "BRL", "pilas": "BRL", "paus": "BRL", "dolares": "USD", "dolar": "USD",
    "dollars": "USD", "dollar": "USD", "bucks": "USD", "buck": "USD", "usd": "USD",
    "euros": "EUR", "euro": "EUR", "eur": "EUR", "libras": "GBP", "libra": "GBP",
    "pounds": "GBP", "pound": "GBP", "gbp": "GBP",
}  # fmt: skip
_HUNDREDTHS = ("centavos", "centavo", "cents", "cent")
_PREFIX = re.compile(r"(?:(?<![a-z])(?:us\$|u\$|r\$|brl|usd|eur|gbp)|\$|€|£)\s*$")
_SUFFIX = re.compile(
    r"\s*(?P<de>de\s+)?(?P<word>"
    + "|".join(sorted((*_SUFFIXES, *_HUNDREDTHS), key=len, reverse=True)).replace("$", r"\$")
    + r")(?![\w$])"
)
_DIGITS = re.compile(
    r"(?<![\w.,/:-])(?P<num>\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
    r"(?![.,/:-]?\d)"
)
_SCALE = re.compile(r"\s?(?P<scale>k|mil|milhao|milhoes|thousand|million|grand)(?![\w])")
_SCALES = {
    "k": 1_000, "mil": 1_000, "thousand": 1_000, "grand": 1_000, "milhao": 1_000_000,
    "milhoes": 1_000_000, "million": 1_000_000,
}  # fmt: skip
# "2 mil e 500", "4 mil e quinhentos": the rest after the thousands.
_THOUSANDS_REST = re.compile(r"\s+e\s+(?P<rest>\d{1,3}(?![\d.,])|[a-z]+(?:\s+e\s+[a-z]+)*)")
_CENTS_TAIL = re.compile(
    r"\s+(?:e|and)\s+(?P<cents>\d{1,2}|[a-z]+(?:\s+e\s+[a-z]+)?)\s+(?:centavos?|cents?)(?!\w)"
)
_JOINER = re.compile(r"\s*(?:,|-|(?<!\S)(?:e|ou|a|and|or|to)(?!\S))\s*")

# Words that may follow a bare amount: prepositions, articles, conjunctions, time words.
_ISH = re.compile(r"ish\b")
# "foi 76 kkk", "50 rsrs": laughter after a number says nothing of what it counts.
_LAUGH = re.compile(r"k{2,}|(?:rs)+|(?:ha)+h?|(?:he)+|(?:hue)+|lol|lmao")
_FOLLOWERS = frozenset(
    {
        "de", "do", "da", "dos", "das", "no", "na", "nos", "nas", "em", "com", "pra", "pro",
        "pras", "pros", "para", "por", "pelo", "pela", "e", "ou", "a", "o", "as", "os", "ao",
        "que", "mas", "so", "cada", "hoje", "ontem", "anteontem", "amanha", "agora", "semana",
        "certinho", "certo", "exato", "exatos", "redondo", "contados", "pouco", "poucos", "flat",
        "even", "exactly", "tops", "no maximo", "mais", "mais ou menos",
        "mes", "ano", "ja", "tambem", "ai", "la", "total", "on", "at", "in", "for", "to", "and",
        "or", "the", "from", "with", "of", "each", "today", "yesterday", "tomorrow", "last",
        "this", "too", "already", "via", "pix", "me", "i", "eu", "dia", "day", "ate", "until",
        "by", "num", "numa", "uns", "umas", "hj", "dps", "tipo", "actually", "instead", "not",
        "nao", "vdd", "mesmo", "entao", "then", "ok", "pfv", "please", "tb", "tbm", "salary",
        "salario", "bonus", "freela", "freelance", "bucks", "corrige", "corrija", "arruma",
        "pls", "pf", "por favor",
    }
)  # fmt: skip
_TIME_BEFORE = frozenset({"as", "at", "das", "pelas", "dia", "day"})
_YEAR_BEFORE = frozenset(
    {"em", "de", "in", "of", "since", "desde", "ano", "year", "until", "ate", "during"}
)
_MONTHS = frozenset(
    {
        "janeiro", "fevereiro", "marco", "abril", "maio", "junho", "julho", "agosto", "setembro",
        "outubro", "novembro", "dezembro", "january", "february", "march", "april", "may", "june",
        "july", "august", "september", "october", "november", "december", "jan", "fev", "feb",
        "mar", "abr", "apr", "mai", "jun", "jul", "ago", "aug", "set", "sep", "sept", "out",
        "oct", "nov", "dez", "dec",
    }
)  # fmt: skip
_OF_MONTH = re.compile(r"\s+de\s+(?:" + "|".join(sorted(_MONTHS)) + r")\b")
_AT_SIGN = re.compile(r"@\s*$")
_NOT_AFTER = re.compile(r"\s*(?:%|°|º|ª|por cento|percent|#)")
_PHONE_DIGITS = 8
_GROUPED = re.compile(r"\d{1,3}(?:[.,]\d{3})+")

_MONEY_WORDS = re.compile(
    r"\b(?:gast\w*|pag(?:o|a|as|ou|ar|amos|aram|uei|ando|amento|amentos)|compr(?:ei|ou|amos|aram"
    r"|o|a|ar|as|ando)|cust(?:ou|a|am|aram|ar|ando|o)|receb\w*|ganh(?:ei|ou|amos|aram|o|ar)"
    r"|vend(?:i|eu|emos|eram|a|as)|transferi|depositei|saquei|emprestei|devo|deve|devia"
    r"|cobr(?:ei|ou|ar|a)|pix|deu|saiu|valor|preco|despesa|receita|salario|spen[dt]\w*|paid"
    r"|pay(?:s|ing)?|bought|buy|cost(?:s|ing)?|received|receive|earned|earn|sold|owe[sd]?|lent"
    r"|charged|transferred|price|expense|income|salary)\b"
)


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount of money: its value, its ISO 4217 currency, and its span in the text."""

    value: Decimal
    currency: str
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Number:
    start: int
    end: int
    value: Decimal
    scale: int
    cents: bool  # digits with exactly two decimals
    spelled: bool


def _decimal(digits: str) -> Decimal:
    last = max(digits.rfind("."), digits.rfind(","))
    if last != -1 and len(digits) - last - 1 <= 2:
        whole, fraction = digits[:last], digits[last + 1 :]
    else:
        whole, fraction = digits, ""
    whole = whole.replace(".", "").replace(",", "")
    return Decimal(f"{whole}.{fraction or '0'}")


def _numbers(folded: str) -> list[_Number]:
    found: list[_Number] = []
    for match in _DIGITS.finditer(folded):
        digits = match.group("num")
        value, end, scale = _decimal(digits), match.end(), 1
        scaled = _SCALE.match(folded, end)
        if scaled:
            scale = _SCALES[scaled.group("scale")]
            value, end = value * scale, scaled.end()
            rest = _thousands_rest(folded, end) if scale == 1_000 else None
            if rest:
                value, end = value + rest[0], rest[1]
        last = max(digits.rfind("."), digits.rfind(","))
        cents = last != -1 and len(digits) - last - 1 == 2
        found.append(_Number(match.start(), end, value, scale, cents, spelled=False))
    # "3 mil e 200": the 200 is part of the number before it.
    found = [
        n for i, n in enumerate(found) if all(not o.start < n.start < o.end for o in found[:i])
    ]
    for spelled in spelled_numbers(folded):
        if any(n.start <= spelled.start < n.end for n in found):
            continue  # the scale word of "2 mil"
        scale = 1_000 if spelled.scaled else 1
        number = _Number(spelled.start, spelled.end, Decimal(spelled.value), scale, False, True)
        found.append(number)
    return sorted(found, key=lambda n: n.start)


def _thousands_rest(folded: str, end: int) -> tuple[int, int] | None:
    """The hundreds after "2 mil e": "500" or words ("quinhentos", "duzentos e cinquenta")."""
    match = _THOUSANDS_REST.match(folded, end)
    if match is None:
        return None
    written = match.group("rest")
    if written.isdigit():
        return int(written), match.end()
    parsed = spelled_numbers(written)
    if not parsed or parsed[0].start != 0 or parsed[0].value >= 1000 or parsed[0].scaled:
        return None
    return parsed[0].value, match.start("rest") + parsed[0].end


def _prefix(folded: str, start: int) -> tuple[str, int] | None:
    match = _PREFIX.search(folded, max(0, start - 6), start)
    if match is None:
        return None
    return _PREFIXES[match.group().strip()], match.start()


def _cents_tail(folded: str, end: int) -> tuple[Decimal, int] | None:
    match = _CENTS_TAIL.match(folded, end)
    if match is None:
        return None
    written = match.group("cents")
    if written.isdigit():
        return Decimal(written) * _CENT, match.end()
    parsed = spelled_numbers(written)
    if len(parsed) != 1 or parsed[0].end != len(written) or parsed[0].value >= 100:
        return None
    return Decimal(parsed[0].value) * _CENT, match.end()


def _marked(folded: str, number: _Number, default_currency: str) -> Amount | None:
    """The number as an amount when a currency marker stands before or after it."""
    prefix = _prefix(folded, number.start)
    suffix = _SUFFIX.match(folded, number.end)
    if suffix and suffix.group("de") and number.value < 1_000_000:
        suffix = None  # "de" comes between only in "2 milhões de reais"
    if prefix is None and suffix is None:
        return None
    start = prefix[1] if prefix else number.start
    end = suffix.end() if suffix else number.end
    value = number.value
    if prefix:
        currency = prefix[0]
    else:
        assert suffix is not None
        word = suffix.group("word")
        if word in _HUNDREDTHS:
            value *= _CENT
            currency = default_currency if word.startswith("centavo") else "USD"
        else:
            currency = _SUFFIXES[word]
    if suffix and suffix.group("word") not in _HUNDREDTHS:
        tail = _cents_tail(folded, end)
        if tail:
            value, end = value + tail[0], tail[1]
    return Amount(value.quantize(_CENT), currency, (start, end))


def _not_money(folded: str, number: _Number, *, money_hint: bool) -> bool:
    """Whether the context says a bare number is a time, date, quantity or code."""
    end = number.end
    about = _ISH.match(folded, end)  # "18ish": about 18
    if about is not None:
        end = about.end()
    elif end < len(folded) and (folded[end].isalpha() or _NOT_AFTER.match(folded, end)):
        return True
    follower = next_word(folded, end)
    # Written like money ("6,200", "62,90") in a money sentence, a verb may follow it:
    # "my salary of 6,200 came in".
    grouped = _GROUPED.fullmatch(folded, number.start, end) is not None
    shaped = number.cents or (grouped and not number.spelled)
    laughing = follower is not None and _LAUGH.fullmatch(follower) is not None
    told_after = follower is not None and follower not in _FOLLOWERS and not laughing
    if told_after and not (money_hint and shaped):
        return True
    before = previous_word(folded, number.start)
    raw = folded[number.start : number.end]
    if before in _TIME_BEFORE or _AT_SIGN.search(folded, 0, number.start):
        return True
    if before in _MONTHS and _day_or_year(raw):
        return True  # "march 5", "novembro 2026"; "dia 20 de novembro 120 no bar" is money
    if raw.isdigit() and len(raw) == 4 and raw[:2] in ("19", "20") and before in _YEAR_BEFORE:
        return True
    if _OF_MONTH.match(folded, end):
        return True
    return raw.isdigit() and len(raw) >= _PHONE_DIGITS


def _day_or_year(raw: str) -> bool:
    """Whether a number after a month's name reads as its day or its year."""
    if not raw.isdigit():
        return False
    return 1 <= int(raw) <= 31 or (len(raw) == 4 and raw[:2] in ("19", "20"))


def _joined(folded: str, left: _Number | Amount, right: _Number | Amount) -> bool:
    left_end = left.span[1] if isinstance(left, Amount) else left.end
    right_start = right.span[0] if isinstance(right, Amount) else right.start
    return _JOINER.fullmatch(folded, left_end, right_start) is not None


def find_amounts(
    text: str, *, default_currency: str = "BRL", money_hint: bool = False
) -> list[Amount]:
    """The amounts of money in the text, left to right (see the module docstring for the rules)."""
    folded = fold(text)
    identifiers = identifier_spans(folded)
    numbers = [n for n in _numbers(folded) if not inside_identifier(identifiers, n.start, n.end)]
    numbers = _reais_and_centavos(folded, numbers)
    amounts: list[Amount | None] = [None] * len(numbers)
    taken = 0  # the end of the last span used, so a centavos tail is not read twice
    for index, number in enumerate(numbers):
        if number.start < taken:
            continue
        amount = _marked(folded, number, default_currency)
        if amount is not None:
            amounts[index] = amount
            taken = amount.span[1]
    consumed = {i for i, n in enumerate(numbers) if amounts[i] is None and _inside(n, amounts)}
    bare = [
        i
        for i, n in enumerate(numbers)
        if amounts[i] is None
        and i not in consumed
        and not _not_money(folded, n, money_hint=money_hint)
    ]
    # Neighbours take the currency of the amount they are joined to, both ways along a list.
    for index in reversed(bare):
        right = amounts[index + 1] if index + 1 < len(numbers) else None
        if right is not None and _joined(folded, numbers[index], right):
            amounts[index] = _plain(numbers[index], right.currency)
    for index in bare:
        left = amounts[index - 1] if index > 0 else None
        if amounts[index] is None and left is not None and _joined(folded, left, numbers[index]):
            amounts[index] = _plain(numbers[index], left.currency)
    for index in bare:
        number = numbers[index]
        if amounts[index] is not None:
            continue
        small_word = number.spelled and number.value < 10
        if number.cents or number.scale > 1 or (money_hint and not small_word):
            amounts[index] = _plain(number, default_currency)
    return [amount for amount in amounts if amount is not None]


_AND = re.compile(r"\s+e\s+")
_WORDS_AFTER = re.compile(r"\s+(?!(?:kk+|rs)\b)[^\W\d_]{2,}")


def _reais_and_centavos(folded: str, numbers: list[_Number]) -> list[_Number]:
    """ "38 e 50", "99 e 90": reais and centavos said the way they are spoken, one amount."""
    joined: list[_Number] = []
    for number in numbers:
        last = joined[-1] if joined else None
        tail = folded[number.start : number.end]
        if (
            last is not None
            and not last.cents
            and not last.spelled
            and last.scale == 1
            and last.value == last.value.to_integral_value()
            and not number.spelled
            and len(tail) == 2
            and tail.isdigit()
            and _AND.fullmatch(folded, last.end, number.start) is not None
            and not folded[number.end : number.end + 1].isalnum()
            # "uber 15 e 50 de ifood", "50 e 30 reais" are two: words after the second
            # say what they were for, or that both are reais
            and not _WORDS_AFTER.match(folded, number.end)
        ):
            value = last.value + Decimal(tail) / 100
            joined[-1] = _Number(last.start, number.end, value, 1, True, False)
            continue
        joined.append(number)
    return joined


def _inside(number: _Number, amounts: list[Amount | None]) -> bool:
    return any(a is not None and a.span[0] <= number.start < a.span[1] for a in amounts)


def _plain(number: _Number, currency: str) -> Amount:
    return Amount(number.value.quantize(_CENT), currency, (number.start, number.end))


def mentions_money(text: str) -> bool:
    """Whether the message has a verb or noun of spending or earning ("gastei", "paid", "valor")."""
    return _MONEY_WORDS.search(fold(text)) is not None


def bare_number_amount(text: str, *, default_currency: str = "BRL") -> Amount | None:
    """The message's first amount, taking a bare number as money when the message is about money."""
    amounts = find_amounts(text, default_currency=default_currency, money_hint=mentions_money(text))
    return amounts[0] if amounts else None
