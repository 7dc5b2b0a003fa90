"""Order payments on the tenant's own Stripe account, on real SQLite and PostgreSQL, with the
real `stripe` SDK against a fake Stripe on 127.0.0.1 and events signed with the tenant's own
secret: a paid order (the customer told on WhatsApp through the sandbox channel, the operators
by an event), a refund, an expired link, duplicate and out-of-order events, and refused
deliveries that change nothing."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import as_app_role, auth, drain, make_settings
from tests.fakes.stripe import FakeStripe, signature_header
from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.db import system_scope, tenant_scope
from whatsapp_ai.core.events import Event
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.stripe_events import StripeEvent
from whatsapp_ai.identity import service as identity
from whatsapp_ai.sales import service as sales
from whatsapp_ai.sales.models import Order, Product

KEY = "sk_test_51HxTenantOwnKey0a1B2c3D4e5F6g7H8"
WHSEC = "whsec_tenantOwnSecret0123456789"
ANA = "+5511999990001"


@pytest.fixture(scope="module")
def stripe_server() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def fake(stripe_server: FakeStripe) -> FakeStripe:
    stripe_server.reset()
    return stripe_server


@pytest.fixture
async def container(db_url: str, tmp_path: Path, fake: FakeStripe) -> AsyncIterator[Container]:
    """The platform with the fake Stripe; on PostgreSQL as the app role (row-level security)."""
    url = as_app_role(db_url) if db_url.startswith("postgresql") else db_url
    settings = make_settings(
        url,
        tmp_path,
        stripe={"api_base": fake.url, "max_network_retries": 0, "request_timeout_s": 5},
        queue={"max_attempts": 2},
    )
    built = bootstrap(settings)
    yield built
    await built.close()


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def _tenant(
    container: Container, client: httpx.AsyncClient, secret: str = WHSEC
) -> dict[str, str]:
    """A tenant whose Stripe account and webhook secret are set through the API."""
    now = container.clock.now()
    with system_scope():
        async with container.db.transaction() as session:
            created = await identity.create_tenant(
                session, name="Loja Teste", slug=f"t-{new_id().lower()[-10:]}", now=now
            )
            _key, api_key = await identity.create_api_key(
                session, tenant_id=created.id, name="admin", now=now
            )
    headers = auth(api_key)
    response = await client.put("/sales/stripe-account", json={"secret_key": KEY}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["webhook_configured"] is False
    response = await client.put(
        "/sales/stripe-account/webhook", json={"secret": secret}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["webhook_path"] == f"/sales/stripe/webhook/{created.id}"
    account = (await client.get("/sales/stripe-account", headers=headers)).json()
    assert (account["webhook_configured"], account["webhook_path"]) == (
        True,
        f"/sales/stripe/webhook/{created.id}",
    )
    return {"id": created.id, "key": api_key}


async def _order(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str], sender: str = ANA
) -> tuple[Order, str]:
    """The customer wrote on WhatsApp (sandbox) and checked out a cart: the order awaiting
    payment and its product."""
    response = await client.post(
        "/channels/sandbox/messages",
        json={"from": sender, "text": "oi", "id": new_id(), "profile_name": "Ana"},
        headers=auth(tenant["key"]),
    )
    assert response.status_code == 202, response.text
    await drain(container)
    now = container.clock.now()
    with tenant_scope(tenant["id"]):
        async with container.db.transaction() as session:
            contact = await identity.get_or_create_contact(
                session, tenant_id=tenant["id"], address=sender, profile_name="Ana", now=now
            )
            product = await sales.create_product(
                session, tenant_id=tenant["id"], name="Camiseta Preta", price="59.90",
                stock=5, now=now,
            )  # fmt: skip
            await sales.add_to_cart(
                session, tenant_id=tenant["id"], contact_id=contact.id, name="camiseta preta",
                quantity=2, now=now,
            )  # fmt: skip
        done = await sales.checkout(
            container.db,
            sales.Payments(container.box, container.settings.stripe),
            tenant_id=tenant["id"],
            contact_id=contact.id,
            now=now,
        )
    assert done.order.status == "awaiting_payment"
    return done.order, product.id


async def _post(
    client: httpx.AsyncClient,
    tenant_id: str,
    event: dict[str, Any],
    *,
    secret: str = WHSEC,
    at: int | None = None,
    header: str | None = None,
) -> httpx.Response:
    body = json.dumps(event)
    signed = header if header is not None else signature_header(body, secret, at)
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["Stripe-Signature"] = signed
    return await client.post(f"/sales/stripe/webhook/{tenant_id}", content=body, headers=headers)


async def _deliver(
    container: Container, client: httpx.AsyncClient, tenant_id: str, event: dict[str, Any]
) -> list[Event]:
    """Post the event, run its job; the tenant's console events meanwhile."""
    seen: list[Event] = []
    async with container.bus.subscribe(tenant_id) as events:
        response = await _post(client, tenant_id, event)
        assert response.status_code == 200, response.text
        await drain(container)
        await container.lifecycle.flush_events()
        while (got := await events.get(timeout=0.3)) is not None:
            seen.append(got)
    return seen


