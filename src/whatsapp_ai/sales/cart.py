"""A contact's cart, built in chat: one open order per contact, changed once per turn.

Order lines keep the product's name and price as they were when added, so a later catalog
change never reprices an order in progress. A change made under a ``source_key`` is recorded,
so a retried turn finds it done and changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.db import insert_ignore
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.money import CENT, DEFAULT_CURRENCY
from whatsapp_ai.sales.catalog import get_product, resolve_product
from whatsapp_ai.sales.errors import (
    CurrencyMismatchError,
    EmptyCartError,
    InvalidInputError,
    NotInCartError,
    OutOfStockError,
    ProductNotFoundError,
)
from whatsapp_ai.sales.matching import pick, terms
from whatsapp_ai.sales.models import Order, OrderItem, OrderWrite, Product
from whatsapp_ai.sales.values import (
    MAX_LINES,
    MAX_QUANTITY,
    NAME_MAX,
    ZERO,
    Status,
    quantity_of,
    require_contact,
    source_key_of,
    total_of,
)


@dataclass(frozen=True)
class Line:
    """One product in an order, as the customer sees it."""

    product_id: str | None
    name: str
    unit_price: Decimal
    quantity: int

    @property
    def subtotal(self) -> Decimal:
        """Unit price times quantity."""
        return (self.unit_price * self.quantity).quantize(CENT)


@dataclass(frozen=True)
class Cart:
    """An order's lines and total (an empty cart has no order yet)."""

    order_id: str | None
    status: str
    currency: str
    lines: tuple[Line, ...] = ()
    payment_url: str | None = None

    @property
    def total(self) -> Decimal:
        """The sum of the lines."""
        return sum((line.subtotal for line in self.lines), ZERO)

    @property
    def count(self) -> int:
        """How many units in all."""
        return sum(line.quantity for line in self.lines)

    def line_named(self, name: str) -> Line | None:
        """The line of the product called ``name``."""
        return next((line for line in self.lines if line.name == name), None)


@dataclass(frozen=True)
class CartChange:
    """A cart after a change: the product's name and how many of it the cart now holds.
    ``applied`` is False when a retried turn found the change done already."""

    cart: Cart
    name: str
    quantity: int
    applied: bool = True


async def order_lines(session: AsyncSession, *, tenant_id: str, order_id: str) -> list[OrderItem]:
    """An order's lines in the order added."""
    return list(
        await session.scalars(
            select(OrderItem)
            .where(OrderItem.tenant_id == tenant_id, OrderItem.order_id == order_id)
            .order_by(OrderItem.created_at, OrderItem.id)
        )
    )


def _cart_of(order: Order, items: Sequence[OrderItem]) -> Cart:
    return Cart(
        order_id=order.id,
        status=order.status,
        currency=order.currency,
        lines=tuple(
            Line(
                product_id=item.product_id,
                name=item.name,
                unit_price=Decimal(item.unit_price).quantize(CENT),
                quantity=item.quantity,
            )
            for item in items
        ),
        payment_url=order.payment_url,
    )


async def cart_of(session: AsyncSession, order: Order) -> Cart:
    """An order's lines and total."""
    return _cart_of(order, await order_lines(session, tenant_id=order.tenant_id, order_id=order.id))


async def open_cart(session: AsyncSession, *, tenant_id: str, contact_id: str) -> Order | None:
    """The contact's open cart, if any."""
    return await session.scalar(
        select(Order).where(
            Order.tenant_id == tenant_id,
            Order.contact_id == contact_id,
            Order.status == Status.CART.value,
        )
    )


async def _open(session: AsyncSession, *, tenant_id: str, contact_id: str, now: datetime) -> Order:
    """The contact's open cart, opened now when there is none."""
    found = await open_cart(session, tenant_id=tenant_id, contact_id=contact_id)
    if found is not None:
        return found
    values = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "status": Status.CART.value,
        "currency": DEFAULT_CURRENCY,
        "total": ZERO,
        "created_at": now,
        "updated_at": now,
    }
    # Two messages of the same contact may open a cart at once: one wins, both use it.
    created = await insert_ignore(
        session,
        Order,
        values,
        conflict=["tenant_id", "contact_id"],
        where=Order.status == Status.CART.value,
    )
    if created is not None:
        return created
    won = await open_cart(session, tenant_id=tenant_id, contact_id=contact_id)
    assert won is not None
    return won


