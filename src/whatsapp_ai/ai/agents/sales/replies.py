"""What the sales agent says to the customer, in their language (the words are in the
``[sales]`` section of the text catalogue)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from whatsapp_ai.ai.agents import say
from whatsapp_ai.ai.agents.tools import ToolError
from whatsapp_ai.core.i18n import text
from whatsapp_ai.sales import service as sales
from whatsapp_ai.sales.errors import (
    AmbiguousProductError,
    CartChangedError,
    CurrencyMismatchError,
    EmptyCartError,
    InvalidInputError,
    NotInCartError,
    OutOfStockError,
    ProductNotFoundError,
    SalesError,
)

LOW_STOCK = 5
SHOWN = 8


class Shown(Protocol):
    """A product as the catalog shows it."""

    name: str
    description: str | None
    price: Decimal
    currency: str
    stock: int | None


def _money(language: str, amount: Decimal, currency: str) -> str:
    return say.money(amount, currency, language)


def _one_of(language: str, items: Sequence[str]) -> str:
    """ "a, b ou c" / "a, b or c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {text(language, 'sales.list_or')} {items[-1]}"


def refusal(language: str, exc: SalesError) -> ToolError:
    """What to tell the customer when the catalog or the cart says no."""
    match exc:
        case ProductNotFoundError():
            return ToolError(text(language, "sales.not_found", query=exc.query.strip()))
        case AmbiguousProductError():
            options = _one_of(language, exc.names[:SHOWN])
            return ToolError(text(language, "sales.which_one", options=options))
        case NotInCartError():
            return ToolError(text(language, "sales.not_in_order", name=exc.name.strip()))
        case OutOfStockError() if exc.available == 0:
            return ToolError(text(language, "sales.sold_out", name=exc.name))
        case OutOfStockError():
            return ToolError(
                text(language, "sales.only_in_stock", available=exc.available, name=exc.name)
            )
        case CurrencyMismatchError():
            return ToolError(
                text(
                    language,
                    "sales.other_currency",
                    name=exc.name,
                    currency=exc.currency,
                    order_currency=exc.order_currency,
                )
            )
        case EmptyCartError():
            return ToolError(text(language, "sales.empty"))
        case CartChangedError():
            return ToolError(text(language, "sales.changed_meanwhile"))
        case InvalidInputError() if exc.field == "quantity":
            return ToolError(text(language, "sales.too_many", most=sales.MAX_QUANTITY))
    return ToolError(text(language, "sales.not_changed"))


def product_line(language: str, product: Shown, detail: bool) -> str:
    """One product of the catalog: name, price, how much is left, and its description when it
    is the only one shown."""
    line = f"• {product.name} — {_money(language, product.price, product.currency)}"
    if product.stock == 0:
        line += " " + text(language, "sales.sold_out_mark")
    elif product.stock is not None and product.stock <= LOW_STOCK:
        line += " " + text(language, "sales.few_left_mark", stock=product.stock)
    if detail and product.description:
        line += f"\n  {product.description[:200]}"
    return line


def catalog(language: str, query: str, found: Sequence[Shown], shown: Sequence[Shown]) -> str:
    """The products found for ``query`` (or, when none, the ones shown instead)."""
    if not shown:
        return text(language, "sales.no_products")
    if found:
        lead = text(language, "sales.we_have")
    else:
        lead = text(language, "sales.not_found_but", query=query.strip())
    lines = [product_line(language, product, len(found) == 1) for product in shown[:SHOWN]]
    return "\n".join([lead, *lines, text(language, "sales.shall_add")])


def total_line(language: str, cart: sales.Cart) -> str:
    """ "Total do pedido: R$ 119,80." """
    return text(language, "sales.total", total=_money(language, cart.total, cart.currency))


def order_lines(language: str, cart: sales.Cart) -> list[str]:
    """Each line of the order with its subtotal."""
    return [
        f"• {line.quantity}× {line.name} — {_money(language, line.subtotal, cart.currency)}"
        for line in cart.lines
    ]


def added(language: str, change: sales.CartChange, quantity: int) -> str:
    """What was put in the order, and the order's total."""
    line = change.cart.line_named(change.name)
    if line is None:
        said = text(language, "sales.added_unpriced", quantity=quantity, name=change.name)
    else:
        price = _money(language, line.unit_price, change.cart.currency)
        said = text(language, "sales.added", quantity=quantity, name=change.name, price=price)
    return f"{said} {total_line(language, change.cart)}"


def changed(language: str, change: sales.CartChange) -> str:
    """What a removal or a new quantity left in the order."""
    if change.quantity == 0:
        said = text(language, "sales.removed", name=change.name)
    else:
        said = text(language, "sales.now_holds", quantity=change.quantity, name=change.name)
    if not change.cart.lines:
        return f"{said} {text(language, 'sales.now_empty')}"
    return f"{said} {total_line(language, change.cart)}"


def order(language: str, cart: sales.Cart) -> str:
    """The order as it is now, with its total."""
    listed = "\n".join([text(language, "sales.your_order"), *order_lines(language, cart)])
    return f"{listed}\n{total_line(language, cart)}"


def checked_out(language: str, done: sales.Checkout) -> str:
    """The closed order, and the link to pay or the word that a person will send one."""
    summary = "\n".join([*order_lines(language, done.cart), total_line(language, done.cart)])
    if done.order.payment_url:
        return text(language, "sales.placed", summary=summary, url=done.order.payment_url)
    return text(language, "sales.noted", summary=summary)
