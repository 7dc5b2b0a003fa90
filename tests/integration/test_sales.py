"""Sales: the catalog, carts built in chat, checkout with a payment link on the tenant's own
Stripe account (the official SDK against a fake Stripe on 127.0.0.1), leads, and the sales
agent end to end with the offline model."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import as_app_role, auth, make_settings
from tests.desk_support import sign_in
from tests.fakes.stripe import FakeStripe
from whatsapp_ai.ai.agents import sales as sales_agent
from whatsapp_ai.ai.agents.context import Moment
from whatsapp_ai.ai.agents.engine import Agent, AssistantEngine, offline_model
from whatsapp_ai.ai.router import IntentRouter
from whatsapp_ai.ai.service import HistoryItem, TurnInput
from whatsapp_ai.bootstrap import Container, assistant, bootstrap
from whatsapp_ai.core.config import StripeSettings
from whatsapp_ai.core.db import tenant_scope
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.identity import service as identity
from whatsapp_ai.sales import service as sales
from whatsapp_ai.sales.errors import (
    AmbiguousProductError,
    CartChangedError,
    CurrencyMismatchError,
    DuplicateProductError,
    EmptyCartError,
    InvalidInputError,
    InvalidTransitionError,
    NotInCartError,
    OutOfStockError,
    PaymentLinkError,
    ProductNotFoundError,
    UnknownContactError,
)
from whatsapp_ai.sales.models import Lead, Order, OrderItem, OrderWrite, Product, StripeAccount

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
KEY = "sk_test_51HxTenantOwnKey0a1B2c3D4e5F6g7H8"
OTHER_KEY = "sk_test_51HxSomeoneElse9z8Y7x6W5v4U3t2S1"


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def stripe_server() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def fake(stripe_server: FakeStripe) -> FakeStripe:
    stripe_server.reset()
    return stripe_server


@pytest.fixture
def stripe(fake: FakeStripe) -> StripeSettings:
    return StripeSettings(api_base=fake.url, max_network_retries=0, request_timeout_s=5)


@pytest.fixture
def payments(container: Container, stripe: StripeSettings) -> sales.Payments:
    return sales.Payments(container.box, stripe)


@pytest.fixture(scope="module")
def router() -> IntentRouter:
    built = IntentRouter()
    built.warm()
    return built


async def _contact(container: Container, tenant_id: str, address: str, name: str = "Ana") -> str:
    async with container.db.transaction() as session:
        contact = await identity.get_or_create_contact(
            session, tenant_id=tenant_id, address=address, profile_name=name, now=NOW
        )
        return contact.id


async def _tenant(container: Container, name: str = "Outra Loja") -> tuple[str, str]:
    async with container.db.transaction() as session:
        created = await identity.create_tenant(
            session, name=name, slug=f"t-{new_id().lower()[-10:]}", now=NOW
        )
        _key, secret = await identity.create_api_key(
            session, tenant_id=created.id, name="b", now=NOW
        )
    return created.id, secret


async def _product(
    container: Container, tenant_id: str, name: str, price: str, **values: Any
) -> str:
    async with container.db.transaction() as session:
        product = await sales.create_product(
            session, tenant_id=tenant_id, name=name, price=price, now=NOW, **values
        )
        return product.id


async def _catalog(container: Container, tenant_id: str) -> dict[str, str]:
    items: list[tuple[str, str, dict[str, Any]]] = [
        ("Camiseta Preta", "59.90", {"stock": 10, "description": "Algodão, tamanhos P a GG"}),
        ("Camiseta Branca", "59.90", {"stock": 3}),
        ("Boné Azul", "39.00", {}),
        ("Caneca Térmica", "0.10", {"description": "Mantém o café quente"}),
        ("Black Hoodie", "120.00", {"description": "Moletom com capuz"}),
        ("Tênis Corrida", "299.99", {"active": False}),
    ]
    return {
        name: await _product(container, tenant_id, name, price, **v) for name, price, v in items
    }


async def _add(
    container: Container, tenant_id: str, contact_id: str, name: str, quantity: int = 1, **kw: Any
) -> sales.CartChange:
    async with container.db.transaction() as session:
        return await sales.add_to_cart(
            session,
            tenant_id=tenant_id,
            contact_id=contact_id,
            name=name,
            quantity=quantity,
            now=NOW,
            **kw,
        )


async def _connect_stripe(container: Container, tenant_id: str, key: str = KEY) -> None:
    async with container.db.transaction() as session:
        await sales.set_stripe_account(
            session, container.box, tenant_id=tenant_id, secret_key=key, now=NOW
        )


async def _count(container: Container, model: Any, *where: Any) -> int:
    async with container.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _stock(container: Container, product_id: str) -> int | None:
    async with container.db.read() as session:
        return await session.scalar(select(Product.stock).where(Product.id == product_id))


# --- catalog ----------------------------------------------------------------------------------


async def test_catalog_create_change_and_remove(
    container: Container, tenant: dict[str, str]
) -> None:
    async with container.db.transaction() as session:
        product = await sales.create_product(
            session,
            tenant_id=tenant["id"],
            name="  Camiseta   Preta ",
            price=" 59.9 ",
            currency="brl",
            stock=10,
            sku="CAM-P",
            description="Algodão",
            now=NOW,
        )
    assert (product.name, product.name_key, product.price, product.currency) == (
        "Camiseta Preta",
        "camiseta preta",
        Decimal("59.90"),
        "BRL",
    )
    async with container.db.transaction() as session:
        changed = await sales.update_product(
            session,
            tenant_id=tenant["id"],
            product_id=product.id,
            changes={"name": "Camiseta Preta Lisa", "price": "49.90", "stock": None},
            now=NOW,
        )
        assert changed is not None
        assert (changed.name_key, changed.price, changed.stock) == (
            "camiseta preta lisa",
            Decimal("49.90"),
            None,
        )
        with pytest.raises(InvalidInputError) as raised:
            await sales.update_product(
                session,
                tenant_id=tenant["id"],
                product_id=product.id,
                changes={"tenant_id": "x"},
                now=NOW,
            )
        assert raised.value.field == "tenant_id"
    other, _ = await _tenant(container)
    async with container.db.transaction() as session:
        assert await sales.get_product(session, tenant_id=other, product_id=product.id) is None
        assert await sales.delete_product(session, tenant_id=other, product_id=product.id) is None
        gone = await sales.delete_product(session, tenant_id=tenant["id"], product_id=product.id)
        assert gone is not None
    assert await _count(container, Product) == 0


async def test_catalog_refuses_what_a_product_cannot_hold(
    container: Container, tenant: dict[str, str]
) -> None:
    await _product(container, tenant["id"], "Boné Azul", "39.00", sku="BONE-1")
    bad: list[tuple[dict[str, Any], str]] = [
        ({"price": 0.1}, "price"),  # floats have lost the cents already
        ({"price": "0"}, "price"),
        ({"price": "-1"}, "price"),
        ({"price": "1.234"}, "price"),
        ({"price": "NaN"}, "price"),
        ({"price": "10000000000.00"}, "price"),
        ({"price": "10.50", "currency": "JPY"}, "price"),  # yen have no cents
        ({"currency": "XYZ"}, "currency"),
        ({"name": "   "}, "name"),
        ({"name": "!!!"}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"stock": -1}, "stock"),
        ({"sku": "s" * 65}, "sku"),
        ({"description": "d" * 2001}, "description"),
    ]
    for change, field in bad:
        values: dict[str, Any] = {"name": "Caneca", "price": "10.00", **change}
        async with container.db.transaction() as session:
            with pytest.raises(InvalidInputError) as raised:
                await sales.create_product(session, tenant_id=tenant["id"], now=NOW, **values)
        assert raised.value.field == field, change
    # The same name, accents and case aside, or the same SKU: another product cannot have it.
    duplicates: list[tuple[dict[str, Any], str]] = [
        ({"name": "BONE azul"}, "name"),
        ({"name": "Boné", "sku": "BONE-1"}, "sku"),
    ]
    for values, field in duplicates:
        async with container.db.transaction() as session:
            with pytest.raises(DuplicateProductError) as duplicate:
                await sales.create_product(
                    session, tenant_id=tenant["id"], price="1.00", now=NOW, **values
                )
        assert duplicate.value.field == field
    # Another tenant may use both.
    other, _ = await _tenant(container)
    await _product(container, other, "Boné Azul", "10.00", sku="BONE-1")
    assert await _count(container, Product) == 2


async def test_find_products_reads_pt_and_en_accents_case_and_plurals(
    container: Container, tenant: dict[str, str]
) -> None:
    await _catalog(container, tenant["id"])

    async def names(query: str) -> list[str]:
        async with container.db.read() as session:
            found = await sales.find_products(session, tenant_id=tenant["id"], query=query)
        return sorted(product.name for product in found)

    assert await names("quais camisetas vocês têm?") == ["Camiseta Branca", "Camiseta Preta"]
    assert await names("tem camiseta preta?") == ["Camiseta Preta"]
    assert await names("CAMISETAS PRETAS") == ["Camiseta Preta"]
    assert await names("quanto custa o bone?") == ["Boné Azul"]
    assert await names("boneca") == []  # "bone" is not a prefix match of a longer word
    assert await names("what hoodies do you have?") == ["Black Hoodie"]
    assert await names("moletom") == ["Black Hoodie"]  # from the description
    assert await names("algodão") == ["Camiseta Preta"]
    assert await names("tênis") == []  # inactive products are not offered
    everything = await names("me manda o catálogo")
    assert everything == sorted(
        ["Camiseta Preta", "Camiseta Branca", "Boné Azul", "Caneca Térmica", "Black Hoodie"]
    )
    other, _ = await _tenant(container)
    async with container.db.read() as session:
        assert await sales.find_products(session, tenant_id=other, query="camiseta") == []
        with pytest.raises(AmbiguousProductError) as ambiguous:
            await sales.resolve_product(session, tenant_id=tenant["id"], name="camiseta")
        assert sorted(ambiguous.value.names) == ["Camiseta Branca", "Camiseta Preta"]
        with pytest.raises(ProductNotFoundError):
            await sales.resolve_product(session, tenant_id=tenant["id"], name="geladeira")
        mug = await sales.resolve_product(session, tenant_id=tenant["id"], name="canecas")
        assert mug.name == "Caneca Térmica"


# --- carts -------------------------------------------------------------------------------------


async def test_cart_adds_removes_and_totals_exactly(
    container: Container, tenant: dict[str, str]
) -> None:
    catalog = await _catalog(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    first = await _add(container, tenant["id"], ana, "camisetas pretas", 2)
    assert (first.name, first.quantity, first.cart.total) == (
        "Camiseta Preta",
        2,
        Decimal("119.80"),
    )
    await _add(container, tenant["id"], ana, "camiseta preta", 1)
    for _ in range(3):  # 0.10 three times is exactly 0.30
        await _add(container, tenant["id"], ana, "caneca")
    async with container.db.read() as session:
        cart = await sales.view_cart(session, tenant_id=tenant["id"], contact_id=ana)
    assert [(line.name, line.quantity, line.subtotal) for line in cart.lines] == [
        ("Camiseta Preta", 3, Decimal("179.70")),
        ("Caneca Térmica", 3, Decimal("0.30")),
    ]
    assert cart.total == Decimal("180.00")
    assert str(cart.total) == "180.00"

    async with container.db.transaction() as session:
        less = await sales.remove_from_cart(
            session, tenant_id=tenant["id"], contact_id=ana, name="canecas", quantity=2, now=NOW
        )
        assert (less.name, less.quantity, less.cart.total) == (
            "Caneca Térmica",
            1,
            Decimal("179.80"),
        )
        exact = await sales.set_quantity(
            session, tenant_id=tenant["id"], contact_id=ana, name="camiseta", quantity=1, now=NOW
        )
        assert (exact.quantity, exact.cart.total) == (1, Decimal("60.00"))
        gone = await sales.remove_from_cart(
            session,
            tenant_id=tenant["id"],
            contact_id=ana,
            product_id=catalog["Caneca Térmica"],
            now=NOW,
        )
        assert (gone.quantity, gone.cart.total) == (0, Decimal("59.90"))
        with pytest.raises(NotInCartError):
            await sales.remove_from_cart(
                session, tenant_id=tenant["id"], contact_id=ana, name="boné", now=NOW
            )
    # The stored total agrees with the lines.
    async with container.db.read() as session:
        [order] = list(await session.scalars(select(Order)))
    assert (order.status, order.total, order.currency) == ("cart", Decimal("59.90"), "BRL")
    # Nothing to take out of an empty cart.
    bruno = await _contact(container, tenant["id"], "+5511999990002", "Bruno")
    async with container.db.transaction() as session:
        with pytest.raises(EmptyCartError):
            await sales.remove_from_cart(
                session, tenant_id=tenant["id"], contact_id=bruno, name="camiseta", now=NOW
            )
        empty = await sales.view_cart(session, tenant_id=tenant["id"], contact_id=bruno)
    assert (empty.order_id, empty.lines, empty.total) == (None, (), Decimal("0.00"))


async def test_cart_checks_stock_currency_and_what_is_sold(
    container: Container, tenant: dict[str, str]
) -> None:
    catalog = await _catalog(container, tenant["id"])
    await _product(container, tenant["id"], "Gift Card", "25.00", currency="USD")
    ana = await _contact(container, tenant["id"], "+5511999990001")
    with pytest.raises(OutOfStockError) as raised:
        await _add(container, tenant["id"], ana, "camiseta branca", 4)
    assert (raised.value.name, raised.value.available) == ("Camiseta Branca", 3)
    await _add(container, tenant["id"], ana, "camiseta branca", 2)
    with pytest.raises(OutOfStockError):  # 2 in the cart + 2 more > 3
        await _add(container, tenant["id"], ana, "camiseta branca", 2)
    async with container.db.transaction() as session:
        with pytest.raises(OutOfStockError):
            await sales.set_quantity(
                session, tenant_id=tenant["id"], contact_id=ana, name="branca", quantity=4, now=NOW
            )
    with pytest.raises(CurrencyMismatchError):
        await _add(container, tenant["id"], ana, "gift card")
    with pytest.raises(ProductNotFoundError):
        await _add(container, tenant["id"], ana, "tênis corrida")  # inactive
    with pytest.raises(ProductNotFoundError):
        await _add(container, tenant["id"], ana, "", product_id=catalog["Tênis Corrida"])
    with pytest.raises(AmbiguousProductError):
        await _add(container, tenant["id"], ana, "camiseta")
    with pytest.raises(InvalidInputError):
        await _add(container, tenant["id"], ana, "boné", 0)
    with pytest.raises(InvalidInputError):
        await _add(container, tenant["id"], ana, "boné", 1000)
    other, _ = await _tenant(container)
    stranger = await _contact(container, other, "+5511999990009")
    with pytest.raises(UnknownContactError):
        await _add(container, tenant["id"], stranger, "boné")
    with pytest.raises(ProductNotFoundError):  # another tenant's catalog is not this one's
        await _add(container, other, stranger, "boné")
    # The failed attempts left nothing behind but Ana's one cart.
    assert await _count(container, Order) == 1
    assert await _count(container, OrderItem) == 1


async def test_a_retried_turn_changes_the_cart_once(
    container: Container, tenant: dict[str, str]
) -> None:
    await _catalog(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    first = await _add(container, tenant["id"], ana, "camiseta preta", 2, source_key="m1:add:1")
    again = await _add(container, tenant["id"], ana, "camiseta preta", 2, source_key="m1:add:1")
    assert (first.applied, again.applied) == (True, False)
    assert (again.name, again.quantity, again.cart.total) == (
        "Camiseta Preta",
        2,
        Decimal("119.80"),
    )
    async with container.db.transaction() as session:
        for _ in range(2):
            removed = await sales.remove_from_cart(
                session,
                tenant_id=tenant["id"],
                contact_id=ana,
                name="camiseta preta",
                quantity=1,
                source_key="m2:remove:1",
                now=NOW,
            )
        assert removed.quantity == 1
    assert await _count(container, OrderWrite) == 2
    # One open cart per contact, whatever the keys.
    await _add(container, tenant["id"], ana, "boné", source_key="m3:add:1")
    assert await _count(container, Order) == 1


# --- checkout ----------------------------------------------------------------------------------


async def test_checkout_creates_a_stripe_payment_link_on_the_tenants_account(
    container: Container, tenant: dict[str, str], fake: FakeStripe, payments: sales.Payments
) -> None:
    catalog = await _catalog(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    await _connect_stripe(container, tenant["id"])
    await _add(container, tenant["id"], ana, "camisetas pretas", 2)
    await _add(container, tenant["id"], ana, "caneca", 3)
    done = await sales.checkout(
        container.db,
        payments,
        tenant_id=tenant["id"],
        contact_id=ana,
        now=NOW,
        source_key="m9:checkout:1",
        locale="pt-BR",
    )
    order = done.order
    assert order.status == "awaiting_payment"
    assert not done.needs_operator
    assert done.cart.total == Decimal("120.10")
    [request] = fake.requests
    assert request.path == "/v1/checkout/sessions"
    assert request.api_key == KEY  # the tenant's own key, as the bearer
    assert request.idempotency_key is not None
    assert order.id in request.idempotency_key
    params = request.params
    assert params["mode"] == "payment"
    assert params["client_reference_id"] == order.id
    assert params["metadata"] == {"order_id": order.id}
    assert params["locale"] == "pt-BR"
    assert params["line_items"] == [
        {
            "quantity": "2",
            "price_data": {
                "currency": "brl",
                "unit_amount": "5990",
                "product_data": {"name": "Camiseta Preta"},
            },
        },
        {
            "quantity": "3",
            "price_data": {
                "currency": "brl",
                "unit_amount": "10",
                "product_data": {"name": "Caneca Térmica"},
            },
        },
    ]
    [stripe_session] = fake.sessions.values()
    assert stripe_session["amount_total"] == 12010
    assert order.payment_ref == stripe_session["id"]
    assert order.payment_url == stripe_session["url"]
    assert order.total == Decimal("120.10")
    # Stock is taken when the order is closed; products without a count stay uncounted.
    assert await _stock(container, catalog["Camiseta Preta"]) == 8
    assert await _stock(container, catalog["Caneca Térmica"]) is None
    # The key is stored encrypted only.
    async with container.db.read() as session:
        account = await session.scalar(select(StripeAccount))
        assert account is not None
        assert KEY not in account.secret_key
        assert container.box.decrypt(account.secret_key) == KEY
        raw = await session.execute(text("SELECT * FROM sales_stripe_accounts"))
        assert KEY not in str(list(raw))
    # A retried turn gets the same order and asks Stripe nothing more.
    again = await sales.checkout(
        container.db,
        payments,
        tenant_id=tenant["id"],
        contact_id=ana,
        now=NOW,
        source_key="m9:checkout:1",
    )
    assert (again.order.id, again.order.payment_url) == (order.id, order.payment_url)
    assert len(fake.requests) == 1
    # The next purchase starts a new cart.
    async with container.db.read() as session:
        assert await sales.open_cart(session, tenant_id=tenant["id"], contact_id=ana) is None
    with pytest.raises(EmptyCartError):
        await sales.checkout(
            container.db, payments, tenant_id=tenant["id"], contact_id=ana, now=NOW
        )
    await _add(container, tenant["id"], ana, "boné")
    assert await _count(container, Order, Order.contact_id == ana) == 2


async def test_checkout_without_stripe_waits_for_an_operator(
    container: Container, tenant: dict[str, str], fake: FakeStripe, payments: sales.Payments
) -> None:
    catalog = await _catalog(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    await _add(container, tenant["id"], ana, "camiseta branca", 3)
    done = await sales.checkout(
        container.db, payments, tenant_id=tenant["id"], contact_id=ana, now=NOW
    )
    assert done.needs_operator
    assert not done.payment_failed
    assert (done.order.status, done.order.payment_url, done.order.total) == (
        "awaiting_operator",
        None,
        Decimal("179.70"),
    )
    assert fake.requests == []
    assert await _stock(container, catalog["Camiseta Branca"]) == 0
    # The stock is gone now: nobody else can order it.
    bruno = await _contact(container, tenant["id"], "+5511999990002", "Bruno")
    with pytest.raises(OutOfStockError) as raised:
        await _add(container, tenant["id"], bruno, "camiseta branca")
    assert raised.value.available == 0


@pytest.mark.parametrize("status", [401, 500])
async def test_checkout_when_stripe_fails_waits_for_an_operator(
    container: Container,
    tenant: dict[str, str],
    fake: FakeStripe,
    payments: sales.Payments,
    status: int,
) -> None:
    await _catalog(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    await _connect_stripe(container, tenant["id"])
    await _add(container, tenant["id"], ana, "boné", 2)
    fake.fail(status, message=f"Invalid API Key provided: {KEY[:12]}****", times=None)
    done = await sales.checkout(
        container.db, payments, tenant_id=tenant["id"], contact_id=ana, now=NOW
    )
    assert done.payment_failed
    assert done.order.status == "awaiting_operator"
    assert [request.status for request in fake.requests] == [status]


async def test_checkout_refuses_a_cart_that_changed_or_ran_out(
    container: Container,
    tenant: dict[str, str],
    fake: FakeStripe,
    stripe: StripeSettings,
    payments: sales.Payments,
) -> None:
    catalog = await _catalog(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    await _connect_stripe(container, tenant["id"])
    await _add(container, tenant["id"], ana, "boné", 1)
    # Read the cart, ask Stripe, and meanwhile the customer adds something: nothing is closed.
    async with container.db.read() as session:
        plan = await sales.prepare_checkout(
            session, container.box, tenant_id=tenant["id"], contact_id=ana
        )
    assert isinstance(plan, sales.CheckoutPlan)
    assert KEY not in repr(plan)
    link = await sales.create_payment_link(plan, stripe)
    await _add(container, tenant["id"], ana, "caneca", 1)
    async with container.db.transaction() as session:
        with pytest.raises(CartChangedError):
            await sales.complete_checkout(session, plan, link, now=NOW)
    # A product sold out (or taken off the catalog) before checkout: the cart stays open.
    await _add(container, tenant["id"], ana, "camiseta preta", 2)
    async with container.db.transaction() as session:
        await sales.update_product(
            session,
            tenant_id=tenant["id"],
            product_id=catalog["Camiseta Preta"],
            changes={"stock": 1},
            now=NOW,
        )
    with pytest.raises(OutOfStockError):
        await sales.checkout(
            container.db, payments, tenant_id=tenant["id"], contact_id=ana, now=NOW
        )
    async with container.db.read() as session:
        cart = await sales.view_cart(session, tenant_id=tenant["id"], contact_id=ana)
    assert cart.status == "cart"
    assert len(fake.requests) == 1


async def test_operators_mark_orders_paid_or_cancelled(
    container: Container, tenant: dict[str, str], payments: sales.Payments
) -> None:
    catalog = await _catalog(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    await _add(container, tenant["id"], ana, "camiseta preta", 4)
    done = await sales.checkout(
        container.db, payments, tenant_id=tenant["id"], contact_id=ana, now=NOW
    )
    assert await _stock(container, catalog["Camiseta Preta"]) == 6
    async with container.db.transaction() as session:
        cancelled = await sales.set_status(
            session, tenant_id=tenant["id"], order_id=done.order.id, status="cancelled", now=NOW
        )
        assert cancelled is not None
        assert cancelled.status == "cancelled"
    assert await _stock(container, catalog["Camiseta Preta"]) == 10  # given back


# --- leads -----------------------------------------------------------------------------------


async def test_a_lead_is_captured_once_per_contact(
    container: Container, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"], "+5511999990001", "Ana Paula")
    async with container.db.transaction() as session:
        lead, created = await sales.capture_lead(
            session,
            tenant_id=tenant["id"],
            contact_id=ana,
            interest="camisetas pretas",
            source_key="m1:lead:1",
            now=NOW,
        )
        assert created
        again, created = await sales.capture_lead(
            session, tenant_id=tenant["id"], contact_id=ana, interest="bonés", now=NOW
        )
        assert not created
    assert (lead.name, lead.interest) == ("Ana Paula", "camisetas pretas")
    assert again.id == lead.id
    assert again.interest == "camisetas pretas"
    assert await _count(container, Lead) == 1


def test_sales_errors_answer_with_fitting_statuses() -> None:
    statuses = {
        type(error).__name__: (error.status, error.code)
        for error in [
            InvalidInputError("must be positive", field="price"),
            UnknownContactError("c1"),
            ProductNotFoundError("geladeira"),
            NotInCartError("Boné"),
            AmbiguousProductError("camiseta", ["Camiseta Preta", "Camiseta Branca"]),
            DuplicateProductError("sku"),
            OutOfStockError("Boné", 0),
            CurrencyMismatchError("Gift Card", "USD", "BRL"),
            EmptyCartError(),
            CartChangedError(),
            InvalidTransitionError("paid", "cancelled"),
            PaymentLinkError("APIError (HTTP 500)"),
        ]
    }
    assert statuses == {
        "InvalidInputError": (422, "validation_error"),
        "UnknownContactError": (404, "not_found"),
        "ProductNotFoundError": (404, "not_found"),
        "NotInCartError": (404, "not_found"),
        "AmbiguousProductError": (422, "validation_error"),
        "DuplicateProductError": (409, "conflict"),
        "OutOfStockError": (409, "conflict"),
        "CurrencyMismatchError": (409, "conflict"),
        "EmptyCartError": (409, "conflict"),
        "CartChangedError": (409, "conflict"),
        "InvalidTransitionError": (409, "conflict"),
        "PaymentLinkError": (502, "payment_provider_error"),
    }


# --- HTTP --------------------------------------------------------------------------------------


async def test_api_products_crud_and_validation(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    created = await client.post(
        "/sales/products",
        json={"name": "Camiseta Preta", "price": "59.90", "stock": 10, "sku": "CAM-P"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    product = created.json()
    assert (product["price"], product["currency"], product["stock"], product["active"]) == (
        "59.90",
        "BRL",
        10,
        True,
    )
    url = f"/sales/products/{product['id']}"
    assert (await client.get(url, headers=headers)).json() == product
    changed = await client.patch(
        url, json={"price": "49.9", "stock": None, "description": "Lisa"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["price"], changed.json()["stock"]) == ("49.90", None)
    duplicate = await client.post(
        "/sales/products", json={"name": "CAMISETA preta", "price": "1.00"}, headers=headers
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["error"] == {
        "code": "conflict",
        "message": "another product has this name",
    }
    same_sku = await client.post(
        "/sales/products", json={"name": "Outra", "price": "1.00", "sku": "CAM-P"}, headers=headers
    )
    assert same_sku.status_code == 409
    for body, field in [
        ({"name": "X", "price": "0"}, "body.price"),
        ({"name": "X", "price": "1.234"}, "body.price"),
        ({"name": "X", "price": "abc"}, "body.price"),
        ({"name": "X", "price": "1.00", "currency": "XYZ"}, "body.currency"),
        ({"name": "X", "price": "1.50", "currency": "JPY"}, "body.price"),
        ({"name": "", "price": "1.00"}, "body.name"),
        ({"name": "X", "price": "1.00", "stock": -1}, "body.stock"),
        ({"name": "X", "price": "1.00", "tenant_id": "other"}, "body.tenant_id"),
    ]:
        response = await client.post("/sales/products", json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert [f["field"] for f in response.json()["error"]["fields"]] == [field], body
    for index in range(3):
        await client.post(
            "/sales/products", json={"name": f"Caneca {index}", "price": "10.00"}, headers=headers
        )
    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/sales/products", params=params, headers=headers)).json()
        seen += [item["name"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Camiseta Preta", "Caneca 0", "Caneca 1", "Caneca 2"]
    assert pages == 2  # a full last page is not followed by an empty one
    bad = await client.get("/sales/products", params={"cursor": "nope"}, headers=headers)
    assert bad.status_code == 422
    assert [f["field"] for f in bad.json()["error"]["fields"]] == ["query.cursor"]
    removed = await client.delete(url, headers=headers)
    assert (removed.status_code, removed.content) == (204, b"")
    assert (await client.get(url, headers=headers)).status_code == 404


async def test_api_orders_leads_and_stripe_account(
    container: Container,
    client: httpx.AsyncClient,
    tenant: dict[str, str],
    payments: sales.Payments,
) -> None:
    headers = auth(tenant["key"])
    await _catalog(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    assert (await client.get("/sales/stripe-account", headers=headers)).json() == {
        "configured": False,
        "key_last4": None,
        "livemode": None,
        "success_url": None,
        "webhook_path": None,
        "webhook_configured": False,
        "updated_at": None,
    }
    bad = await client.put(
        "/sales/stripe-account", json={"secret_key": "pk_test_notasecretkey123"}, headers=headers
    )
    assert bad.status_code == 422
    assert "pk_test_notasecretkey123" not in bad.text
    put = await client.put(
        "/sales/stripe-account",
        json={"secret_key": KEY, "success_url": "https://loja.example.com/obrigado"},
        headers=headers,
    )
    assert put.status_code == 200, put.text
    assert KEY not in put.text
    shown = (await client.get("/sales/stripe-account", headers=headers)).json()
    assert (shown["configured"], shown["key_last4"], shown["livemode"]) == (True, KEY[-4:], False)
    await _add(container, tenant["id"], ana, "camiseta preta", 2)
    async with container.db.transaction() as session:
        lead, _ = await sales.capture_lead(
            session, tenant_id=tenant["id"], contact_id=ana, interest="camisetas", now=NOW
        )
    done = await sales.checkout(
        container.db, payments, tenant_id=tenant["id"], contact_id=ana, now=NOW
    )
    listed = await client.get(
        "/sales/orders", params={"contact_id": ana, "status": "awaiting_payment"}, headers=headers
    )
    assert listed.status_code == 200, listed.text
    [order] = listed.json()["items"]
    assert order["id"] == done.order.id
    assert (order["total"], order["currency"], order["payment_url"]) == (
        "119.80",
        "BRL",
        done.order.payment_url,
    )
    assert order["items"] == [
        {
            "product_id": order["items"][0]["product_id"],
            "name": "Camiseta Preta",
            "unit_price": "59.90",
            "quantity": 2,
            "subtotal": "119.80",
        }
    ]
    assert (await client.get(f"/sales/orders/{done.order.id}", headers=headers)).json() == order
    assert (await client.get("/sales/orders", params={"status": "cart"}, headers=headers)).json()[
        "items"
    ] == []
    paid = await client.patch(
        f"/sales/orders/{done.order.id}", json={"status": "paid"}, headers=headers
    )
    assert (paid.status_code, paid.json()["status"]) == (200, "paid")
    refused = await client.patch(
        f"/sales/orders/{done.order.id}", json={"status": "cancelled"}, headers=headers
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == "an order that is paid cannot become cancelled"
    leads = (await client.get("/sales/leads", headers=headers)).json()["items"]
    assert [(item["id"], item["interest"]) for item in leads] == [(lead.id, "camisetas")]
    assert (await client.delete("/sales/stripe-account", headers=headers)).status_code == 204
    assert (await client.get("/sales/stripe-account", headers=headers)).json()[
        "configured"
    ] is False


async def test_api_never_shows_or_touches_another_tenants_sales(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str], stripe: StripeSettings
) -> None:
    catalog = await _catalog(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    await _connect_stripe(container, tenant["id"])
    await _add(container, tenant["id"], ana, "camiseta preta", 1)
    async with container.db.transaction() as session:
        await sales.capture_lead(
            session, tenant_id=tenant["id"], contact_id=ana, interest="segredo da Ana", now=NOW
        )
    async with container.db.read() as session:
        [order] = list(await session.scalars(select(Order)))
    _other, attacker_key = await _tenant(container)
    attacker = auth(attacker_key)
    product_url = f"/sales/products/{catalog['Camiseta Preta']}"
    calls = [
        await client.get(product_url, headers=attacker),
        await client.patch(product_url, json={"price": "0.01"}, headers=attacker),
        await client.delete(product_url, headers=attacker),
        await client.get(f"/sales/orders/{order.id}", headers=attacker),
        await client.patch(f"/sales/orders/{order.id}", json={"status": "paid"}, headers=attacker),
    ]
    assert [call.status_code for call in calls] == [404, 404, 404, 404, 404]
    lists = [
        await client.get("/sales/products", headers=attacker),
        await client.get("/sales/orders", params={"contact_id": ana}, headers=attacker),
        await client.get("/sales/leads", params={"contact_id": ana}, headers=attacker),
    ]
    assert [response.json()["items"] for response in lists] == [[], [], []]
    account = await client.get("/sales/stripe-account", headers=attacker)
    assert account.json()["configured"] is False
    for response in [*calls, *lists, account]:
        assert "Camiseta" not in response.text
        assert "segredo da Ana" not in response.text
        assert KEY[-4:] not in response.text
    async with container.db.read() as session:
        kept = await sales.get_product(
            session, tenant_id=tenant["id"], product_id=catalog["Camiseta Preta"]
        )
        assert kept is not None
        assert kept.price == Decimal("59.90")
        assert (
            await sales.get_order(session, tenant_id=tenant["id"], order_id=order.id)
        ) is not None


async def test_api_permissions_read_only_keys_and_roles(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    product_id = await _product(container, tenant["id"], "Caneca", "10.00")
    async with container.db.transaction() as session:
        _k, reader = await identity.create_api_key(
            session, tenant_id=tenant["id"], name="reader", scopes=["sales:read"], now=NOW
        )
        _k, other_scope = await identity.create_api_key(
            session, tenant_id=tenant["id"], name="fin", scopes=["finance:*"], now=NOW
        )
        _k, writer = await identity.create_api_key(
            session, tenant_id=tenant["id"], name="writer", scopes=["sales:*"], now=NOW
        )
    url = f"/sales/products/{product_id}"

    async def statuses(headers: dict[str, str]) -> list[int]:
        return [
            (await client.get("/sales/products", headers=headers)).status_code,
            (await client.get(url, headers=headers)).status_code,
            (await client.get("/sales/orders", headers=headers)).status_code,
            (await client.get("/sales/leads", headers=headers)).status_code,
            (await client.get("/sales/stripe-account", headers=headers)).status_code,
            (
                await client.post(
                    "/sales/products", json={"name": "Nova", "price": "1.00"}, headers=headers
                )
            ).status_code,
            (await client.patch(url, json={"stock": 5}, headers=headers)).status_code,
            (
                await client.put("/sales/stripe-account", json={"secret_key": KEY}, headers=headers)
            ).status_code,
        ]

    assert await statuses(auth(reader)) == [200, 200, 200, 200, 200, 403, 403, 403]
    assert await statuses(auth(other_scope)) == [403] * 8
    operator = await sign_in(container, client, tenant["id"], "Olga Operadora", "operator")
    assert await statuses(operator.headers) == [200, 200, 200, 200, 200, 403, 403, 403]
    member = await sign_in(container, client, tenant["id"], "Mário Membro", "member")
    assert await statuses(member.headers) == [403] * 8
    assert await statuses(auth(writer)) == [200, 200, 200, 200, 200, 201, 200, 200]
    granted = await client.post(
        "/identity/api-keys",
        json={"name": "shop-bot", "scopes": ["sales:read", "sales:write"]},
        headers=auth(tenant["key"]),
    )
    assert granted.status_code == 201, granted.text


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_row_level_security_hides_other_tenants_sales(
    db_url: str, tmp_path: Path, container: Container, tenant: dict[str, str]
) -> None:
    await _catalog(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    await _add(container, tenant["id"], ana, "camiseta preta", 1)
    await _connect_stripe(container, tenant["id"])
    other, _ = await _tenant(container)
    app = bootstrap(make_settings(as_app_role(db_url), tmp_path / "app"))
    try:
        tables = ["sales_products", "sales_orders", "sales_order_items", "sales_stripe_accounts"]
        for scope, expected in ((tenant["id"], [5 + 1, 1, 1, 1]), (other, [0, 0, 0, 0])):
            with tenant_scope(scope):
                async with app.db.read() as session:
                    seen = [
                        await session.scalar(text(f"SELECT count(*) FROM {table}"))
                        for table in tables
                    ]
            assert seen == expected, scope
        with tenant_scope(other), pytest.raises(DBAPIError, match="row-level security"):
            async with app.db.transaction() as session:
                await session.execute(
                    text(
                        "INSERT INTO sales_products (id, tenant_id, name, name_key, search_key,"
                        " price, currency, active, created_at, updated_at) VALUES (:id, :tenant,"
                        " 'x', 'x', 'x', 1, 'BRL', true, now(), now())"
                    ),
                    {"id": new_id(), "tenant": tenant["id"]},
                )
    finally:
        await app.close()


# --- privacy ----------------------------------------------------------------------------------


async def test_export_and_erasure_take_only_that_contacts_sales(
    container: Container,
    client: httpx.AsyncClient,
    tenant: dict[str, str],
    payments: sales.Payments,
) -> None:
    headers = auth(tenant["key"])
    catalog = await _catalog(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001", "Ana")
    bruno = await _contact(container, tenant["id"], "+5511999990002", "Bruno")
    await _add(container, tenant["id"], ana, "camiseta preta", 2, source_key="a1:add:1")
    async with container.db.transaction() as session:
        await sales.capture_lead(
            session, tenant_id=tenant["id"], contact_id=ana, interest="camisetas", now=NOW
        )
    await sales.checkout(container.db, payments, tenant_id=tenant["id"], contact_id=ana, now=NOW)
    await _add(container, tenant["id"], ana, "caneca", 1)
    await _add(container, tenant["id"], bruno, "boné", 1)
    async with container.db.transaction() as session:
        await sales.capture_lead(
            session, tenant_id=tenant["id"], contact_id=bruno, interest="do Bruno", now=NOW
        )

    exported = await client.get(f"/identity/contacts/{ana}/export", headers=headers)
    assert exported.status_code == 200, exported.text
    data = exported.json()["data"]["sales"]
    assert [(o["status"], o["total"]) for o in data["orders"]] == [
        ("awaiting_operator", "119.80"),
        ("cart", "0.10"),
    ]
    assert data["orders"][0]["items"][0] | {"created_at": None} == {
        "product_id": catalog["Camiseta Preta"],
        "name": "Camiseta Preta",
        "quantity": 2,
        "unit_price": "59.90",
        "created_at": None,
    }
    assert [lead["interest"] for lead in data["leads"]] == ["camisetas"]
    assert "do Bruno" not in exported.text

    erased = await client.post(f"/identity/contacts/{ana}/erasure", headers=headers)
    assert erased.status_code == 201, erased.text
    # Two orders, their two lines, one change record and the lead.
    assert erased.json()["removed"]["sales"] == 6
    assert await _count(container, Order, Order.contact_id == ana) == 0
    assert await _count(container, Lead, Lead.contact_id == ana) == 0
    assert await _count(container, OrderWrite) == 0
    assert await _count(container, OrderItem) == 1  # Bruno's
    assert await _count(container, Order, Order.contact_id == bruno) == 1
    assert await _count(container, Product) == 6  # the catalog is the tenant's, not Ana's


# --- the sales agent ---------------------------------------------------------------------------


def _engine(
    container: Container, router: IntentRouter, stripe: StripeSettings | None
) -> AssistantEngine:
    payments = None if stripe is None else sales.Payments(container.box, stripe)
    agents = {
        "sales": Agent(
            sales_agent.AGENT, sales_agent.PROMPT, sales_agent.tools(payments), sales_agent.plan
        )
    }
    return AssistantEngine(
        db=container.db, router=router, model=offline_model(agents), agents=agents
    )


def _turn(
    tenant: dict[str, str], contact_id: str, text: str, message_id: str, **extra: Any
) -> TurnInput:
    return TurnInput(
        tenant_id=tenant["id"],
        tenant_name="Loja Teste",
        contact_id=contact_id,
        contact_name="Ana",
        conversation_id="conv-1",
        text=text,
        message_id=message_id,
        now=NOW,
        contact_timezone="America/Sao_Paulo",
        **extra,
    )


async def test_the_agent_sells_from_question_to_payment_link(
    container: Container,
    tenant: dict[str, str],
    router: IntentRouter,
    fake: FakeStripe,
    stripe: StripeSettings,
) -> None:
    await _catalog(container, tenant["id"])
    await _connect_stripe(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001", "Ana")
    engine = _engine(container, router, stripe)

    asked = await engine.reply(_turn(tenant, ana, "quais camisetas vocês têm?", "s1"))
    assert asked.text == (
        "Temos:\n• Camiseta Branca — R$ 59,90 (só 3 em estoque)\n• Camiseta Preta — R$ 59,90\n"
        "Quer que eu coloque algum no seu pedido?"
    )
    assert asked.trace is not None
    assert asked.trace["clauses"][0]["intent"] == "sales.browse"

    added = await engine.reply(_turn(tenant, ana, "quero 2 camisetas pretas", "s2"))
    assert added.text == (
        "Adicionei 2× Camiseta Preta (R$ 59,90 cada) ao seu pedido. Total do pedido: R$ 119,80."
    )
    again = await engine.reply(_turn(tenant, ana, "quero 2 camisetas pretas", "s2"))
    assert again.text == added.text  # a retried turn adds nothing more

    shown = await engine.reply(_turn(tenant, ana, "o que tem no meu carrinho?", "s3"))
    assert shown.text == (
        "Seu pedido:\n• 2× Camiseta Preta — R$ 119,80\nTotal do pedido: R$ 119,80."
    )

    closed = await engine.reply(_turn(tenant, ana, "fecha o pedido", "s4"))
    [session_id] = fake.sessions
    url = fake.sessions[session_id]["url"]
    assert closed.text == (
        "Pedido fechado!\n• 2× Camiseta Preta — R$ 119,80\nTotal do pedido: R$ 119,80.\n"
        f"Pague por este link: {url}"
    )
    assert closed.handoff is None
    [request] = fake.requests
    assert request.api_key == KEY
    assert request.params["line_items"][0]["price_data"]["unit_amount"] == "5990"
    assert request.params["line_items"][0]["quantity"] == "2"
    assert request.params["locale"] == "pt-BR"
    retried = await engine.reply(_turn(tenant, ana, "fecha o pedido", "s4"))
    assert retried.text == closed.text
    assert len(fake.requests) == 1
    async with container.db.read() as session:
        [order] = list(await session.scalars(select(Order)))
        leads = list(await session.scalars(select(Lead)))
    assert (order.status, order.total, order.payment_url) == (
        "awaiting_payment",
        Decimal("119.80"),
        url,
    )
    assert [(lead.contact_id, lead.interest, lead.name) for lead in leads] == [
        (ana, "camisetas", "Ana")
    ]


async def test_the_agent_without_stripe_hands_the_order_to_a_person(
    container: Container,
    tenant: dict[str, str],
    router: IntentRouter,
    fake: FakeStripe,
) -> None:
    await _catalog(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    engine = _engine(container, router, None)
    await engine.reply(_turn(tenant, ana, "quero duas camisetas pretas", "n1"))
    await engine.reply(_turn(tenant, ana, "adiciona um boné azul", "n2"))
    fewer = await engine.reply(_turn(tenant, ana, "diminui pra 1 camiseta", "n3"))
    assert fewer.text == "Agora são 1× Camiseta Preta no seu pedido. Total do pedido: R$ 98,90."
    closed = await engine.reply(_turn(tenant, ana, "pode finalizar a compra", "n4"))
    assert closed.text == (
        "Pedido anotado!\n• 1× Camiseta Preta — R$ 59,90\n• 1× Boné Azul — R$ 39,00\n"
        "Total do pedido: R$ 98,90.\nUm atendente vai te enviar a forma de pagamento em instantes."
    )
    assert closed.trace is not None
    [checkout] = [t for t in closed.trace["tools"] if t["tool"] == "checkout"]
    assert "awaits an operator" in checkout["result"]
    assert fake.requests == []
    async with container.db.read() as session:
        [order] = list(await session.scalars(select(Order)))
    assert order.status == "awaiting_operator"


async def test_the_agent_answers_what_it_cannot_do_and_speaks_english(
    container: Container, tenant: dict[str, str], router: IntentRouter
) -> None:
    await _catalog(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    engine = _engine(container, router, None)
    missing = await engine.reply(_turn(tenant, ana, "vocês vendem geladeira?", "x1"))
    assert missing.text.startswith("Não encontrei “geladeira”, mas temos:\n• Black Hoodie")
    which = await engine.reply(_turn(tenant, ana, "quero 2 camisetas", "x2"))
    assert which.text == "Qual deles? Camiseta Branca ou Camiseta Preta"
    too_many = await engine.reply(_turn(tenant, ana, "quero 5 camisetas brancas", "x3"))
    assert too_many.text == "Só temos 3 de Camiseta Branca em estoque."
    empty = await engine.reply(_turn(tenant, ana, "fecha o pedido", "x4"))
    assert empty.text == "Seu pedido está vazio. Quer ver o catálogo?"

    history = [HistoryItem(author="user", body="hello, I would like to buy something today")]
    english = await engine.reply(_turn(tenant, ana, "I'll take 2 hoodies", "e1", history=history))
    assert english.text == (
        "Added 2× Black Hoodie (R$ 120.00 each) to your order. Order total: R$ 240.00."
    )


MOMENT = Moment(NOW, "America/Sao_Paulo", "pt")


@pytest.mark.parametrize(
    ("intent", "text", "calls"),
    [
        (
            "sales.browse",
            "quais camisetas vocês têm?",
            [("browse_catalog", {"query": "camisetas"})],
        ),
        ("sales.browse", "me manda o catálogo", [("browse_catalog", {"query": ""})]),
        ("sales.browse", "quanto custa o tênis 42?", [("browse_catalog", {"query": "tênis 42"})]),
        (
            "sales.order_add",
            "quero 2 camisetas pretas",
            [("add_to_order", {"product": "camisetas pretas", "quantity": 2})],
        ),
        (
            "sales.order_add",
            "me vê três canecas",
            [("add_to_order", {"product": "canecas", "quantity": 3})],
        ),
        (
            "sales.order_add",
            "vou querer o tenis 42",
            [("add_to_order", {"product": "tenis 42", "quantity": 1})],
        ),
        (
            "sales.order_add",
            "2x boné azul",
            [("add_to_order", {"product": "boné azul", "quantity": 2})],
        ),
        (
            "sales.order_add",
            "I'll take 2 t-shirts",
            [("add_to_order", {"product": "t-shirts", "quantity": 2})],
        ),
        (
            "sales.order_remove",
            "tira uma das canecas",
            [("remove_from_order", {"product": "canecas", "quantity": 1})],
        ),
        (
            "sales.order_remove",
            "tira o boné do pedido",
            [("remove_from_order", {"product": "boné"})],
        ),
        (
            "sales.order_remove",
            "não quero mais a calça",
            [("remove_from_order", {"product": "calça"})],
        ),
        (
            "sales.order_remove",
            "remove the cap from my order",
            [("remove_from_order", {"product": "cap"})],
        ),
        (
            "sales.order_remove",
            "diminui pra 1 camiseta",
            [("set_order_quantity", {"product": "camiseta", "quantity": 1})],
        ),
        ("sales.order_view", "o que tem no meu carrinho?", [("view_order", {})]),
        ("sales.checkout", "fecha o pedido", [("checkout", {})]),
    ],
)
def test_the_offline_planner_reads_quantities_and_product_words(
    intent: str, text: str, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    assert sales_agent.plan(intent, text, MOMENT).calls == calls


def test_the_offline_planner_asks_which_product() -> None:
    assert sales_agent.plan("sales.order_add", "quero duas", MOMENT).text == (
        "Qual produto você quer?"
    )


async def test_the_assistant_turn_checks_out_through_the_sales_service(
    container: Container,
    tenant: dict[str, str],
    router: IntentRouter,
    fake: FakeStripe,
    stripe: StripeSettings,
    payments: sales.Payments,
) -> None:
    await _catalog(container, tenant["id"])
    await _connect_stripe(container, tenant["id"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    # The assistant as the platform builds it: the sales agent gets the payments from bootstrap.
    engine = assistant(
        container.settings.model_copy(update={"stripe": stripe}), container.db, container.box
    )
    engine.router = router
    await engine.reply(_turn(tenant, ana, "quero 1 boné azul", "c1"))
    closed = await engine.reply(_turn(tenant, ana, "manda o link de pagamento", "c2"))
    # The turn's checkout is the service's: asked with the turn's key, the service answers with
    # the order the turn closed, and Stripe is asked nothing more.
    done = await sales.checkout(
        container.db,
        payments,
        tenant_id=tenant["id"],
        contact_id=ana,
        now=NOW,
        source_key="c2:sales.checkout:1",
    )
    [session_id] = fake.sessions
    url = fake.sessions[session_id]["url"]
    assert (done.order.status, done.order.payment_url, done.order.total) == (
        "awaiting_payment",
        url,
        Decimal("39.00"),
    )
    assert closed.text == (
        "Pedido fechado!\n• 1× Boné Azul — R$ 39,00\nTotal do pedido: R$ 39,00.\n"
        f"Pague por este link: {done.order.payment_url}"
    )
    assert closed.handoff is None
    [request] = fake.requests
    assert (request.api_key, request.params["locale"]) == (KEY, "pt-BR")
    async with container.db.read() as session:
        assert await sales.open_cart(session, tenant_id=tenant["id"], contact_id=ana) is None
        [order] = list(await session.scalars(select(Order)))
    assert order.id == done.order.id