async def view_cart(session: AsyncSession, *, tenant_id: str, contact_id: str) -> Cart:
    """The contact's open cart and its total (empty when there is none)."""
    order = await open_cart(session, tenant_id=tenant_id, contact_id=contact_id)
    if order is None:
        return Cart(order_id=None, status=Status.CART.value, currency=DEFAULT_CURRENCY)
    return await cart_of(session, order)


async def write_done(
    session: AsyncSession, *, tenant_id: str, source_key: str | None
) -> OrderWrite | None:
    """The change already made under ``source_key`` (a retried turn), if any."""
    if source_key is None:
        return None
    return await session.scalar(
        select(OrderWrite).where(
            OrderWrite.tenant_id == tenant_id, OrderWrite.source_key == source_key
        )
    )


async def claim_write(
    session: AsyncSession,
    order: Order,
    *,
    source_key: str | None,
    action: str,
    item: str,
    now: datetime,
) -> bool:
    """Record that ``source_key`` changes ``order``; False when another attempt got there first."""
    if source_key is None:
        return True
    values = {
        "id": new_id(),
        "tenant_id": order.tenant_id,
        "order_id": order.id,
        "source_key": source_key,
        "action": action,
        "item": item[:NAME_MAX],
        "created_at": now,
    }
    claimed = await insert_ignore(session, OrderWrite, values, conflict=["tenant_id", "source_key"])
    return claimed is not None


async def _replayed(
    session: AsyncSession, *, tenant_id: str, source_key: str | None
) -> CartChange | None:
    """The cart as a change already made under ``source_key`` left it (a retried turn)."""
    write = await write_done(session, tenant_id=tenant_id, source_key=source_key)
    if write is None:
        return None
    order = await session.get_one(Order, write.order_id)
    cart = await cart_of(session, order)
    held = sum(line.quantity for line in cart.lines if line.name == write.item)
    return CartChange(cart=cart, name=write.item, quantity=held, applied=False)


async def _replay(session: AsyncSession, *, tenant_id: str, source_key: str | None) -> CartChange:
    """The change another attempt under the same key made while this one ran."""
    done = await _replayed(session, tenant_id=tenant_id, source_key=source_key)
    assert done is not None
    return done


async def _product_for(
    session: AsyncSession, *, tenant_id: str, product_id: str | None, name: str | None
) -> Product:
    if product_id is not None:
        product = await get_product(session, tenant_id=tenant_id, product_id=product_id)
        if product is None or not product.active:
            raise ProductNotFoundError(product_id)
        return product
    if not name:
        raise InvalidInputError("give a product id or name", field="product")
    return await resolve_product(session, tenant_id=tenant_id, name=name)


async def _retotal(session: AsyncSession, order: Order, now: datetime) -> None:
    items = await order_lines(session, tenant_id=order.tenant_id, order_id=order.id)
    order.total = total_of((item.unit_price, item.quantity) for item in items)
    order.updated_at = now
    await session.flush()


async def add_to_cart(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    quantity: int,
    now: datetime,
    product_id: str | None = None,
    name: str | None = None,
    source_key: str | None = None,
) -> CartChange:
    """Put ``quantity`` of a product (by id, or by the name a customer used) in the contact's
    cart, opening one when needed. Checks stock and that the cart stays in one currency."""
    quantity_of(quantity)
    source_key_of(source_key)
    if (done := await _replayed(session, tenant_id=tenant_id, source_key=source_key)) is not None:
        return done
    product = await _product_for(session, tenant_id=tenant_id, product_id=product_id, name=name)
    await require_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    order = await open_cart(session, tenant_id=tenant_id, contact_id=contact_id)
    items = (
        [] if order is None else await order_lines(session, tenant_id=tenant_id, order_id=order.id)
    )
    if order is not None and items and product.currency != order.currency:
        raise CurrencyMismatchError(product.name, product.currency, order.currency)
    line = next((item for item in items if item.product_id == product.id), None)
    if line is None and len(items) >= MAX_LINES:
        raise InvalidInputError(f"an order holds at most {MAX_LINES} products", field="product")
    wanted = quantity + (line.quantity if line else 0)
    if wanted > MAX_QUANTITY:
        raise InvalidInputError(f"at most {MAX_QUANTITY} of one product", field="quantity")
    if product.stock is not None and wanted > product.stock:
        raise OutOfStockError(product.name, product.stock)
    if order is None:
        order = await _open(session, tenant_id=tenant_id, contact_id=contact_id, now=now)
    claimed = await claim_write(
        session, order, source_key=source_key, action="add", item=product.name, now=now
    )
    if not claimed:
        return await _replay(session, tenant_id=tenant_id, source_key=source_key)
    if line is None:
        line = OrderItem(
            id=new_id(),
            tenant_id=tenant_id,
            order_id=order.id,
            product_id=product.id,
            name=product.name,
            unit_price=product.price,
            quantity=wanted,
            created_at=now,
        )
        session.add(line)
    else:
        line.quantity = wanted
    if not items:
        order.currency = product.currency
    await session.flush()
    await _retotal(session, order, now)
    return CartChange(cart=await cart_of(session, order), name=line.name, quantity=wanted)


