"""The contact's sales data, for their data subject rights: export and erasure."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, select
from sqlalchemy import delete as delete_rows
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.db import as_dict
from whatsapp_ai.core.money import CENT
from whatsapp_ai.core.privacy import ContactRef, Erased
from whatsapp_ai.sales.models import Lead, Order, OrderItem, OrderWrite
from whatsapp_ai.sales.orders import items_of


async def export_contact(session: AsyncSession, ref: ContactRef) -> dict[str, Any]:
    """The contact's orders with their lines, and their lead (amounts as text)."""
    orders = list(
        await session.scalars(
            select(Order)
            .where(Order.tenant_id == ref.tenant_id, Order.contact_id == ref.contact_id)
            .order_by(Order.id)
        )
    )
    items = await items_of(
        session, tenant_id=ref.tenant_id, order_ids=[order.id for order in orders]
    )
    exported = [
        {
            **as_dict(
                order,
                "id",
                "status",
                "currency",
                "payment_url",
                "payment_ref",
                "created_at",
                "updated_at",
            ),
            "total": str(Decimal(order.total).quantize(CENT)),
            "items": [
                {
                    **as_dict(item, "product_id", "name", "quantity", "created_at"),
                    "unit_price": str(Decimal(item.unit_price).quantize(CENT)),
                }
                for item in items[order.id]
            ],
        }
        for order in orders
    ]
    leads = await session.scalars(
        select(Lead)
        .where(Lead.tenant_id == ref.tenant_id, Lead.contact_id == ref.contact_id)
        .order_by(Lead.id)
    )
    return {
        "orders": exported,
        "leads": [
            as_dict(lead, "id", "name", "interest", "source_key", "created_at") for lead in leads
        ],
    }


async def erase_contact(session: AsyncSession, ref: ContactRef) -> Erased:
    """Delete the contact's orders (lines and change records with them) and lead."""
    orders = select(Order.id).where(
        Order.tenant_id == ref.tenant_id, Order.contact_id == ref.contact_id
    )
    rows = 0
    for model in (OrderWrite, OrderItem):
        result = await session.execute(
            delete_rows(model).where(model.tenant_id == ref.tenant_id, model.order_id.in_(orders))
        )
        rows += int(cast(CursorResult[Any], result).rowcount)
    for owned in (Order, Lead):
        result = await session.execute(
            delete_rows(owned).where(
                owned.tenant_id == ref.tenant_id, owned.contact_id == ref.contact_id
            )
        )
        rows += int(cast(CursorResult[Any], result).rowcount)
    return Erased(rows=rows)
