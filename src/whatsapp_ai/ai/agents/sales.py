"""The sales agent: answers from the tenant's catalog, builds the customer's order in chat,
keeps them as a lead, and closes the order with a payment link on the tenant's own Stripe
account (without one, the order waits for an operator). Tools write through the sales service;
the offline planner reads quantities and product words, and the tools match those words
against the catalog (the planner has no database)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from whatsapp_ai.ai.agents import say
from whatsapp_ai.ai.agents.context import Moment
from whatsapp_ai.ai.agents.offline_model import Plan
from whatsapp_ai.ai.agents.tools import Tool, ToolError, ToolFn, ToolOutcome, ToolRuntime
from whatsapp_ai.ai.text import plain
from whatsapp_ai.core.config import StripeSettings
from whatsapp_ai.core.crypto import SecretBox
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.sales import service as sales
from whatsapp_ai.sales.errors import (
    AmbiguousProductError,
    CartChangedError,
    CurrencyMismatchError,
    EmptyCartError,
    InvalidInputError,
    NotInCartError,
    OutOfStockError,
    PaymentLinkError,
    ProductNotFoundError,
    SalesError,
)

log = get_logger(__name__)
AGENT = "sales"
PROMPT = (
    "You are the store's salesperson on WhatsApp. Answer about products, prices and stock only "
    "from the catalog tools, never from memory; build the customer's order with the tools and "
    "close it with checkout when they want to pay. When a product is unclear, ask which one."
)
LOW_STOCK = 5
SHOWN = 8


class BrowseArgs(BaseModel):
    """What the customer is looking for."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        default="", max_length=200, description="Product words; empty for the whole catalog."
    )


class AddArgs(BaseModel):
    """A product to put in the order."""

    model_config = ConfigDict(extra="forbid")

    product: str = Field(min_length=1, max_length=200, description="The product, as named.")
    quantity: int = Field(default=1, ge=1, le=sales.MAX_QUANTITY)


class RemoveArgs(BaseModel):
    """A product to take out of the order."""

    model_config = ConfigDict(extra="forbid")

    product: str = Field(min_length=1, max_length=200)
    quantity: int | None = Field(
        default=None, ge=1, le=sales.MAX_QUANTITY, description="How many; empty: all of it."
    )


class QuantityArgs(BaseModel):
    """How many of a product in the order the customer wants now."""

    model_config = ConfigDict(extra="forbid")

    product: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=0, le=sales.MAX_QUANTITY)


class NoArgs(BaseModel):
    """No arguments."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Payments:
    """What checkout needs to reach the tenant's Stripe account: the key ring that opens its
    stored key, and where Stripe's API is."""

    box: SecretBox
    stripe: StripeSettings


_configured: Payments | None = None


def configure(box: SecretBox, stripe: StripeSettings) -> None:
    """Set, once at start-up, how :data:`TOOLS` reach Stripe (bootstrap calls this)."""
    global _configured
    _configured = Payments(box=box, stripe=stripe)


def _pt(runtime: ToolRuntime) -> bool:
    return runtime.ctx.language == "pt"


def _money(runtime: ToolRuntime, amount: Decimal, currency: str) -> str:
    return say.money(amount, currency, runtime.ctx.language)


def _quoted(text: str) -> str:
    return f"“{text.strip()}”"