async def _cart_line(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    product_id: str | None,
    name: str | None,
) -> tuple[Order, OrderItem]:
    order = await open_cart(session, tenant_id=tenant_id, contact_id=contact_id)
    items = (
        [] if order is None else await order_lines(session, tenant_id=tenant_id, order_id=order.id)
    )
    if order is None or not items:
        raise EmptyCartError()
    if product_id is not None:
        found = next((item for item in items if item.product_id == product_id), None)
        if found is None:
            raise NotInCartError(product_id)
        return order, found
    if not name:
        raise InvalidInputError("give a product id or name", field="product")
    try:
        return order, pick(terms(name), name, [(item, item.name) for item in items])
    except ProductNotFoundError:
        raise NotInCartError(name) from None


async def _change_line(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    now: datetime,
    product_id: str | None,
    name: str | None,
    source_key: str | None,
    action: str,
    left: Callable[[OrderItem], Awaitable[int]],
) -> CartChange:
    """Leave ``left(line)`` units of a product the cart has (0 takes it out), once per key."""
    source_key_of(source_key)
    if (done := await _replayed(session, tenant_id=tenant_id, source_key=source_key)) is not None:
        return done
    order, line = await _cart_line(
        session, tenant_id=tenant_id, contact_id=contact_id, product_id=product_id, name=name
    )
    quantity = await left(line)
    claimed = await claim_write(
        session, order, source_key=source_key, action=action, item=line.name, now=now
    )
    if not claimed:
        return await _replay(session, tenant_id=tenant_id, source_key=source_key)
    name_ = line.name
    if quantity == 0:
        await session.delete(line)
    else:
        line.quantity = quantity
    await session.flush()
    await _retotal(session, order, now)
    return CartChange(cart=await cart_of(session, order), name=name_, quantity=quantity)


async def remove_from_cart(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    now: datetime,
    product_id: str | None = None,
    name: str | None = None,
    quantity: int | None = None,
    source_key: str | None = None,
) -> CartChange:
    """Take a product out of the contact's cart: ``quantity`` of it, or all of it."""
    if quantity is not None:
        quantity_of(quantity)

    async def left(line: OrderItem) -> int:
        return 0 if quantity is None else max(line.quantity - quantity, 0)

    return await _change_line(
        session,
        tenant_id=tenant_id,
        contact_id=contact_id,
        now=now,
        product_id=product_id,
        name=name,
        source_key=source_key,
        action="remove",
        left=left,
    )


async def set_quantity(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    quantity: int,
    now: datetime,
    product_id: str | None = None,
    name: str | None = None,
    source_key: str | None = None,
) -> CartChange:
    """Make the cart hold exactly ``quantity`` of a product it has (0 takes it out)."""
    if quantity != 0:
        quantity_of(quantity)

    async def left(line: OrderItem) -> int:
        if line.product_id is not None and quantity > line.quantity:
            product = await get_product(session, tenant_id=tenant_id, product_id=line.product_id)
            if product is None or not product.active:
                raise OutOfStockError(line.name, 0)
            if product.stock is not None and quantity > product.stock:
                raise OutOfStockError(line.name, product.stock)
        return quantity

    return await _change_line(
        session,
        tenant_id=tenant_id,
        contact_id=contact_id,
        now=now,
        product_id=product_id,
        name=name,
        source_key=source_key,
        action="set",
        left=left,
    )
