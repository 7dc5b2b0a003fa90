"""PII redaction for logs and AI traces: CPF, CNPJ, e-mail, phone and payment card numbers."""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["find_pii", "redact", "redact_value"]

# A number only counts when it stands alone: not glued to a word or identifier (ULID, hash,
# Twilio SID, UUID group) nor part of a longer dotted or slashed number (versions, IPs, dates).
# A comma does not bind, since "12345678909,11987654321" is a list far more often than an
# 11-digit amount with cents. The two sides mirror each other so that replacing one match can
# never unblock a neighbour on a second run, which keeps redact() idempotent.
_BEFORE = r"(?<![\w+])(?<!\w-)(?<!\d[./])"
_AFTER = r"(?!\w)(?!-\w)(?![./]\d)"

_DIGIT = re.compile(r"\d")
_NON_DIGIT = re.compile(r"\D")

# The local part is possessive and anchored on a non-local character so long words cost O(n).
_EMAIL = re.compile(
    r"(?<![\w.%+\-])[\w.%+\-]++@(?:[^\W_](?:[\w\-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w\-])"
)
_CNPJ = re.compile(_BEFORE + r"\d{2}(\.?)\d{3}\1\d{3}/?\d{4}-?\d{2}" + _AFTER)
_CPF = re.compile(_BEFORE + r"\d{3}(\.?)\d{3}\1\d{3}[.\-]?\d{2}" + _AFTER)
_CARD = re.compile(
    _BEFORE
    + r"(?:\d{4}(?P<s>[ \-])\d{4}(?P=s)\d{4}(?P=s)\d{1,4}(?P<tail>(?P=s)\d{1,3})?"
    + r"|\d{4}(?P<amex>[ \-])\d{6}(?P=amex)\d{4,5}"
    + r"|\d{13,19})"
    + _AFTER
)
_PHONE = re.compile(
    _BEFORE
    + r"(?:"
    # With +55 or +1 the country code already says "phone", so the area code is not checked.
    + r"\+55[ \-]?(?:\(\d{2}\)|\d{2})[ \-]?(?:9[ \-]?)?\d{4}[ \-]?\d{4}"
    + r"|\+1[ \-.]?(?:\(\d{3}\)|\d{3})[ \-.]?\d{3}[ \-.]?\d{4}"
    # Possessive so a long run never backtracks; trailing groups after a number are redacted
    # along with it, since over-redacting beats leaking the number.
    + r"|(?P<intl>\+[2-9]\d*+(?:[ \-]\d++)*+)"
    + r"|\(0?(?P<ddd_paren>\d{2})\)[ ]?(?:9[ ]?\d{4}|[2-8]\d{3})[ \-]?\d{4}"
    + r"|0?(?P<ddd_spaced>\d{2})[ ](?:9[ ]?\d{4}|[2-8]\d{3})[ \-]?\d{4}"
    + r"|(?:55)?(?P<ddd_bare>\d{2})9\d{8}"
    + r"|9\d{4}-\d{4}"
    + r"|\([2-9]\d{2}\)[ ]?[2-9]\d{2}-\d{4}"
    + r"|[2-9]\d{2}-[2-9]\d{2}-\d{4}"
    + r")"
    + _AFTER
)
_BR_MOBILE_13 = re.compile(r"55(\d{2})9\d{8}")

_DDDS = frozenset(
    {11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 24, 27, 28, 31, 32, 33, 34, 35, 37, 38}
    | {41, 42, 43, 44, 45, 46, 47, 48, 49, 51, 53, 54, 55, 61, 62, 63, 64, 65, 66, 67, 68, 69}
    | {71, 73, 74, 75, 77, 79, 81, 82, 83, 84, 85, 86, 87, 88, 89}
    | {91, 92, 93, 94, 95, 96, 97, 98, 99}
)
_CNPJ_WEIGHTS = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def _digits(text: str) -> list[int]:
    """Return the decimal digits of text as integers."""
    return [int(c) for c in _NON_DIGIT.sub("", text)]


def _cpf(match: re.Match[str]) -> int:
    """Measure a CPF: valid mod-11 check digits and not one repeated digit."""
    d = _digits(match.group())
    if len(set(d)) == 1:
        return 0
    for n in (9, 10):
        total = sum(v * w for v, w in zip(d[:n], range(n + 1, 1, -1), strict=True))
        if total * 10 % 11 % 10 != d[n]:
            return 0
    return len(match.group())


def _cnpj(match: re.Match[str]) -> int:
    """Measure a CNPJ: valid mod-11 check digits and not one repeated digit."""
    d = _digits(match.group())
    if len(set(d)) == 1:
        return 0
    for n in (12, 13):
        total = sum(v * w for v, w in zip(d[:n], _CNPJ_WEIGHTS[13 - n :], strict=True))
        rest = total % 11
        if (0 if rest < 2 else 11 - rest) != d[n]:
            return 0
    return len(match.group())


