"""Fixtures for Twilio tests: the fake Twilio server and a tenant connected to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import make_settings
from tests.fakes.twilio import DEFAULT_BUSINESS_NUMBER, FakeTwilio, inbound_params, sign
from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.channels.twilio import accounts
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.db import system_scope
from whatsapp_ai.identity import service as identity

PUBLIC_BASE = "https://hooks.example.com"
WEBHOOK_URL = f"{PUBLIC_BASE}/channels/twilio/whatsapp"
STATUS_URL = f"{PUBLIC_BASE}/channels/twilio/status"
BUSINESS_NUMBER = DEFAULT_BUSINESS_NUMBER.removeprefix("whatsapp:")


@pytest.fixture(scope="session")
def fake_twilio_server() -> Iterator[FakeTwilio]:
    """One fake Twilio server for the test session."""
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def fake_twilio(fake_twilio_server: FakeTwilio) -> Iterator[FakeTwilio]:
    """The fake Twilio server, clean for each test."""
    fake_twilio_server.reset()
    yield fake_twilio_server
    fake_twilio_server.reset()


def twilio_settings(fake: FakeTwilio, **overrides: Any) -> dict[str, Any]:
    """Twilio settings pointing at the fake server."""
    values: dict[str, Any] = {
        "api_base": fake.url,
        "public_base_url": PUBLIC_BASE,
        "media_allow_private": True,
        "media_cdn_hosts": "127.0.0.1",
        "media_retry_delay_s": 0.01,
        "send_rate_per_s": 1000,
    }
    values.update(overrides)
    return values


@dataclass
class TwilioTenant:
    """A tenant connected to an account on the fake server."""

    container: Container
    client: httpx.AsyncClient
    fake: FakeTwilio
    tenant_id: str
    api_key: str
    account_sid: str
    auth_token: str

    def form(self, **kwargs: Any) -> dict[str, str]:
        """A WhatsApp inbound form for this tenant's account."""
        return inbound_params(self.account_sid, **kwargs)

    async def post_inbound(
        self, form: dict[str, str], *, token: str | None = None, **headers: str
    ) -> httpx.Response:
        """POST a signed inbound webhook (signature with ``token`` or the account's)."""
        signature = sign(WEBHOOK_URL, form, token or self.auth_token)
        return await self.client.post(
            "/channels/twilio/whatsapp",
            data=form,
            headers={"X-Twilio-Signature": signature, **headers},
        )

    async def post_status(self, form: dict[str, str]) -> httpx.Response:
        """POST a signed delivery status callback."""
        signature = sign(STATUS_URL, form, self.auth_token)
        return await self.client.post(
            "/channels/twilio/status", data=form, headers={"X-Twilio-Signature": signature}
        )


async def connect_tenant(
    db_url: str,
    tmp_path: Path,
    fake: FakeTwilio,
    *,
    clock: Clock | None = None,
    twilio: dict[str, Any] | None = None,
    queue: dict[str, Any] | None = None,
    **bootstrap_args: Any,
) -> TwilioTenant:
    """A container on ``db_url`` with a tenant connected to a fresh fake Twilio account."""
    settings = make_settings(
        db_url, tmp_path, twilio=twilio_settings(fake, **(twilio or {})), queue=queue or {}
    )
    container = bootstrap(settings, clock=clock, **bootstrap_args)
    account_sid, auth_token = fake.create_account()
    created: dict[str, str] = {}
    now = container.clock.now()
    with system_scope():  # setting a tenant up is the operator's job, across tenants
        await _create(container, fake_account=(account_sid, auth_token), now=now, out=created)
    tenant_id, api_key = created["tenant_id"], created["api_key"]
    transport = httpx.ASGITransport(app=create_app(container))
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    return TwilioTenant(container, client, fake, tenant_id, api_key, account_sid, auth_token)


async def _create(
    container: Container, *, fake_account: tuple[str, str], now: Any, out: dict[str, str]
) -> None:
    account_sid, auth_token = fake_account
    async with container.db.transaction() as session:
        tenant = await identity.create_tenant(session, name="Ótica Central", slug="otica", now=now)
        _key, api_key = await identity.create_api_key(
            session, tenant_id=tenant.id, name="t", now=now
        )
        await accounts.upsert_account(
            session,
            container.box,
            tenant_id=tenant.id,
            account_sid=account_sid,
            auth_token=auth_token,
            whatsapp_number=BUSINESS_NUMBER,
            template_content_sid="HX" + "0" * 32,
            template_variables={"1": "{body}"},
            now=now,
        )
    out.update(tenant_id=tenant.id, api_key=api_key)


@pytest.fixture
async def twilio_tenant(
    db_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> AsyncIterator[TwilioTenant]:
    """A tenant connected to the fake Twilio server, with an in-process HTTP client."""
    connected = await connect_tenant(db_url, tmp_path, fake_twilio)
    yield connected
    await connected.client.aclose()
    await connected.container.close()
