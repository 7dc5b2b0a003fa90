"""Deterministic extraction for the offline assistant: amounts, dates, names, categories, clauses.

Every result carries the span it was read from in the original text, so a caller can cut it out
and read the rest.
"""

from whatsapp_ai.ai.extract.amounts import (
    Amount,
    bare_number_amount,
    find_amounts,
    mentions_money,
)
from whatsapp_ai.ai.extract.categories import guess_category, guess_payment_method
from whatsapp_ai.ai.extract.clauses import Clause, split_intents, starts_request
from whatsapp_ai.ai.extract.dates import When, find_when
from whatsapp_ai.ai.extract.names import PersonName, find_person_names
from whatsapp_ai.core.vocabulary import Category, PaymentMethod

__all__ = [
    "Amount",
    "Category",
    "Clause",
    "PaymentMethod",
    "PersonName",
    "When",
    "bare_number_amount",
    "find_amounts",
    "find_person_names",
    "find_when",
    "guess_category",
    "guess_payment_method",
    "mentions_money",
    "split_intents",
    "starts_request",
]
