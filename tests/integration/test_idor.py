"""IDOR suite: every route in the OpenAPI document, called with another tenant's credentials
and the first tenant's ids, must answer 401/403/404 or an empty list, never the data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import auth, drain
from tests.fakes.twilio import new_sid
from whatsapp_ai.ai.models import ReplyTrace
from whatsapp_ai.ai.router import get_encoder
from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.channels import service as channels
from whatsapp_ai.channels.models import InboundEvent
from whatsapp_ai.channels.twilio import accounts
from whatsapp_ai.conversation.models import Conversation
from whatsapp_ai.finance import service as finance
from whatsapp_ai.identity import service as identity
from whatsapp_ai.identity.models import Contact
from whatsapp_ai.knowledge import service as knowledge
from whatsapp_ai.relationships import service as crm
from whatsapp_ai.sales import service as sales

# Routes that take no tenant credential: health, webhooks (signed), sign-in.
PUBLIC = {
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/channels/twilio/whatsapp"),
    ("post", "/channels/twilio/status"),
    ("post", "/billing/stripe/webhook"),
    ("post", "/sales/stripe/webhook/{tenant_id}"),
    ("post", "/identity/login"),
    ("post", "/identity/register"),
    ("post", "/identity/logout"),
}
# Tenant-scoped lists and singletons: B's call succeeds but must show none of A's data.
SCOPED_READS = {
    ("get", "/conversations"),
    ("get", "/identity/users"),
    ("get", "/identity/api-keys"),
    ("get", "/identity/contacts"),
    ("get", "/channels/sandbox/outbox"),
    ("get", "/channels/twilio/account"),
    ("get", "/conversation-policy"),
    ("get", "/operators"),
    ("get", "/finance/entries"),
    ("get", "/finance/summary"),
    ("get", "/relationships/people"),
    ("get", "/relationships/interactions"),
    ("get", "/relationships/reminders"),
    ("get", "/relationships/meetings"),
    ("get", "/sales/products"),
    ("get", "/sales/orders"),
    ("get", "/sales/leads"),
    ("get", "/sales/stripe-account"),
    ("get", "/assistant/settings"),
    ("get", "/assistant/traces"),
    ("get", "/assistant/usage"),
    ("get", "/knowledge/documents"),
    ("get", "/knowledge/search"),
    ("get", "/billing/plans"),
    ("get", "/billing/subscription"),
    ("get", "/billing/usage"),
}
# Live streams never end by themselves; their tenant isolation is tested with the stream itself
# (tests/integration/test_conversation_events.py).
STREAMS = {("get", "/conversations/events")}
# Writes that act on the caller's own tenant only: they must not touch A's data.
OWN_WRITES = {
    ("post", "/channels/sandbox/messages"),
    ("post", "/identity/users"),
    ("post", "/identity/api-keys"),
    ("put", "/channels/twilio/account"),
    ("patch", "/conversation-policy"),
    ("post", "/finance/entries"),
    ("post", "/relationships/people"),
    ("post", "/relationships/interactions"),
    ("post", "/relationships/reminders"),
    ("post", "/relationships/meetings"),
    ("patch", "/assistant/settings"),
    ("post", "/knowledge/documents"),
    ("post", "/sales/products"),
    ("put", "/sales/stripe-account"),
    ("delete", "/sales/stripe-account"),
    ("put", "/billing/alert-webhook"),
    ("delete", "/billing/alert-webhook"),
    ("post", "/billing/stripe/checkout"),
    ("post", "/billing/stripe/portal"),
    ("put", "/sales/stripe-account/webhook"),
    ("delete", "/sales/stripe-account/webhook"),
}
PLATFORM_ONLY = {
    ("get", "/identity/tenants"),
    ("get", "/billing/platform/plans"),
    ("post", "/billing/platform/plans"),
    ("patch", "/billing/platform/plans/{code}"),
    ("put", "/billing/platform/tenants/{tenant_id}/plan"),
    ("get", "/billing/platform/usage"),
}
USER = "+5511999990001"


@dataclass
class TenantA:
    """The victim tenant's ids and the strings that must never reach tenant B."""

    ids: dict[str, str]
    secrets: list[str]


