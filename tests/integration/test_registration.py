"""Self-service registration: tenant, admin and Free plan together, or nothing at all."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from whatsapp_ai.app import create_app
from whatsapp_ai.billing import service as billing
from whatsapp_ai.billing.models import Subscription
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.identity.models import Tenant, User

SIGN_UP = {
    "business_name": "Padaria São João",
    "email": "dona.maria@example.com",
    "name": "Maria",
    "password": "pão quentinho todo dia",
}


async def _counts(container: Container) -> tuple[int, int, int]:
    counts = []
    async with container.db.read() as session:
        for model in (Tenant, User, Subscription):
            counts.append(int(await session.scalar(select(func.count()).select_from(model)) or 0))
    return counts[0], counts[1], counts[2]


async def test_register_then_sign_in(container: Container, client: httpx.AsyncClient) -> None:
    response = await client.post("/identity/register", json=SIGN_UP)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["tenant"]["slug"] == "padaria-sao-joao"
    assert body["user"]["role"] == "admin"
    assert body["plan"] == "free"
    assert "password" not in response.text
    async with container.db.read() as session:
        subscription = await billing.get_subscription(session, tenant_id=body["tenant"]["id"])
    assert subscription is not None
    assert (subscription.plan, subscription.status) == ("free", "active")

    login = await client.post(
        "/identity/login", json={"email": SIGN_UP["email"], "password": SIGN_UP["password"]}
    )
    assert login.status_code == 200
    keys = await client.post(
        "/identity/api-keys",
        json={"name": "primeira", "scopes": ["*"]},
        headers={"X-CSRF-Token": login.json()["csrf_token"]},
    )
    assert keys.status_code == 201


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"email": "dona.maria@example.com", "business_name": "Outra Loja"}, 409),
        ({"email": "outra@example.com"}, 409),  # same name → same slug
        ({"email": "outra@example.com", "slug": "padaria-sao-joao"}, 409),
        ({"password": "curta"}, 422),
        ({"email": "not-an-email"}, 422),
        ({"slug": "Bad Slug"}, 422),
    ],
)
async def test_conflicts_and_bad_input_create_nothing(
    container: Container, client: httpx.AsyncClient, change: dict[str, Any], status: int
) -> None:
    assert (await client.post("/identity/register", json=SIGN_UP)).status_code == 201
    before = await _counts(container)
    response = await client.post("/identity/register", json={**SIGN_UP, **change})
    assert response.status_code == status, response.text
    assert await _counts(container) == before


async def test_a_failure_at_the_last_step_leaves_nothing_behind(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def billing_down(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("billing is down")

    monkeypatch.setattr(billing, "start_subscription", billing_down)
    transport = httpx.ASGITransport(app=create_app(container), raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    response = await client.post("/identity/register", json=SIGN_UP)
    assert response.status_code == 500
    assert await _counts(container) == (0, 0, 0)
    monkeypatch.undo()
    assert (await client.post("/identity/register", json=SIGN_UP)).status_code == 201
    assert await _counts(container) == (1, 1, 1)
    await client.aclose()
