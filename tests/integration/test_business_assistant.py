"""A business's own assistant end to end: its profile through the settings API (the README's
agent names, every agent switchable, errors naming the agents), a store's customers greeted with
only its agents, a misspelt product ordered all the same, complaints handed to a person, orders
cancelled on request, and a new contact's time zone and currency from their number."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from tests.conftest import auth, drain
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.conversation.models import Conversation, Message
from whatsapp_ai.core.db import tenant_scope
from whatsapp_ai.identity.models import Contact
from whatsapp_ai.sales import service as sales
from whatsapp_ai.sales.models import Order, OrderItem

ANA = "+5511999990001"
FAQ = b"""# Doce Encanto
- Endereco: Rua das Flores, 120
- Pagamento: pix, cartao de credito e debito
- Cancelamento: ate 24h antes da entrega
"""


async def _say(client: httpx.AsyncClient, key: str, text: str, n: int, sender: str = ANA) -> None:
    response = await client.post(
        "/channels/sandbox/messages",
        json={"from": sender, "text": text, "id": f"b-{n}", "profile_name": "Ana"},
        headers=auth(key),
    )
    assert response.status_code == 202, response.text


async def _last_reply(container: Container, tenant_id: str) -> str:
    with tenant_scope(tenant_id):
        async with container.db.read() as session:
            rows = await session.scalars(
                select(Message).where(Message.author == "assistant").order_by(Message.id)
            )
            return list(rows)[-1].body


async def _store(client: httpx.AsyncClient, container: Container, tenant: dict[str, str]) -> None:
    changed = await client.patch(
        "/assistant/settings",
        json={"profile": "store", "assistant_name": "Bia", "description": "Bolos caseiros"},
        headers=auth(tenant["key"]),
    )
    assert changed.status_code == 200, changed.text
    with tenant_scope(tenant["id"]):
        async with container.db.transaction() as session:
            await sales.create_product(
                session,
                tenant_id=tenant["id"],
                name="Bolo de cenoura",
                price="59.90",
                now=container.clock.now(),
            )
    upload = await client.post(
        "/knowledge/documents",
        files={"file": ("faq.md", FAQ, "text/markdown")},
        headers=auth(tenant["key"]),
    )
    assert upload.status_code in (201, 202), upload.text
    await drain(container)


async def test_settings_take_a_profile_and_the_readme_agent_names(
    client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    store = await client.patch(
        "/assistant/settings", json={"profile": "store"}, headers=auth(tenant["key"])
    )
    assert store.status_code == 200, store.text
    assert store.json()["profile"] == "store"
    assert store.json()["enabled_agents"] == ["knowledge", "profile", "sales"]

    custom = await client.patch(
        "/assistant/settings",
        json={"profile": "custom", "enabled_agents": ["crm", "finance"], "assistant_name": "Léo"},
        headers=auth(tenant["key"]),
    )
    assert custom.json()["enabled_agents"] == ["agenda", "finance"]
    assert custom.json()["assistant_name"] == "Léo"
    no_profile = await client.patch(
        "/assistant/settings", json={"enabled_agents": ["agenda"]}, headers=auth(tenant["key"])
    )
    assert no_profile.json()["enabled_agents"] == ["agenda"]

    bad = await client.patch(
        "/assistant/settings",
        json={"enabled_agents": ["astrology", "profile"]},
        headers=auth(tenant["key"]),
    )
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["fields"][0]["field"] == "body.enabled_agents"
    for name in ("finance", "agenda", "knowledge", "sales", "profile", "astrology"):
        assert name in error["message"]
    wrong_profile = await client.patch(
        "/assistant/settings", json={"profile": "bakery"}, headers=auth(tenant["key"])
    )
    assert wrong_profile.status_code == 422


async def test_a_store_greets_with_its_own_agents_and_hands_complaints_to_a_person(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    await _store(client, container, tenant)
    await _say(client, tenant["key"], "oi", 1)
    await drain(container)
    greeting = await _last_reply(container, tenant["id"])
    assert "Bia" in greeting
    assert "Bolos caseiros" in greeting
    assert "produtos" in greeting
    assert "gastos" not in greeting
    assert "lembretes" not in greeting

    await _say(client, tenant["key"], "vcs sao uma piada, paguei e nao recebi nada", 2)
    await drain(container)
    reply = await _last_reply(container, tenant["id"])
    assert "Sinto muito" in reply
    assert "Qual foi o valor" not in reply
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            [thread] = list(await session.scalars(select(Conversation)))
    assert thread.status == "waiting_human"


async def test_a_store_customer_cancels_the_open_order(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    await _store(client, container, tenant)
    await _say(client, tenant["key"], "quero 2 bolos de cenoura", 1)
    await drain(container)
    await _say(client, tenant["key"], "cancela o pedido", 2)
    await drain(container)
    reply = await _last_reply(container, tenant["id"])
    assert "cancelei seu pedido" in reply
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            [order] = list(await session.scalars(select(Order)))
    assert order.status == "cancelled"


async def test_pode_fechar_right_after_the_order_closes_the_order_not_the_chat(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    await _store(client, container, tenant)
    await _say(client, tenant["key"], "quero 2 bolos de cenoura", 1)
    await drain(container)
    await _say(client, tenant["key"], "pode fechar", 2)
    await drain(container)
    reply = await _last_reply(container, tenant["id"])
    assert "Pedido anotado" in reply
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            [order] = list(await session.scalars(select(Order)))
            [thread] = list(await session.scalars(select(Conversation)))
    assert order.status != "open"
    assert thread.status != "closed"


async def test_a_misspelt_product_goes_into_the_order_by_its_closest_spelling(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    await _store(client, container, tenant)
    with tenant_scope(tenant["id"]):
        async with container.db.transaction() as session:
            for name in ("Bolo de chocolate", "Brigadeiro"):
                await sales.create_product(
                    session, tenant_id=tenant["id"], name=name, price="5", now=container.clock.now()
                )
    await _say(client, tenant["key"], "quero 3 brigaderos", 1)
    await drain(container)
    await _say(client, tenant["key"], "e 1 bolo de choclate", 2)
    await drain(container)
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            [order] = list(await session.scalars(select(Order)))
            lines = list(await session.scalars(select(OrderItem)))
    assert {line.order_id for line in lines} == {order.id}
    assert sorted((line.name, line.quantity) for line in lines) == [
        ("Bolo de chocolate", 1),
        ("Brigadeiro", 3),
    ]


async def test_a_new_contact_gets_the_zone_and_currency_of_their_number(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    await _say(client, tenant["key"], "hello", 1, sender="+12125550100")
    await _say(client, tenant["key"], "oi", 2, sender=ANA)
    await drain(container)
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            found = {c.address: c for c in await session.scalars(select(Contact))}
    new_york = found["+12125550100"]
    assert new_york.timezone == "America/New_York"
    assert new_york.preferences["currency"] == "USD"
    assert new_york.language is None  # assumed only: the language they write in still wins
    assert found[ANA].timezone == "America/Sao_Paulo"
    assert found[ANA].preferences["currency"] == "BRL"

    await _say(client, tenant["key"], "moro em Lisboa", 3, sender="+12125550100")
    await drain(container)
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            moved = await session.scalar(select(Contact).where(Contact.address == "+12125550100"))
    assert moved is not None
    assert moved.timezone == "Europe/Lisbon"


async def test_the_profile_agent_can_be_switched_off(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    await _say(client, tenant["key"], "me chama de Aninha", 1)
    await drain(container)
    off = await client.patch(
        "/assistant/settings", json={"enabled_agents": ["knowledge"]}, headers=auth(tenant["key"])
    )
    assert off.json()["enabled_agents"] == ["knowledge"]
    await _say(client, tenant["key"], "me chama de Ana Paula", 2)
    await drain(container)
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            contact = await session.scalar(select(Contact).where(Contact.address == ANA))
    assert contact is not None
    assert contact.display_name == "Aninha"