async def _load(container: Container, tenant_id: str, order_id: str) -> Order:
    with tenant_scope(tenant_id):
        async with container.db.read() as session:
            found = await sales.get_order(session, tenant_id=tenant_id, order_id=order_id)
    assert found is not None
    return found


async def _stock(container: Container, tenant_id: str, product_id: str) -> int | None:
    with tenant_scope(tenant_id):
        async with container.db.read() as session:
            return await session.scalar(select(Product.stock).where(Product.id == product_id))


async def _outbox(client: httpx.AsyncClient, key: str, to: str = ANA) -> list[str]:
    response = await client.get("/channels/sandbox/outbox", params={"to": to}, headers=auth(key))
    return [item["body"] for item in response.json()["items"]]


def _kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events if e.kind.startswith("sales.")]


async def test_a_paid_checkout_marks_the_order_paid_and_tells_the_customer_and_operators(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe
) -> None:
    tenant = await _tenant(container, client)
    order, product = await _order(container, client, tenant)
    assert await _stock(container, tenant["id"], product) == 3
    session = fake.complete_session(str(order.payment_ref))
    completed = fake.event("checkout.session.completed", session)
    seen = await _deliver(container, client, tenant["id"], completed)
    paid = await _load(container, tenant["id"], order.id)
    assert paid.status == "paid"
    assert _kinds(seen) == ["sales.order_paid"]
    told = next(e for e in seen if e.kind == "sales.order_paid")
    assert told.data == {
        "order_id": order.id,
        "contact_id": order.contact_id,
        "status": "paid",
        "total": "119.80",
        "currency": "BRL",
    }
    # The customer is told on WhatsApp, through the outbound path (sandbox channel).
    said = await _outbox(client, tenant["key"])
    assert said[-1] == "Pagamento recebido: R$ 119,80. Obrigado! Seu pedido está confirmado."
    # Read back with the tenant's own key.
    reads = [r for r in fake.requests if r.method == "GET"]
    assert reads
    assert {r.api_key for r in reads} == {KEY}

    # Stripe sends it again (a retry is signed anew, later): acknowledged, applied once, said
    # once.
    again = await _post(client, tenant["id"], completed, at=int(time.time()) + 2)
    assert again.json() == {"received": True, "duplicate": True}
    await drain(container)
    said = await _outbox(client, tenant["key"])
    assert sum(body.startswith("Pagamento recebido") for body in said) == 1

    # A full refund: the order is cancelled and marked refunded; the stock stays out.
    charge = fake.refund(session["charge"])
    seen = await _deliver(container, client, tenant["id"], fake.event("charge.refunded", charge))
    refunded = await _load(container, tenant["id"], order.id)
    assert refunded.status == "cancelled"
    assert refunded.refunded_at is not None
    assert _kinds(seen) == ["sales.order_refunded"]
    said = await _outbox(client, tenant["key"])
    assert said[-1] == "Seu pagamento de R$ 119,80 foi estornado e o pedido foi cancelado."
    assert await _stock(container, tenant["id"], product) == 3
    listed = (await client.get(f"/sales/orders/{order.id}", headers=auth(tenant["key"]))).json()
    assert (listed["status"], listed["refunded_at"] is not None) == ("cancelled", True)


