"""Sales service, the module's public face: the tenant's catalog, a contact's cart built in
chat, checkout with a payment link on the tenant's own Stripe account, orders, leads, and the
contact's sales data (export, erasure).

Money is ``Decimal`` everywhere. The caller owns the transaction, except in :func:`checkout`,
which runs its own two around the Stripe call so no lock waits on Stripe (the ``checkout``
module says how). The topics live in ``matching``, ``catalog``, ``cart``, ``checkout``,
``orders``, ``leads``, ``accounts`` and ``privacy``, with shared checks in ``values``; other
packages use them through this module.
"""

from __future__ import annotations

from whatsapp_ai.sales.accounts import (
    delete_stripe_account,
    get_stripe_account,
    rotate_secrets,
    set_stripe_account,
)
from whatsapp_ai.sales.cart import (
    Cart,
    CartChange,
    Line,
    add_to_cart,
    cart_of,
    open_cart,
    remove_from_cart,
    set_quantity,
    view_cart,
)
from whatsapp_ai.sales.catalog import (
    EDITABLE,
    create_product,
    delete_product,
    find_products,
    get_product,
    list_products,
    resolve_product,
    update_product,
)
from whatsapp_ai.sales.checkout import (
    Checkout,
    CheckoutPlan,
    PaymentLink,
    Payments,
    checkout,
    complete_checkout,
    create_payment_link,
    minor_units,
    prepare_checkout,
)
from whatsapp_ai.sales.leads import capture_lead, get_lead, list_leads
from whatsapp_ai.sales.matching import STOPWORDS, terms
from whatsapp_ai.sales.orders import (
    TRANSITIONS,
    cancel_open_order,
    get_order,
    items_of,
    list_orders,
    set_status,
)
from whatsapp_ai.sales.payments import EVENT_JOB as PAYMENT_EVENT_JOB
from whatsapp_ai.sales.payments import (
    OrderPayment,
    apply_payment,
    fetch_payment,
    receive_payment_event,
    set_webhook_secret,
    stripe_call,
    webhook_path,
)
from whatsapp_ai.sales.privacy import erase_contact, export_contact
from whatsapp_ai.sales.values import (
    DESCRIPTION_MAX,
    INTEREST_MAX,
    MAX_LINES,
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_STOCK,
    MAX_TOTAL,
    NAME_MAX,
    SKU_MAX,
    SOURCE_KEY_MAX,
    URL_MAX,
    Status,
    price_of,
)

__all__ = [
    "DESCRIPTION_MAX",
    "EDITABLE",
    "INTEREST_MAX",
    "MAX_LINES",
    "MAX_PRICE",
    "MAX_QUANTITY",
    "MAX_STOCK",
    "MAX_TOTAL",
    "NAME_MAX",
    "PAYMENT_EVENT_JOB",
    "SKU_MAX",
    "SOURCE_KEY_MAX",
    "STOPWORDS",
    "TRANSITIONS",
    "URL_MAX",
    "Cart",
    "CartChange",
    "Checkout",
    "CheckoutPlan",
    "Line",
    "OrderPayment",
    "PaymentLink",
    "Payments",
    "Status",
    "add_to_cart",
    "apply_payment",
    "cancel_open_order",
    "capture_lead",
    "cart_of",
    "checkout",
    "complete_checkout",
    "create_payment_link",
    "create_product",
    "delete_product",
    "delete_stripe_account",
    "erase_contact",
    "export_contact",
    "fetch_payment",
    "find_products",
    "get_lead",
    "get_order",
    "get_product",
    "get_stripe_account",
    "items_of",
    "list_leads",
    "list_orders",
    "list_products",
    "minor_units",
    "open_cart",
    "prepare_checkout",
    "price_of",
    "receive_payment_event",
    "remove_from_cart",
    "resolve_product",
    "rotate_secrets",
    "set_quantity",
    "set_status",
    "set_stripe_account",
    "set_webhook_secret",
    "stripe_call",
    "terms",
    "update_product",
    "view_cart",
    "webhook_path",
]
