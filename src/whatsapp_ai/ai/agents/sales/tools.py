"""The sales agent's tools: each runs its own short transaction through the sales service,
keyed by the turn so a retried turn changes nothing twice."""

from __future__ import annotations

from typing import Any

from whatsapp_ai.ai.agents.sales import replies
from whatsapp_ai.ai.agents.sales.args import (
    AddArgs,
    BrowseArgs,
    QuantityArgs,
    RemoveArgs,
)
from whatsapp_ai.ai.agents.tools import NoArgs, Tool, ToolFn, ToolOutcome, ToolRuntime
from whatsapp_ai.core.i18n import text
from whatsapp_ai.sales import service as sales
from whatsapp_ai.sales.errors import EmptyCartError, SalesError

AGENT = "sales"
PROMPT = (
    "You are the store's salesperson on WhatsApp. Answer about products, prices and stock only "
    "from the catalog tools, never from memory; build the customer's order with the tools and "
    "close it with checkout when they want to pay. When a product is unclear, ask which one."
)


async def has_catalog(session: Any, *, tenant_id: str) -> bool:
    """Whether the tenant has a product on sale (without one there is no shop to talk of)."""
    page = await sales.list_products(session, tenant_id=tenant_id, active=True, limit=1)
    return bool(page.items)


async def browse_catalog(runtime: ToolRuntime, args: BrowseArgs) -> ToolOutcome:
    ctx = runtime.ctx
    async with runtime.db.transaction() as session:
        found = await sales.find_products(session, tenant_id=ctx.tenant_id, query=args.query)
        fallback = (
            await sales.find_products(session, tenant_id=ctx.tenant_id, query="")
            if not found
            else []
        )
        # Asking about the catalog makes the contact a lead (once; a retry changes nothing).
        await sales.capture_lead(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            interest=args.query.strip() or text(ctx.language, "sales.catalog_interest"),
            source_key=runtime.key("sales.lead"),
            now=ctx.now,
        )
        shown = found or fallback
        said = replies.catalog(ctx.language, args.query, found, shown)
    return ToolOutcome(say=said, data={"products": [product.id for product in found]})


async def add_to_order(runtime: ToolRuntime, args: AddArgs) -> ToolOutcome:
    ctx = runtime.ctx
    try:
        async with runtime.db.transaction() as session:
            change = await sales.add_to_cart(
                session,
                tenant_id=ctx.tenant_id,
                contact_id=ctx.contact_id,
                name=args.product,
                quantity=args.quantity,
                source_key=runtime.key("sales.add"),
                now=ctx.now,
            )
            await sales.capture_lead(
                session,
                tenant_id=ctx.tenant_id,
                contact_id=ctx.contact_id,
                interest=change.name,
                source_key=runtime.key("sales.lead"),
                now=ctx.now,
            )
    except SalesError as exc:
        raise replies.refusal(ctx.language, exc) from None
    return ToolOutcome(
        say=replies.added(ctx.language, change, args.quantity),
        data={"order_id": change.cart.order_id, "total": str(change.cart.total)},
    )


async def _change_line(
    runtime: ToolRuntime, operation: Any, product: str, quantity: Any, label: str
) -> ToolOutcome:
    """Apply a cart change for the contact (idempotent per turn) and say what changed."""
    ctx = runtime.ctx
    try:
        async with runtime.db.transaction() as session:
            change = await operation(
                session,
                tenant_id=ctx.tenant_id,
                contact_id=ctx.contact_id,
                name=product,
                quantity=quantity,
                source_key=runtime.key(label),
                now=ctx.now,
            )
    except SalesError as exc:
        raise replies.refusal(ctx.language, exc) from None
    return ToolOutcome(
        say=replies.changed(ctx.language, change),
        data={"order_id": change.cart.order_id, "total": str(change.cart.total)},
    )


async def remove_from_order(runtime: ToolRuntime, args: RemoveArgs) -> ToolOutcome:
    return await _change_line(
        runtime, sales.remove_from_cart, args.product, args.quantity, "sales.remove"
    )


async def set_order_quantity(runtime: ToolRuntime, args: QuantityArgs) -> ToolOutcome:
    return await _change_line(runtime, sales.set_quantity, args.product, args.quantity, "sales.set")


async def view_order(runtime: ToolRuntime, args: NoArgs) -> ToolOutcome:
    del args
    ctx = runtime.ctx
    async with runtime.db.read() as session:
        cart = await sales.view_cart(session, tenant_id=ctx.tenant_id, contact_id=ctx.contact_id)
    if not cart.lines:
        raise replies.refusal(ctx.language, EmptyCartError())
    return ToolOutcome(
        say=replies.order(ctx.language, cart),
        data={"order_id": cart.order_id, "total": str(cart.total)},
    )


def _checkout(payments: sales.Payments | None) -> ToolFn:
    async def checkout(runtime: ToolRuntime, args: NoArgs) -> ToolOutcome:
        del args
        ctx = runtime.ctx
        try:
            done = await sales.checkout(
                runtime.db,
                payments,
                tenant_id=ctx.tenant_id,
                contact_id=ctx.contact_id,
                now=ctx.now,
                source_key=runtime.key("sales.checkout"),
                locale="pt-BR" if ctx.language == "pt" else "en",
            )
        except SalesError as exc:
            raise replies.refusal(ctx.language, exc) from None
        order = done.order
        data: dict[str, object] = {
            "order_id": order.id,
            "status": order.status,
            "total": str(done.cart.total),
            "payment_url": order.payment_url,
        }
        if not order.payment_url:
            data["handoff"] = f"order {order.id} awaits an operator to arrange payment"
        return ToolOutcome(say=replies.checked_out(ctx.language, done), data=data)

    return checkout


def tools(payments: sales.Payments | None = None) -> list[Tool]:
    """The agent's tools; checkout reaches the tenant's Stripe account with ``payments``
    (without them, orders wait for an operator)."""
    return [
        Tool(
            "browse_catalog",
            AGENT,
            "Search the store's catalog (products, prices, stock) by product words; empty "
            "for the whole catalog.",
            BrowseArgs,
            browse_catalog,
        ),
        Tool(
            "add_to_order",
            AGENT,
            "Add a quantity of a product (named as the customer said it) to their order.",
            AddArgs,
            add_to_order,
        ),
        Tool(
            "remove_from_order",
            AGENT,
            "Take a product out of the customer's order (a quantity of it, or all of it).",
            RemoveArgs,
            remove_from_order,
        ),
        Tool(
            "set_order_quantity",
            AGENT,
            "Change how many of a product the customer's order has.",
            QuantityArgs,
            set_order_quantity,
        ),
        Tool("view_order", AGENT, "Show the customer's order and its total.", NoArgs, view_order),
        Tool(
            "checkout",
            AGENT,
            "Close the customer's order and send the payment link (or pass it to the team).",
            NoArgs,
            _checkout(payments),
        ),
    ]


# Without the platform's payments (bootstrap builds the agent's tools with them): checkouts
# then wait for an operator.
TOOLS = tools()
