"""What the extraction library reads must be what the finance records can hold."""

from __future__ import annotations

from typing import get_args

from whatsapp_ai.ai.agents.finance import CategoryName, MethodName
from whatsapp_ai.ai.extract import Category as ReadCategory
from whatsapp_ai.ai.extract import PaymentMethod as ReadMethod
from whatsapp_ai.finance.service import Category, PaymentMethod


def test_every_category_read_can_be_recorded() -> None:
    assert {c.value for c in ReadCategory} <= {c.value for c in Category}
    assert set(get_args(CategoryName)) == {c.value for c in Category}


def test_every_payment_method_read_can_be_recorded() -> None:
    assert {m.value for m in ReadMethod} <= {m.value for m in PaymentMethod}
    assert set(get_args(MethodName)) == {m.value for m in PaymentMethod}