async def _seed_victim(container: Container, client: httpx.AsyncClient, key: str) -> TenantA:
    response = await client.post(
        "/channels/sandbox/messages",
        json={"from": USER, "text": "meu pedido é o 4821", "id": "a-1", "profile_name": "Ana A"},
        headers=auth(key),
    )
    assert response.status_code == 202
    await drain(container)
    now = container.clock.now()
    async with container.db.transaction() as session:
        event = await session.scalar(select(InboundEvent))
        contact = await session.scalar(select(Contact))
        thread = await session.scalar(select(Conversation))
        trace = await session.scalar(select(ReplyTrace))
        assert trace is not None
        assert event is not None
        assert contact is not None
        assert thread is not None
        tenant_id = event.tenant_id
        user = await identity.create_user(
            session,
            tenant_id=tenant_id,
            email="ana.admin@example.com",
            name="Ana Admin",
            role="admin",
            password="a long enough password",
            now=now,
        )
        api_key, api_secret = await identity.create_api_key(
            session, tenant_id=tenant_id, name="a-bot", now=now
        )
        await accounts.upsert_account(
            session,
            container.box,
            tenant_id=tenant_id,
            account_sid="AC" + "a" * 32,
            auth_token="tenant-a-token-0123456789",
            whatsapp_number="+14155550100",
            now=now,
        )
        media = await channels.record_media(
            session,
            tenant_id=tenant_id,
            event_id=event.id,
            position=0,
            source_url="https://api.twilio.com/x",
            declared_type="image/jpeg",
            now=now,
        )
        entry, _ = await finance.record(
            session,
            tenant_id=tenant_id,
            contact_id=contact.id,
            kind="expense",
            amount="42.42",
            note="remédio da Ana",
            now=now,
        )
        person, _ = await crm.find_or_create_person(
            session, tenant_id=tenant_id, contact_id=contact.id, name="Joaquim Segredo", now=now
        )
        reminder, _ = await crm.add_reminder(
            session,
            tenant_id=tenant_id,
            contact_id=contact.id,
            text="pagar o exame da Ana",
            due_at=now + timedelta(days=2),
            now=now,
        )
        meeting, _ = await crm.add_meeting(
            session,
            tenant_id=tenant_id,
            contact_id=contact.id,
            title="consulta sigilosa",
            starts_at=now + timedelta(days=3),
            now=now,
        )
        await sales.set_stripe_account(
            session,
            container.box,
            tenant_id=tenant_id,
            secret_key="sk_test_tenantAsecretKey0123456789",
            now=now,
        )
        product = await sales.create_product(
            session, tenant_id=tenant_id, name="Produto Sigiloso da Ana", price="42.42", now=now
        )
        change = await sales.add_to_cart(
            session,
            tenant_id=tenant_id,
            contact_id=contact.id,
            product_id=product.id,
            quantity=2,
            now=now,
        )
        await sales.capture_lead(
            session,
            tenant_id=tenant_id,
            contact_id=contact.id,
            interest="interesse da Ana",
            now=now,
        )
        document, _ = await knowledge.add_document(
            session,
            tenant_id=tenant_id,
            title="Manual sigiloso da Ana",
            filename="sigiloso.txt",
            content_type="text/plain",
            data="O cofre da loja abre com o código 4321.".encode(),
            now=now,
            embed=get_encoder().aencode,
        )
        ids = {
            "product_id": product.id,
            "order_id": change.cart.order_id or "",
            "document_id": document.id,
            "trace_id": trace.id,
            "entry_id": entry.id,
            "person_id": person.id,
            "reminder_id": reminder.id,
            "meeting_id": meeting.id,
            "conversation_id": thread.id,
            "contact_id": contact.id,
            "event_id": event.id,
            "media_id": media.id,
            "user_id": user.id,
            "key_id": api_key.id,
            "tenant_id": tenant_id,
        }
    secrets = [
        *ids.values(),
        tenant_id,
        "meu pedido é o 4821",
        "remédio da Ana",
        "Joaquim Segredo",
        "pagar o exame da Ana",
        "consulta sigilosa",
        "Manual sigiloso da Ana",
        "O cofre da loja abre com o código 4321",
        "Produto Sigiloso da Ana",
        "interesse da Ana",
        "sk_test_tenantAsecretKey0123456789",
        "Ana A",
        "ana.admin@example.com",
        api_key.prefix,
        api_secret,
        "AC" + "a" * 32,
        "+14155550100",
    ]
    return TenantA(ids=ids, secrets=secrets)


