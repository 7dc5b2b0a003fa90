"""PostgreSQL row-level security: the second wall between tenants, under the app's own role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import as_app_role, auth, drain, make_settings
from tests.fakes.twilio import FakeTwilio
from tests.twilio_support import connect_tenant
from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.db import system_scope, tenant_scope
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.identity import service as identity
from whatsapp_ai.identity.models import Contact

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@pytest.fixture
async def app_container(db_url: str, tmp_path: Path) -> AsyncIterator[Container]:
    """The platform connected as the app role (no superuser, no BYPASSRLS)."""
    built = bootstrap(make_settings(as_app_role(db_url), tmp_path))
    yield built
    await built.close()


async def _two_tenants(container: Container) -> tuple[str, str]:
    ids = []
    with system_scope():
        async with container.db.transaction() as session:
            for name in ("Loja A", "Loja B"):
                tenant = await identity.create_tenant(
                    session,
                    name=name,
                    slug=f"t-{new_id().lower()[-12:]}",
                    now=container.clock.now(),
                )
                await identity.get_or_create_contact(
                    session,
                    tenant_id=tenant.id,
                    address=f"+55119{len(ids):08d}",
                    profile_name=name,
                    now=container.clock.now(),
                )
                ids.append(tenant.id)
    return ids[0], ids[1]


async def test_the_app_role_cannot_bypass_row_level_security(app_container: Container) -> None:
    async with app_container.db.read() as session:
        row = (
            await session.execute(
                text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            )
        ).one()
    assert tuple(row) == (False, False)


async def test_a_query_that_forgets_the_tenant_filter_returns_nothing_of_others(
    app_container: Container,
) -> None:
    tenant_a, tenant_b = await _two_tenants(app_container)
    async with app_container.db.read() as session:
        assert list(await session.scalars(select(Contact))) == []  # no scope: nothing at all
    with tenant_scope(tenant_a):
        async with app_container.db.read() as session:
            seen = list(await session.scalars(select(Contact)))  # no WHERE tenant_id on purpose
    assert [contact.tenant_id for contact in seen] == [tenant_a]
    with system_scope():
        async with app_container.db.read() as session:
            assert len(list(await session.scalars(select(Contact)))) == 2

    # Writing into another tenant is refused by the policy's WITH CHECK.
    with tenant_scope(tenant_a), pytest.raises(DBAPIError, match="row-level security"):
        async with app_container.db.transaction() as session:
            await identity.get_or_create_contact(
                session,
                tenant_id=tenant_b,
                address="+5511988887777",
                profile_name="intrusa",
                now=app_container.clock.now(),
            )


async def test_the_main_paths_work_under_row_level_security(
    app_container: Container, db_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    container = app_container
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        signed_up = await client.post(
            "/identity/register",
            json={
                "business_name": "Mercado RLS",
                "email": "rls@example.com",
                "name": "Dona",
                "password": "a long enough password",
            },
        )
        assert signed_up.status_code == 201, signed_up.text
        login = await client.post(
            "/identity/login",
            json={"email": "rls@example.com", "password": "a long enough password"},
        )
        assert login.status_code == 200
        made = await client.post(
            "/identity/api-keys",
            json={"name": "bot", "scopes": ["*"]},
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
        assert made.status_code == 201, made.text
        key = made.json()["key"]
        client.cookies.clear()

        sent = await client.post(
            "/channels/sandbox/messages",
            json={"from": "+5511999990001", "text": "oi", "id": "rls-1"},
            headers=auth(key),
        )
        assert sent.status_code == 202
        await drain(container)
        outbox = await client.get(
            "/channels/sandbox/outbox", params={"to": "+5511999990001"}, headers=auth(key)
        )
        assert len(outbox.json()["items"]) == 1
        [contact] = (await client.get("/identity/contacts", headers=auth(key))).json()["items"]
        assert (await client.get("/conversations", headers=auth(key))).json()["items"]
        exported = await client.get(f"/identity/contacts/{contact['id']}/export", headers=auth(key))
        assert exported.json()["data"]["identity"]["address"] == "+5511999990001"
        erased = await client.post(f"/identity/contacts/{contact['id']}/erasure", headers=auth(key))
        assert erased.status_code == 201, erased.text

    # The Twilio webhook routes across tenants, then works inside one.
    twilio = await connect_tenant(as_app_role(db_url), tmp_path / "tw", fake_twilio)
    try:
        assert (await twilio.post_inbound(twilio.form(body="oi"))).status_code == 200
        await drain(twilio.container)
        assert len(fake_twilio.messages) == 1
    finally:
        await twilio.client.aclose()
        await twilio.container.close()
