"""What sales refuses, and why (the messages are for operators and logs, not for customers;
the assistant words its own replies from the attributes)."""

from __future__ import annotations

from collections.abc import Sequence

from whatsapp_ai.core import errors as core


class SalesError(core.DomainError):
    """A sales request that cannot be done."""


class InvalidInputError(SalesError, core.InvalidInputError):
    """A value a product, order or account cannot hold; ``field`` names it."""


class UnknownContactError(SalesError, core.NotFoundError):
    """The contact is not one of the tenant's."""

    def __init__(self, contact_id: str) -> None:
        super().__init__("contact not found")
        self.contact_id = contact_id


class DuplicateProductError(SalesError, core.ConflictError):
    """Another product of the tenant has this name (folded) or SKU; ``field`` says which."""

    def __init__(self, field: str) -> None:
        super().__init__(f"another product has this {field}", field=field)


class ProductNotFoundError(SalesError, core.NotFoundError):
    """No active product of the catalog matches what the customer named."""

    def __init__(self, query: str) -> None:
        super().__init__(f"no product matches {query!r}")
        self.query = query


class AmbiguousProductError(SalesError, core.InvalidInputError):
    """Several products match what the customer named; ``names`` lists them."""

    def __init__(self, query: str, names: Sequence[str]) -> None:
        super().__init__(f"{query!r} matches several products: {', '.join(names)}", field="product")
        self.query = query
        self.names = list(names)


class NotInCartError(SalesError, core.NotFoundError):
    """The product is not in the contact's cart."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not in the cart")
        self.name = name


class OutOfStockError(SalesError, core.ConflictError):
    """Not enough of a product in stock (``available`` may be 0); or it is no longer sold."""

    def __init__(self, name: str, available: int) -> None:
        super().__init__(f"{name}: only {available} available")
        self.name = name
        self.available = available


class CurrencyMismatchError(SalesError, core.ConflictError):
    """An order is paid in one currency; the product is priced in another."""

    def __init__(self, name: str, currency: str, order_currency: str) -> None:
        super().__init__(f"{name} is priced in {currency}, the order is in {order_currency}")
        self.name = name
        self.currency = currency
        self.order_currency = order_currency


class EmptyCartError(SalesError, core.ConflictError):
    """There is nothing to check out."""

    def __init__(self, message: str = "the cart is empty") -> None:
        super().__init__(message)


class CartChangedError(SalesError, core.ConflictError):
    """The cart changed while its payment link was being created; check out again."""

    def __init__(self, message: str = "the cart changed during checkout; check out again") -> None:
        super().__init__(message)


class InvalidTransitionError(SalesError, core.ConflictError):
    """The order's status does not allow this change."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"an order that is {current} cannot become {wanted}")
        self.current = current
        self.wanted = wanted


class PaymentLinkError(SalesError):
    """The payment provider did not create the link (its message, never the key).

    502 ``payment_provider_error``: the request and the order were fine, the provider upstream
    failed or refused (a revoked key, an outage), so the fault is a bad gateway's, not a clash
    with the record's state (409) that the caller could resolve; the same call may succeed
    later. Checkout itself never lets it out: the order then waits for an operator.
    """

    status = 502
    code = "payment_provider_error"
