"""Orders after checkout: listing them, and the operators' changes (paid, cancelled)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.paging import DEFAULT_LIMIT, Slice, by, paginate
from whatsapp_ai.sales.cart import Line, cart_of
from whatsapp_ai.sales.errors import InvalidTransitionError
from whatsapp_ai.sales.models import Order, OrderItem, Product
from whatsapp_ai.sales.values import Status

# Where an order may go from where it is (operators mark payments taken outside Stripe too).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.CART.value: frozenset({Status.CANCELLED.value}),
    Status.AWAITING_PAYMENT.value: frozenset({Status.PAID.value, Status.CANCELLED.value}),
    Status.AWAITING_OPERATOR.value: frozenset({Status.PAID.value, Status.CANCELLED.value}),
    Status.PAID.value: frozenset(),
    Status.CANCELLED.value: frozenset(),
}


async def get_order(session: AsyncSession, *, tenant_id: str, order_id: str) -> Order | None:
    """An order of the tenant by id."""
    return await session.scalar(
        select(Order).where(Order.tenant_id == tenant_id, Order.id == order_id)
    )


async def list_orders(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str | None = None,
    status: Status | str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Slice[Order]:
    """A page of the tenant's orders in the order created, by contact and status."""
    query = select(Order).where(Order.tenant_id == tenant_id)
    if contact_id is not None:
        query = query.where(Order.contact_id == contact_id)
    if status is not None:
        query = query.where(Order.status == Status(status).value)
    return await paginate(
        session, query, order=by(Order.created_at, Order.id), cursor=cursor, limit=limit
    )


async def items_of(
    session: AsyncSession, *, tenant_id: str, order_ids: Sequence[str]
) -> dict[str, list[OrderItem]]:
    """The lines of several orders at once, by order id (in the order added)."""
    found: dict[str, list[OrderItem]] = {order_id: [] for order_id in order_ids}
    if not order_ids:
        return found
    rows = await session.scalars(
        select(OrderItem)
        .where(OrderItem.tenant_id == tenant_id, OrderItem.order_id.in_(list(order_ids)))
        .order_by(OrderItem.created_at, OrderItem.id)
    )
    for item in rows:
        found[item.order_id].append(item)
    return found


async def _release(session: AsyncSession, *, tenant_id: str, lines: Sequence[Line]) -> None:
    """Give a checked-out order's lines back to stock (uncounted stock stays uncounted)."""
    for line in lines:
        if line.product_id is not None:
            await session.execute(
                update(Product)
                .where(
                    Product.tenant_id == tenant_id,
                    Product.id == line.product_id,
                    Product.stock.is_not(None),
                )
                .values(stock=Product.stock + line.quantity)
                .execution_options(synchronize_session="fetch")
            )


async def set_status(
    session: AsyncSession,
    *,
    tenant_id: str,
    order_id: str,
    status: Status | str,
    now: datetime,
) -> Order | None:
    """Mark an order paid or cancelled (a cancelled checkout gives its stock back); None when
    not the tenant's."""
    wanted = Status(status).value
    order = await get_order(session, tenant_id=tenant_id, order_id=order_id)
    if order is None:
        return None
    if order.status == wanted:
        return order
    if wanted not in TRANSITIONS[order.status]:
        raise InvalidTransitionError(order.status, wanted)
    if wanted == Status.CANCELLED.value and order.status != Status.CART.value:
        cart = await cart_of(session, order)
        await _release(session, tenant_id=tenant_id, lines=cart.lines)
    order.status = wanted
    order.updated_at = now
    await session.flush()
    return order


async def cancel_open_order(
    session: AsyncSession, *, tenant_id: str, contact_id: str, now: datetime
) -> Order | None:
    """Cancel the contact's newest order not yet paid (its stock goes back); None when none."""
    open_states = [s.value for s in Status if TRANSITIONS[s.value] and s != Status.PAID]
    order = await session.scalar(
        select(Order)
        .where(
            Order.tenant_id == tenant_id,
            Order.contact_id == contact_id,
            Order.status.in_(open_states),
        )
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(1)
    )
    if order is None:
        return None
    return await set_status(
        session, tenant_id=tenant_id, order_id=order.id, status=Status.CANCELLED, now=now
    )