BODIES: dict[tuple[str, str], Any] = {
    ("post", "/channels/sandbox/messages"): {"from": "+5511988887777", "text": "oi", "id": "b-1"},
    ("post", "/identity/users"): {
        "email": "bruno@example.com",
        "name": "Bruno",
        "role": "operator",
        "password": "another long password",
    },
    ("post", "/identity/api-keys"): {"name": "b-bot", "scopes": ["conversations:read"]},
    ("put", "/channels/twilio/account"): {
        "account_sid": "AC" + "b" * 32,
        "auth_token": "tenant-b-token-0123456789",
        "whatsapp_number": "+14155550199",
    },
    ("patch", "/identity/users/{user_id}"): {"role": "member"},
    ("patch", "/identity/contacts/{contact_id}"): {"display_name": "hijacked"},
    ("patch", "/conversation-policy"): {"idle_after_min": 1},
    ("post", "/conversations/{conversation_id}/messages"): {"body": "hijacked"},
    ("put", "/operators/{user_id}/availability"): {"available": False},
    ("patch", "/finance/entries/{entry_id}"): {"note": "hijacked", "amount": "0.01"},
    ("patch", "/relationships/people/{person_id}"): {"name": "hijacked"},
    ("patch", "/relationships/reminders/{reminder_id}"): {"text": "hijacked"},
    ("patch", "/relationships/meetings/{meeting_id}"): {"title": "hijacked"},
    ("patch", "/assistant/settings"): {"redact_pii": True},
    ("post", "/sales/products"): {"name": "Produto B", "price": "1.00"},
    ("put", "/sales/stripe-account"): {"secret_key": "sk_test_tenantBsecretKey9876543210"},
    ("patch", "/sales/products/{product_id}"): {"name": "hijacked", "price": "0.01"},
    ("patch", "/sales/orders/{order_id}"): {"status": "cancelled"},
}
# Bodies that name the victim's records (filled in with A's ids before the call).
VICTIM_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/finance/entries"): {"contact_id": "{contact_id}", "kind": "expense", "amount": "1"},
    ("post", "/relationships/reminders"): {
        "contact_id": "{contact_id}",
        "text": "hijacked",
        "due_at": "2099-01-01T10:00:00+00:00",
    },
    ("post", "/relationships/people"): {"contact_id": "{contact_id}", "name": "Intruso"},
}
# Query parameters that point at the victim's records.
VICTIM_PARAMS: dict[tuple[str, str], dict[str, str]] = {
    ("get", "/finance/summary"): {
        "contact_id": "{contact_id}",
        "from": "2026-01-01",
        "to": "2026-12-31",
    },
    ("get", "/finance/months/{year}-{month}"): {"contact_id": "{contact_id}"},
    ("get", "/relationships/reminders"): {"contact_id": "{contact_id}"},
    ("get", "/knowledge/search"): {"q": "qual o código do cofre?"},
    ("get", "/sales/orders"): {"contact_id": "{contact_id}"},
    ("get", "/sales/leads"): {"contact_id": "{contact_id}"},
}
PATH_EXTRAS = {"year": "2026", "month": "11", "code": "free"}