def _refusal(runtime: ToolRuntime, exc: SalesError) -> ToolError:
    """What to tell the customer when the catalog or the cart says no."""
    pt = _pt(runtime)
    match exc:
        case ProductNotFoundError():
            return ToolError(
                f"Não encontrei {_quoted(exc.query)} no nosso catálogo."
                if pt
                else f"I couldn't find {_quoted(exc.query)} in our catalog."
            )
        case AmbiguousProductError():
            options = _say_list(exc.names[:SHOWN], "ou" if pt else "or")
            return ToolError(f"Qual deles? {options}" if pt else f"Which one? {options}")
        case NotInCartError():
            return ToolError(
                f"{_quoted(exc.name)} não está no seu pedido."
                if pt
                else f"{_quoted(exc.name)} is not in your order."
            )
        case OutOfStockError() if exc.available == 0:
            return ToolError(
                f"{exc.name} está esgotado no momento."
                if pt
                else f"{exc.name} is out of stock right now."
            )
        case OutOfStockError():
            return ToolError(
                f"Só temos {exc.available} de {exc.name} em estoque."
                if pt
                else f"We only have {exc.available} of {exc.name} in stock."
            )
        case CurrencyMismatchError():
            return ToolError(
                f"{exc.name} é vendido em {exc.currency} e seu pedido está em "
                f"{exc.order_currency}: feche este pedido antes de começar outro."
                if pt
                else f"{exc.name} is sold in {exc.currency} and your order is in "
                f"{exc.order_currency}: check this order out before starting another."
            )
        case EmptyCartError():
            return ToolError(
                "Seu pedido está vazio. Quer ver o catálogo?"
                if pt
                else "Your order is empty. Want to see the catalog?"
            )
        case CartChangedError():
            return ToolError(
                "Seu pedido mudou enquanto eu gerava o link. Pode pedir para fechar de novo?"
                if pt
                else "Your order changed while I was making the link. Ask me to check out again?"
            )
        case InvalidInputError() if exc.field == "quantity":
            return ToolError(
                f"Consigo no máximo {sales.MAX_QUANTITY} unidades de um produto por pedido."
                if pt
                else f"I can take at most {sales.MAX_QUANTITY} of one product per order."
            )
    return ToolError(
        "Não consegui mexer no seu pedido agora." if pt else "I couldn't change your order now."
    )


