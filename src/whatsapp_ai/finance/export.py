"""A contact's right to their data: their entries exported, or erased."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.db import as_dict
from whatsapp_ai.core.privacy import ContactRef, Erased
from whatsapp_ai.finance.models import FinanceEntry


async def export_contact(session: AsyncSession, ref: ContactRef) -> dict[str, Any]:
    """The contact's expenses and income (amounts as text, to keep every cent)."""
    rows = await session.scalars(
        select(FinanceEntry)
        .where(FinanceEntry.tenant_id == ref.tenant_id, FinanceEntry.contact_id == ref.contact_id)
        .order_by(FinanceEntry.id)
    )
    return {
        "entries": [
            {
                **as_dict(
                    row,
                    "id",
                    "kind",
                    "currency",
                    "category",
                    "occurred_at",
                    "occurred_on",
                    "payment_method",
                    "note",
                    "description",
                    "source_key",
                    "created_at",
                    "updated_at",
                ),
                "amount": str(row.amount),
            }
            for row in rows
        ]
    }


async def erase_contact(session: AsyncSession, ref: ContactRef) -> Erased:
    """Delete the contact's expenses and income."""
    result = await session.execute(
        delete(FinanceEntry).where(
            FinanceEntry.tenant_id == ref.tenant_id, FinanceEntry.contact_id == ref.contact_id
        )
    )
    return Erased(rows=int(result.rowcount))  # type: ignore[attr-defined]