def _fill(template: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    return {k: v.format(**ids) if isinstance(v, str) else v for k, v in template.items()}


def _routes(app: Any) -> list[tuple[str, str]]:
    return [
        (method, path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


async def test_every_route_refuses_another_tenants_ids(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    victim = await _seed_victim(container, client, tenant["key"])
    now = container.clock.now()
    async with container.db.transaction() as session:
        other = await identity.create_tenant(session, name="Outra", slug="outra", now=now)
        _key, attacker = await identity.create_api_key(
            session, tenant_id=other.id, name="b", now=now
        )

    routes = _routes(create_app(container))
    classified = PUBLIC | SCOPED_READS | OWN_WRITES | PLATFORM_ONLY | STREAMS
    unclassified = [route for route in routes if route not in classified and "{" not in route[1]]
    assert unclassified == [], f"new routes need an IDOR rule here: {unclassified}"

    checked = 0
    for method, path in routes:
        if (method, path) in PUBLIC | STREAMS:
            continue
        url = path.format(**victim.ids, **PATH_EXTRAS)
        params = {"to": USER} if path == "/channels/sandbox/outbox" else None
        if (method, path) in VICTIM_PARAMS:
            params = _fill(VICTIM_PARAMS[(method, path)], victim.ids)
        body = BODIES.get((method, path))
        if (method, path) in VICTIM_BODIES:
            body = _fill(VICTIM_BODIES[(method, path)], victim.ids)
        response = await client.request(
            method.upper(),
            url,
            params=params,
            content=json.dumps(body) if body is not None else None,
            headers={**auth(attacker), "Content-Type": "application/json"},
        )
        if (method, path) in PLATFORM_ONLY:
            assert response.status_code == 403, (method, path, response.text)
        elif "{" in path:
            assert response.status_code in (403, 404), (method, path, response.status_code)
        else:
            assert response.status_code < 500, (method, path, response.text)
        leaked = [secret for secret in victim.secrets if secret in response.text]
        assert leaked == [], f"{method.upper()} {path} leaked {leaked}"
        checked += 1
    assert checked >= 15

    # Nothing of A's was changed through B's calls.
    async with container.db.read() as session:
        contact = await session.get(Contact, victim.ids["contact_id"])
        user = await identity.get_user(
            session, tenant_id=contact.tenant_id if contact else "", user_id=victim.ids["user_id"]
        )
        keys = await identity.list_api_keys(
            session, tenant_id=contact.tenant_id if contact else "", cursor=None, limit=200
        )
    assert contact is not None
    assert contact.display_name is None
    assert user is not None
    assert user.role == "admin"
    assert all(key.revoked_at is None for key in keys.items)
    async with container.db.read() as session:
        entries = (await finance.list_entries(session, tenant_id=contact.tenant_id)).items
        reminders = await crm.list_reminders(session, tenant_id=contact.tenant_id)
    assert [(e.note, str(e.amount)) for e in entries] == [("remédio da Ana", "42.42")]
    assert [r.text for r in reminders.items] == ["pagar o exame da Ana"]


@pytest.mark.parametrize("header", ["", "Bearer ", "Basic abc", "Bearer wai_nope_nope"])
async def test_every_private_route_needs_a_credential(
    container: Container, client: httpx.AsyncClient, header: str
) -> None:
    for method, path in _routes(create_app(container)):
        if (method, path) in PUBLIC:
            continue
        url = path.format(
            conversation_id=new_sid("XX"),
            contact_id="c",
            event_id="e",
            media_id="m",
            user_id="u",
            key_id="k",
            entry_id="x",
            trace_id="t",
            document_id="d",
            product_id="p",
            order_id="o",
            person_id="p",
            reminder_id="r",
            meeting_id="m",
            tenant_id="t",
            **PATH_EXTRAS,
        )
        headers = {"Authorization": header} if header else {}
        response = await client.request(method.upper(), url, headers=headers)
        # Repeated bad keys from one address are throttled: 429 is a refusal too.
        assert response.status_code in (401, 429), (method, path, header, response.status_code)