def _say_list(items: Sequence[str], last: str) -> str:
    """ "a, b ou c" / "a, b or c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


class _Product(Protocol):
    name: str
    description: str | None
    price: Decimal
    currency: str
    stock: int | None


def _product_line(runtime: ToolRuntime, product: _Product, detail: bool) -> str:
    pt = _pt(runtime)
    line = f"• {product.name} — {_money(runtime, product.price, product.currency)}"
    if product.stock == 0:
        line += " (esgotado)" if pt else " (sold out)"
    elif product.stock is not None and product.stock <= LOW_STOCK:
        line += f" (só {product.stock} em estoque)" if pt else f" (only {product.stock} left)"
    if detail and product.description:
        line += f"\n  {product.description[:200]}"
    return line


async def browse_catalog(runtime: ToolRuntime, args: BrowseArgs) -> ToolOutcome:
    ctx, pt = runtime.ctx, _pt(runtime)
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
            interest=args.query.strip() or ("catálogo" if pt else "catalog"),
            source_key=runtime.key("sales.lead"),
            now=ctx.now,
        )
        shown = found or fallback
        lines = [_product_line(runtime, product, len(found) == 1) for product in shown[:SHOWN]]
        ids = [product.id for product in found]
    if not shown:
        text = (
            "Ainda não temos produtos no catálogo."
            if pt
            else "There are no products in our catalog yet."
        )
        return ToolOutcome(say=text, data={"products": []})
    if found:
        lead = "Temos:" if pt else "Here is what we have:"
    else:
        missing = _quoted(args.query)
        lead = (
            f"Não encontrei {missing}, mas temos:"
            if pt
            else f"I couldn't find {missing}, but we have:"
        )
    ask = "Quer que eu coloque algum no seu pedido?" if pt else "Shall I add any to your order?"
    return ToolOutcome(say="\n".join([lead, *lines, ask]), data={"products": ids})


def _total_line(runtime: ToolRuntime, cart: sales.Cart) -> str:
    total = _money(runtime, cart.total, cart.currency)
    return f"Total do pedido: {total}." if _pt(runtime) else f"Order total: {total}."


async def add_to_order(runtime: ToolRuntime, args: AddArgs) -> ToolOutcome:
    ctx, pt = runtime.ctx, _pt(runtime)
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
        raise _refusal(runtime, exc) from None
    line = change.cart.line_named(change.name)
    each = _money(runtime, line.unit_price, change.cart.currency) if line else ""
    added = f"{args.quantity}× {change.name}" + (
        f" ({each} {'cada' if pt else 'each'})" if each else ""
    )
    text = f"Adicionei {added} ao seu pedido." if pt else f"Added {added} to your order."
    return ToolOutcome(
        say=f"{text} {_total_line(runtime, change.cart)}",
        data={"order_id": change.cart.order_id, "total": str(change.cart.total)},
    )


def _changed(runtime: ToolRuntime, change: sales.CartChange) -> str:
    pt = _pt(runtime)
    if change.quantity == 0:
        text = (
            f"Tirei {change.name} do seu pedido."
            if pt
            else f"Removed {change.name} from your order."
        )
    else:
        text = (
            f"Agora são {change.quantity}× {change.name} no seu pedido."
            if pt
            else f"Your order now has {change.quantity}× {change.name}."
        )
    if not change.cart.lines:
        return text + (" Seu pedido ficou vazio." if pt else " Your order is empty now.")
    return f"{text} {_total_line(runtime, change.cart)}"


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
        raise _refusal(runtime, exc) from None
    return ToolOutcome(
        say=_changed(runtime, change),
        data={"order_id": change.cart.order_id, "total": str(change.cart.total)},
    )


async def remove_from_order(runtime: ToolRuntime, args: RemoveArgs) -> ToolOutcome:
    return await _change_line(
        runtime, sales.remove_from_cart, args.product, args.quantity, "sales.remove"
    )


async def set_order_quantity(runtime: ToolRuntime, args: QuantityArgs) -> ToolOutcome:
    return await _change_line(runtime, sales.set_quantity, args.product, args.quantity, "sales.set")


def _lines(runtime: ToolRuntime, cart: sales.Cart) -> list[str]:
    return [
        f"• {line.quantity}× {line.name} — {_money(runtime, line.subtotal, cart.currency)}"
        for line in cart.lines
    ]


async def view_order(runtime: ToolRuntime, args: NoArgs) -> ToolOutcome:
    del args
    ctx, pt = runtime.ctx, _pt(runtime)
    async with runtime.db.read() as session:
        cart = await sales.view_cart(session, tenant_id=ctx.tenant_id, contact_id=ctx.contact_id)
    if not cart.lines:
        raise _refusal(runtime, EmptyCartError())
    text = "\n".join(["Seu pedido:" if pt else "Your order:", *_lines(runtime, cart)])
    return ToolOutcome(
        say=f"{text}\n{_total_line(runtime, cart)}",
        data={"order_id": cart.order_id, "total": str(cart.total)},
    )


def _checkout_tool(payments: Payments | None) -> ToolFn:
    async def checkout(runtime: ToolRuntime, args: NoArgs) -> ToolOutcome:
        del args
        ctx, pt = runtime.ctx, _pt(runtime)
        using = payments or _configured
        if using is None:
            log.warning("sales.payments_not_configured", tenant_id=ctx.tenant_id)
        key = runtime.key("sales.checkout")
        try:
            # Read, ask Stripe with no transaction open, then write: no lock waits on Stripe.
            async with runtime.db.read() as session:
                prepared = await sales.prepare_checkout(
                    session,
                    using.box if using else None,
                    tenant_id=ctx.tenant_id,
                    contact_id=ctx.contact_id,
                    source_key=key,
                )
            if isinstance(prepared, sales.Checkout):
                done = prepared
            else:
                link = None
                if prepared.secret_key is not None and using is not None:
                    try:
                        link = await sales.create_payment_link(
                            prepared, using.stripe, locale="pt-BR" if pt else "en"
                        )
                    except PaymentLinkError as exc:
                        log.warning(
                            "sales.payment_link_failed", order_id=prepared.order_id, error=str(exc)
                        )
                async with runtime.db.transaction() as session:
                    done = await sales.complete_checkout(
                        session, prepared, link, now=ctx.now, source_key=key
                    )
        except SalesError as exc:
            raise _refusal(runtime, exc) from None
        return _checked_out(runtime, done)

    return checkout


def _checked_out(runtime: ToolRuntime, done: sales.Checkout) -> ToolOutcome:
    pt, cart, order = _pt(runtime), done.cart, done.order
    summary = "\n".join([*_lines(runtime, cart), _total_line(runtime, cart)])
    data: dict[str, object] = {
        "order_id": order.id,
        "status": order.status,
        "total": str(cart.total),
        "payment_url": order.payment_url,
    }
    if order.payment_url:
        text = (
            f"Pedido fechado!\n{summary}\nPague por este link: {order.payment_url}"
            if pt
            else f"Order placed!\n{summary}\nPay here: {order.payment_url}"
        )
        return ToolOutcome(say=text, data=data)
    data["handoff"] = f"order {order.id} awaits an operator to arrange payment"
    text = (
        f"Pedido anotado!\n{summary}\nUm atendente vai te enviar a forma de pagamento em instantes."
        if pt
        else f"Order noted!\n{summary}\nA member of our team will send you how to pay shortly."
    )
    return ToolOutcome(say=text, data=data)


def tools(payments: Payments | None = None) -> list[Tool]:
    """The agent's tools; checkout reaches Stripe with ``payments``, else with what
    :func:`configure` set (with neither, orders wait for an operator)."""
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
            _checkout_tool(payments),
        ),
    ]


TOOLS = tools()

# --- the offline planner for this agent ------------------------------------------------------

_NUMBERS = {
    "um": 1, "uma": 1, "dois": 2, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5, "seis": 6,
    "sete": 7, "oito": 8, "nove": 9, "dez": 10, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "a": 1, "an": 1,
    "another": 1,
}  # fmt: skip
_WORD = re.compile(r"\w+(?:[-']\w+)*")
_TIMES = re.compile(r"^(\d{1,3})x$")
# "diminui pra 1", "deixa só 2", "change it to 3", "make it 2": the quantity wanted now.
_SET_TO = re.compile(
    r"\b(?:pra|para|so|somente|apenas|to|only|just)\s+(\d{1,3}|"
    + "|".join(sorted(_NUMBERS, key=len, reverse=True))
    + r")\b"
)


@dataclass(frozen=True)
class _Request:
    quantity: int | None
    product: str


def _number(word: str, *, article: bool) -> int | None:
    """The quantity a word says ("2", "2x", "duas", "one"); "a"/"an" only when ``article``."""
    folded = plain(word)
    if (times := _TIMES.match(folded)) is not None:
        return int(times[1])
    if folded.isdigit() and len(folded) <= 3:
        return int(folded)
    if not article and folded in ("a", "an"):
        return None
    return _NUMBERS.get(folded)


def _filler(word: str) -> bool:
    pieces = re.findall(r"[a-z0-9]+", plain(word))
    return all(piece in sales.STOPWORDS for piece in pieces)


def _read(text: str, *, article: bool) -> _Request:
    """The quantity asked for (a number before the product words) and the product words."""
    words = _WORD.findall(text)
    quantity = None
    product: list[str] = []
    for index, word in enumerate(words):
        value = _number(word, article=article)
        # A bare number after the product, or alone at the end, is part of it ("tênis 42").
        size = word.isdigit() and (bool(product) or index + 1 == len(words))
        if value is not None and quantity is None and not product and not size:
            quantity = value
            continue
        if value is not None and not word.isdigit():
            continue  # number words never name a product
        if not _filler(word):
            product.append(word)
    return _Request(quantity, " ".join(product))


def _which(moment: Moment) -> Plan:
    if moment.language == "pt":
        return Plan(text="Qual produto você quer?")
    return Plan(text="Which product would you like?")


def plan(intent: str, text: str, moment: Moment) -> Plan:
    """Tool calls for a sales message, read without a language model."""
    if intent == "sales.checkout":
        return Plan(calls=[("checkout", {})])
    if intent == "sales.order_view":
        return Plan(calls=[("view_order", {})])
    if intent == "sales.order_add":
        asked = _read(text, article=True)
        if not asked.product:
            return _which(moment)
        return Plan(
            calls=[("add_to_order", {"product": asked.product, "quantity": asked.quantity or 1})]
        )
    if intent == "sales.order_remove":
        return _plan_remove(text, moment)
    asked = _read(text, article=False)
    return Plan(calls=[("browse_catalog", {"query": asked.product[:200]})])


def _plan_remove(text: str, moment: Moment) -> Plan:
    folded = plain(text)
    target = _SET_TO.search(folded)
    if target is not None:
        wanted = _number(target[1], article=True)
        rest = _read(folded[: target.start()] + " " + folded[target.end() :], article=False)
        if wanted is not None and rest.product:
            wanted_now = {"product": rest.product, "quantity": wanted}
            return Plan(calls=[("set_order_quantity", wanted_now)])
    asked = _read(text, article=False)
    if not asked.product:
        return _which(moment)
    args: dict[str, object] = {"product": asked.product}
    if asked.quantity is not None:
        args["quantity"] = asked.quantity
    return Plan(calls=[("remove_from_order", args)])
