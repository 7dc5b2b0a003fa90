"""What is owed between the contact and a person, from what the contact noted about them, in
the order noted: "o Marcos me deve 100", "a Rebeca me pagou metade", "a Bruna me emprestou 40",
"paguei 20 pra Bruna". Asked as "quanto a Rebeca ainda me deve?" or "quanto eu devo pra
Bruna?", the answer is the balance those notes leave (in the contact's currency)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from whatsapp_ai.ai.extract import find_amounts
from whatsapp_ai.core.text import fold

# "quanto a Rebeca ainda me deve?", "qnt eu devo pra Bruna", "how much does Tom owe me?"
ASKED = re.compile(
    r"\b(?:quanto|qnt|qnto|qto|how much)\b.*\b(?:dev\w*|owes?|owed)\b"
    r"|\b(?:ainda|still)\b.*\b(?:me deve|owes? me|te devo|i owe)\b"
    r"|\b(?:estamos|tamo|to|estou) quites?\b|\b(?:do i|does \w+) (?:still )?owe\b"
)
# Notes that say who owes whom, and payments. Matched folded, in this order.
_THEY_PAID_ALL = re.compile(r"\b(?:quitou|acertou|pagou tudo|paid (?:it )?all|settled)\b")
_HALF = re.compile(r"\b(?:metade|half)\b")
_THEY_PAID = re.compile(
    r"\b(?:me pagou|me pagaram|me devolveu|recebi|paid me|paid (?:me )?back|got \w+ back)\b"
)
_I_PAID = re.compile(r"\b(?:paguei|devolvi|acertei|i paid|i gave \w+ back)\b")
_THEY_OWE = re.compile(
    r"\b(?:me deve|me devem|ta me devendo|esta me devendo|ficou me devendo|emprestei|owes me"
    r"|owe me|i lent)\b"
)
_I_OWE = re.compile(
    r"\b(?:devo|to devendo|estou devendo|fiquei devendo|me emprestou|me emprestaram|i owe"
    r"|lent me)\b"
)


def balance(notes: Iterable[str], currency: str = "BRL") -> Decimal | None:
    """What the person owes the contact (negative: what the contact owes them) after the
    notes, oldest first; None when no note speaks of a debt."""
    owed: Decimal | None = None
    for note in notes:
        folded = fold(note)
        amounts = find_amounts(note, default_currency=currency, money_hint=True)
        amount = amounts[0].value if amounts else None
        if _THEY_OWE.search(folded) and amount is not None and not _THEY_PAID.search(folded):
            owed = (owed or Decimal(0)) + amount
        elif _I_OWE.search(folded) and amount is not None and not _I_PAID.search(folded):
            owed = (owed or Decimal(0)) - amount
        elif owed is not None and (_THEY_PAID.search(folded) or _THEY_PAID_ALL.search(folded)):
            owed = _paid(owed, folded, amount, towards=Decimal(1))
        elif owed is not None and _I_PAID.search(folded):
            owed = _paid(owed, folded, amount, towards=Decimal(-1))
    return owed


def _paid(owed: Decimal, folded: str, amount: Decimal | None, *, towards: Decimal) -> Decimal:
    """The balance after a payment by the side that owed (``towards``: +1 when the person
    paid the contact, -1 when the contact paid the person)."""
    if owed * towards <= 0:
        return owed  # the one paying owed nothing: an unrelated payment
    if _HALF.search(folded):
        return (owed / 2).quantize(Decimal("0.01"))
    if amount is None or _THEY_PAID_ALL.search(folded):
        return Decimal(0)
    left = owed - towards * amount
    return left if left * towards > 0 else Decimal(0)
