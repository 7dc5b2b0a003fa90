"""Vocabularies more than one module speaks: the finance records and the assistant that
extracts them from messages share one definition."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """Money going out or coming in."""

    EXPENSE = "expense"
    INCOME = "income"


class Category(StrEnum):
    """What the money was for (or where it came from)."""

    GROCERIES = "groceries"
    RESTAURANTS = "restaurants"
    TRANSPORT = "transport"
    HOUSING = "housing"
    HEALTH = "health"
    EDUCATION = "education"
    ENTERTAINMENT = "entertainment"
    SHOPPING = "shopping"
    BILLS = "bills"
    SALARY = "salary"
    FREELANCE = "freelance"
    TRANSFER = "transfer"
    OTHER = "other"

    @property
    def is_income(self) -> bool:
        """Whether money in, not out."""
        return self in (Category.SALARY, Category.FREELANCE)


class PaymentMethod(StrEnum):
    """How it was paid."""

    PIX = "pix"
    CREDIT_CARD = "credit_card"
    DEBIT_CARD = "debit_card"
    CASH = "cash"
    BOLETO = "boleto"
    TRANSFER = "transfer"
