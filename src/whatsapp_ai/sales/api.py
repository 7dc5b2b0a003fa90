"""Sales REST API (tenant-scoped): the catalog, orders built in chat, leads, and the tenant's
own Stripe account. The tenant always comes from the credential."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.errors import NotFoundError
from whatsapp_ai.core.http import Principal, require, runtime
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Cursor, Limit, Page
from whatsapp_ai.sales import service
from whatsapp_ai.sales.models import Order, OrderItem, Product, StripeAccount
from whatsapp_ai.sales.schemas import (
    LeadOut,
    OrderItemOut,
    OrderOut,
    OrderPatch,
    ProductIn,
    ProductOut,
    ProductPatch,
    StripeAccountIn,
    StripeAccountOut,
)
from whatsapp_ai.sales.service import Status

router = APIRouter(prefix="/sales", tags=["sales"])
Reader = Annotated[Principal, Depends(require("sales:read"))]
Writer = Annotated[Principal, Depends(require("sales:write"))]


# --- products ---------------------------------------------------------------------------------


@router.get("/products", response_model=Page[ProductOut])
async def list_products(
    request: Request,
    caller: Reader,
    active: bool | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ProductOut]:
    """The catalog in the order added, with cursor paging; filter on ``active``."""
    async with runtime(request).db.read() as session:
        found = await service.list_products(
            session, tenant_id=caller.tenant_id, active=active, cursor=cursor, limit=limit
        )
    return Page[ProductOut].of(found, ProductOut.model_validate)


@router.post("/products", response_model=ProductOut, status_code=status.HTTP_201_CREATED)
async def create_product(request: Request, caller: Writer, body: ProductIn) -> ProductOut:
    """Add a product; its name (accents and case aside) and SKU are unique in the catalog."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        product = await service.create_product(
            session,
            tenant_id=caller.tenant_id,
            name=body.name,
            description=body.description,
            price=body.price,
            currency=body.currency,
            stock=body.stock,
            active=body.active,
            sku=body.sku,
            now=rt.clock.now(),
        )
        return ProductOut.model_validate(product)


@router.get("/products/{product_id}", response_model=ProductOut)
async def get_product(request: Request, caller: Reader, product_id: str) -> ProductOut:
    """One product."""
    async with runtime(request).db.read() as session:
        return ProductOut.model_validate(await _product(session, caller, product_id))


@router.patch("/products/{product_id}", response_model=ProductOut)
async def update_product(
    request: Request, caller: Writer, product_id: str, body: ProductPatch
) -> ProductOut:
    """Change some of a product's values; orders already made keep their names and prices."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        product = await service.update_product(
            session,
            tenant_id=caller.tenant_id,
            product_id=product_id,
            changes=body.model_dump(exclude_unset=True),
            now=rt.clock.now(),
        )
        if product is None:
            raise NotFoundError("product not found")
        return ProductOut.model_validate(product)


@router.delete("/products/{product_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_product(request: Request, caller: Writer, product_id: str) -> Response:
    """Remove a product from the catalog (orders keep their lines)."""
    async with runtime(request).db.transaction() as session:
        removed = await service.delete_product(
            session, tenant_id=caller.tenant_id, product_id=product_id
        )
        if removed is None:
            raise NotFoundError("product not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _product(session: AsyncSession, caller: Principal, product_id: str) -> Product:
    found = await service.get_product(session, tenant_id=caller.tenant_id, product_id=product_id)
    if found is None:
        raise NotFoundError("product not found")
    return found


# --- orders -----------------------------------------------------------------------------------


def _order_out(order: Order, items: Sequence[OrderItem]) -> OrderOut:
    return OrderOut(
        id=order.id,
        contact_id=order.contact_id,
        status=Status(order.status),
        currency=order.currency,
        total=order.total,
        payment_url=order.payment_url,
        payment_ref=order.payment_ref,
        refunded_at=order.refunded_at,
        items=[
            OrderItemOut(
                product_id=item.product_id,
                name=item.name,
                unit_price=item.unit_price,
                quantity=item.quantity,
                subtotal=Decimal(item.unit_price) * item.quantity,
            )
            for item in items
        ],
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


async def _lines(
    session: AsyncSession, caller: Principal, orders: Sequence[Order]
) -> dict[str, list[OrderItem]]:
    return await service.items_of(
        session, tenant_id=caller.tenant_id, order_ids=[order.id for order in orders]
    )


@router.get("/orders", response_model=Page[OrderOut])
async def list_orders(
    request: Request,
    caller: Reader,
    contact_id: Annotated[str | None, Query(max_length=64)] = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[OrderOut]:
    """The tenant's orders in the order created, with cursor paging; filter by contact and
    status (``awaiting_operator``: orders a person must send a way to pay for)."""
    async with runtime(request).db.read() as session:
        found = await service.list_orders(
            session,
            tenant_id=caller.tenant_id,
            contact_id=contact_id,
            status=status_,
            cursor=cursor,
            limit=limit,
        )
        items = await _lines(session, caller, found.items)
    return Page[OrderOut].of(found, lambda order: _order_out(order, items[order.id]))


@router.get("/orders/{order_id}", response_model=OrderOut)
async def get_order(request: Request, caller: Reader, order_id: str) -> OrderOut:
    """One order with its lines."""
    async with runtime(request).db.read() as session:
        order = await service.get_order(session, tenant_id=caller.tenant_id, order_id=order_id)
        if order is None:
            raise NotFoundError("order not found")
        items = await _lines(session, caller, [order])
    return _order_out(order, items[order.id])


@router.patch("/orders/{order_id}", response_model=OrderOut)
async def update_order(
    request: Request, caller: Writer, order_id: str, body: OrderPatch
) -> OrderOut:
    """Mark an order paid, or cancel it (a checked-out order gives its stock back)."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        order = await service.set_status(
            session,
            tenant_id=caller.tenant_id,
            order_id=order_id,
            status=body.status,
            now=rt.clock.now(),
        )
        if order is None:
            raise NotFoundError("order not found")
        items = await _lines(session, caller, [order])
    return _order_out(order, items[order.id])


