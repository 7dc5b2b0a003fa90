"""What sales refuses, and why (the messages are for operators and logs, not for customers)."""

from __future__ import annotations

from collections.abc import Sequence


class SalesError(Exception):
    """A sales request that cannot be done."""


class UnknownContactError(SalesError, LookupError):
    """The contact is not one of the tenant's."""


class InvalidInputError(SalesError, ValueError):
    """A value a product, order or account cannot hold; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DuplicateProductError(SalesError):
    """Another product of the tenant has this name (folded) or SKU; ``field`` says which."""

    def __init__(self, field: str) -> None:
        super().__init__(f"another product has this {field}")
        self.field = field


class ProductNotFoundError(SalesError, LookupError):
    """No active product of the catalog matches what the customer named."""

    def __init__(self, query: str) -> None:
        super().__init__(f"no product matches {query!r}")
        self.query = query


class AmbiguousProductError(SalesError):
    """Several products match what the customer named; ``names`` lists them."""

    def __init__(self, query: str, names: Sequence[str]) -> None:
        super().__init__(f"{query!r} matches several products: {', '.join(names)}")
        self.query = query
        self.names = list(names)


class NotInCartError(SalesError, LookupError):
    """The product is not in the contact's cart."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not in the cart")
        self.name = name


class OutOfStockError(SalesError):
    """Not enough of a product in stock (``available`` may be 0); or it is no longer sold."""

    def __init__(self, name: str, available: int) -> None:
        super().__init__(f"{name}: only {available} available")
        self.name = name
        self.available = available


class CurrencyMismatchError(SalesError):
    """An order is paid in one currency; the product is priced in another."""

    def __init__(self, name: str, currency: str, order_currency: str) -> None:
        super().__init__(f"{name} is priced in {currency}, the order is in {order_currency}")
        self.name = name
        self.currency = currency
        self.order_currency = order_currency


class EmptyCartError(SalesError):
    """There is nothing to check out."""


class CartChangedError(SalesError):
    """The cart changed while its payment link was being created; check out again."""


class InvalidTransitionError(SalesError):
    """The order's status does not allow this change."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"an order that is {current} cannot become {wanted}")
        self.current = current
        self.wanted = wanted


class PaymentLinkError(SalesError):
    """The payment provider did not create the link (its message, never the key)."""