def _is_card(raw: str) -> bool:
    """Check card digits: plausible leading digit and a passing Luhn checksum."""
    # No issuer uses a leading 0, and "1" belongs only to 15-digit UATP cards; excluding it
    # keeps epoch timestamps in ms/us/ns (13/16/19 digits starting with 1) out.
    if raw[0] == "0" or (raw[0] == "1" and len(raw) != 15):
        return False
    mobile = _BR_MOBILE_13.fullmatch(raw)
    if mobile is not None and int(mobile.group(1)) in _DDDS:
        return False  # 55 + DDD + mobile: left for the phone pass
    total = 0
    for i, c in enumerate(reversed(raw)):
        v = int(c)
        if i % 2:
            v = v * 2 - 9 if v > 4 else v * 2
        total += v
    return total % 10 == 0


def _card(match: re.Match[str]) -> int:
    """Measure a card number, retrying without a short trailing group."""
    text = match.group()
    if _is_card(_NON_DIGIT.sub("", text)):
        return len(text)
    # The regex cannot know the checksum, so "4111 1111 1111 1111 123" (card, then CVV) is
    # matched whole; fall back to the first four groups.
    if match.group("tail") is not None:
        head = match.start("tail") - match.start()
        if _is_card(_NON_DIGIT.sub("", text[:head])):
            return head
    return 0


def _phone(match: re.Match[str]) -> int:
    """Measure a phone: Brazilian DDD, international length, no placeholder digits."""
    text = match.group()
    digits = _NON_DIGIT.sub("", text)
    if len(set(digits)) == 1:
        return 0  # placeholders such as 99999-9999
    if match.group("intl") is not None:
        return len(text) if len(digits) >= 8 else 0
    ddd = match.group("ddd_paren") or match.group("ddd_spaced") or match.group("ddd_bare")
    return len(text) if ddd is None or int(ddd) in _DDDS else 0


# Returns how many leading characters of the match are PII; 0 rejects the match.
_Measure = Callable[[re.Match[str]], int]
# CNPJ before CPF before card (longest, most specific first); phones last because an 11-digit
# number that is a valid CPF is a CPF, and a Luhn-valid 13-digit 55+DDD+mobile is a phone.
_DIGIT_RULES: tuple[tuple[str, re.Pattern[str], _Measure], ...] = (
    ("CNPJ", _CNPJ, _cnpj),
    ("CPF", _CPF, _cpf),
    ("CARD", _CARD, _card),
    ("PHONE", _PHONE, _phone),
)


def _apply(
    text: str,
    kind: str,
    pattern: re.Pattern[str],
    measure: _Measure,
    found: list[tuple[str, str]] | None,
) -> str:
    """Replace the PII part of every match of pattern in text, recording it in found if given."""
    token = f"[{kind}]"
    parts: list[str] = []
    done = pos = 0
    # search() from a position, unlike sub(), lets a rejected match be retried one character
    # later with the real left context, so "4821 4111 1111 1111 1111" still finds the card.
    while (match := pattern.search(text, pos)) is not None:
        size = measure(match)
        if size == 0:
            pos = match.start() + 1
            continue
        start = match.start()
        parts += (text[done:start], token)
        if found is not None:
            found.append((kind, match.group()[:size]))
        done = pos = start + size
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def _whole(match: re.Match[str]) -> int:
    """Accept the whole match."""
    return len(match.group())


def _run(text: str, found: list[tuple[str, str]] | None) -> str:
    """Redact text category by category, collecting findings when found is a list."""
    if "@" in text:
        text = _apply(text, "EMAIL", _EMAIL, _whole, found)
    if _DIGIT.search(text) is not None:
        for kind, pattern, measure in _DIGIT_RULES:
            text = _apply(text, kind, pattern, measure, found)
    return text


def redact(text: str) -> str:
    """Replace each CPF, CNPJ, e-mail, phone and card number in text with a [KIND] token."""
    return _run(text, None)


def find_pii(text: str) -> list[tuple[str, str]]:
    """List (kind, matched text) for each PII occurrence, grouped by kind in redaction order."""
    found: list[tuple[str, str]] = []
    _run(text, found)
    return found


def redact_value(value: object) -> object:
    """Redact strings inside dict values, lists, tuples and sets, recursively."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    if isinstance(value, tuple):
        items = [redact_value(item) for item in value]
        make = getattr(value, "_make", None)  # namedtuples keep their type
        return make(items) if callable(make) else tuple(items)
    if isinstance(value, set | frozenset):
        return type(value)(redact_value(item) for item in value)
    return value