# --- leads ------------------------------------------------------------------------------------


@router.get("/leads", response_model=Page[LeadOut])
async def list_leads(
    request: Request,
    caller: Reader,
    contact_id: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[LeadOut]:
    """Contacts who asked about the catalog, in the order captured, with cursor paging."""
    async with runtime(request).db.read() as session:
        found = await service.list_leads(
            session, tenant_id=caller.tenant_id, contact_id=contact_id, cursor=cursor, limit=limit
        )
    return Page[LeadOut].of(found, LeadOut.model_validate)


# --- the tenant's Stripe account --------------------------------------------------------------


def _account_out(account: StripeAccount | None) -> StripeAccountOut:
    if account is None:
        return StripeAccountOut(configured=False)
    return StripeAccountOut(
        configured=True,
        key_last4=account.key_last4,
        livemode=account.livemode,
        success_url=account.success_url,
        webhook_path=service.webhook_path(account.tenant_id),
        webhook_configured=account.webhook_secret is not None,
        updated_at=account.updated_at,
    )


@router.get("/stripe-account", response_model=StripeAccountOut)
async def get_stripe_account(request: Request, caller: Reader) -> StripeAccountOut:
    """Whether payment links come from the tenant's Stripe account (the key is never shown:
    only its last four characters)."""
    async with runtime(request).db.read() as session:
        account = await service.get_stripe_account(session, tenant_id=caller.tenant_id)
        return _account_out(account)


@router.put("/stripe-account", response_model=StripeAccountOut)
async def put_stripe_account(
    request: Request, caller: Writer, body: StripeAccountIn
) -> StripeAccountOut:
    """Connect the tenant's own Stripe account: checkouts then send a Stripe payment link.
    The key is stored encrypted and never shown again."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        account = await service.set_stripe_account(
            session,
            rt.box,
            tenant_id=caller.tenant_id,
            secret_key=body.secret_key.get_secret_value(),
            success_url=body.success_url,
            now=rt.clock.now(),
        )
        return _account_out(account)


@router.delete("/stripe-account", status_code=status.HTTP_204_NO_CONTENT)
async def delete_stripe_account(request: Request, caller: Writer) -> Response:
    """Disconnect the tenant's Stripe account: checkouts then wait for an operator."""
    async with runtime(request).db.transaction() as session:
        await service.delete_stripe_account(session, tenant_id=caller.tenant_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
