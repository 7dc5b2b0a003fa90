"""Finding a contact's entry by what they call it: its description, category, day or amount."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.text import fold
from whatsapp_ai.core.vocabulary import Category, Kind
from whatsapp_ai.finance.models import FinanceEntry

# How far back a named entry is looked for: people correct what they recorded lately.
RECENT = 60
_WORD = re.compile(r"\w+")


def _words(value: str | None) -> set[str]:
    return set(_WORD.findall(fold(value or "")))


def _named(entry: FinanceEntry, words: Collection[str], categories: Collection[str]) -> bool:
    """Whether a word the person used names the entry (its own words, or its category)."""
    if entry.category in categories:
        return True
    own = _words(entry.description) | _words(entry.note)
    for word in words:
        if word in own:
            return True
        # "farmacia" names "farmácias"; short words only as whole words.
        if len(word) >= 4 and any(
            w.startswith(word) or word.startswith(w) for w in own if len(w) >= 4
        ):
            return True
    return False


async def find_entries(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    words: Collection[str] = (),
    categories: Collection[Category | str] = (),
    amount: Decimal | None = None,
    day: date | None = None,
    kind: Kind | None = None,
    recent: int = RECENT,
) -> list[FinanceEntry]:
    """The contact's recent entries that fit everything given, newest first.

    ``words`` and ``categories`` name an entry together (any of them will do); ``amount``,
    ``day`` and ``kind`` must each match when given.
    """
    query = select(FinanceEntry).where(
        FinanceEntry.tenant_id == tenant_id, FinanceEntry.contact_id == contact_id
    )
    if kind is not None:
        query = query.where(FinanceEntry.kind == kind.value)
    if day is not None:
        query = query.where(FinanceEntry.occurred_on == day)
    rows = (await session.scalars(query.order_by(FinanceEntry.id.desc()).limit(recent))).all()
    folded = {fold(w) for w in words if len(w) >= 3}
    named = {str(getattr(c, "value", c)) for c in categories}
    fitting = [e for e in rows if amount is None or e.amount == amount]
    if not (folded or named):
        return fitting
    # The entry's own words name it better than its category ("a internet" is the internet
    # bill, not the rent that shares its category).
    own = [e for e in fitting if _named(e, folded, ())]
    return own or [e for e in fitting if _named(e, folded, named)]