async def test_an_expired_link_cancels_the_order_and_gives_the_stock_back(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe
) -> None:
    tenant = await _tenant(container, client)
    order, product = await _order(container, client, tenant)
    before = await _outbox(client, tenant["key"])
    expired = fake.event("checkout.session.expired", fake.expire_session(str(order.payment_ref)))
    seen = await _deliver(container, client, tenant["id"], expired)
    assert (await _load(container, tenant["id"], order.id)).status == "cancelled"
    assert await _stock(container, tenant["id"], product) == 5
    assert _kinds(seen) == ["sales.order_expired"]
    assert await _outbox(client, tenant["key"]) == before  # nothing said to the customer


async def test_events_out_of_order_end_where_stripe_is(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe
) -> None:
    tenant = await _tenant(container, client)
    order, _product = await _order(container, client, tenant)
    session_id = str(order.payment_ref)
    # Stripe: an "expired" event made while the session was open is delivered after it was
    # paid; the session says complete, so the order is paid, not cancelled.
    stale = fake.event("checkout.session.expired", fake.sessions[session_id])
    session = fake.complete_session(session_id)
    await _deliver(container, client, tenant["id"], stale)
    assert (await _load(container, tenant["id"], order.id)).status == "paid"
    # The refund arrives before a late "completed": the order ends refunded.
    refund = fake.event("charge.refunded", fake.refund(session["charge"]))
    await _deliver(container, client, tenant["id"], refund)
    late = fake.event("checkout.session.completed", session)
    await _deliver(container, client, tenant["id"], late)
    final = await _load(container, tenant["id"], order.id)
    assert (final.status, final.refunded_at is not None) == ("cancelled", True)
    said = await _outbox(client, tenant["key"])
    assert sum(body.startswith("Pagamento recebido") for body in said) == 1


async def test_refused_deliveries_change_nothing(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe
) -> None:
    tenant = await _tenant(container, client)
    other = await _tenant(container, client, secret="whsec_otherTenantSecret98765")
    order, _product = await _order(container, client, tenant)
    event = fake.event("checkout.session.completed", fake.complete_session(str(order.payment_ref)))
    body = json.dumps(event)
    refused = [
        await _post(client, tenant["id"], event, header=""),
        await _post(client, tenant["id"], event, secret="whsec_otherTenantSecret98765"),
        await _post(client, other["id"], event),  # another tenant's endpoint
        await _post(client, tenant["id"], event, at=int(time.time()) - 400),
        await _post(client, "01JUNKNOWNTENANT000000000", event),
        await _post(client, "not-a-tenant", event),
    ]
    for response in refused:
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "bad_webhook"
    header = signature_header(body, WHSEC)
    with system_scope():
        async with container.db.read() as session:
            assert list(await session.scalars(select(StripeEvent))) == []
    assert (await _load(container, tenant["id"], order.id)).status == "awaiting_payment"
    # Accepted once; the same delivery sent again is a replay.
    assert (await _post(client, tenant["id"], event, header=header)).status_code == 200
    assert (await _post(client, tenant["id"], event, header=header)).status_code == 400
    # An event about another order of the tenant's account (not our link) changes nothing.
    foreign = fake.event(
        "checkout.session.completed",
        {"id": "cs_test_elsewhere", "object": "checkout.session", "metadata": {}},
    )
    assert (await _post(client, tenant["id"], foreign)).status_code == 200
    await drain(container)
    with system_scope():
        async with container.db.read() as session:
            stored = await session.get(StripeEvent, (f"sales:{tenant['id']}", foreign["id"]))
    assert stored is not None
    assert stored.outcome == "ignored"
    # Without a secret the endpoint refuses everything.
    assert (
        await client.delete("/sales/stripe-account/webhook", headers=auth(tenant["key"]))
    ).status_code == 204
    late = fake.event("checkout.session.completed", fake.sessions[str(order.payment_ref)])
    assert (await _post(client, tenant["id"], late)).status_code == 400
