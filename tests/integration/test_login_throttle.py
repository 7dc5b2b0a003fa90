"""Failed sign-ins are throttled per account and address, and per address across accounts: one
person's typos never lock the shop out, spraying is stopped, and a right password is never
behind a cooldown it did not cause."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_settings
from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.clock import ManualClock
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.identity import service as identity
from whatsapp_ai.identity.models import User

LOGIN = "/identity/login"
PASSWORD = "correct horse battery staple"
SHOP = "203.0.113.10"  # everyone at the shop, behind one NAT
ELSEWHERE = "198.51.100.20"

Client = Callable[[str], httpx.AsyncClient]


@pytest.fixture
async def container_at(db_url: str, tmp_path: Path) -> AsyncIterator[Container]:
    """The platform on a clock the test moves."""
    built = bootstrap(make_settings(db_url, tmp_path), clock=ManualClock())
    yield built
    await built.close()


@pytest.fixture
async def tenant(container_at: Container) -> dict[str, str]:
    async with container_at.db.transaction() as session:
        created = await identity.create_tenant(
            session, name="Loja", slug=f"t-{new_id().lower()[-10:]}", now=container_at.clock.now()
        )
    return {"id": created.id}


@pytest.fixture
async def from_address(container_at: Container) -> AsyncIterator[Client]:
    """HTTP clients that reach the application from a given address."""
    app = create_app(container_at)
    made: list[httpx.AsyncClient] = []

    def make(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000 + len(made)))
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


async def _user(container: Container, tenant_id: str) -> User:
    async with container.db.transaction() as session:
        return await identity.create_user(
            session,
            tenant_id=tenant_id,
            email=f"u-{new_id().lower()[-8:]}@example.com",
            name="Someone",
            role="admin",
            password=PASSWORD,
            now=container.clock.now(),
        )


async def _try(client: httpx.AsyncClient, email: str, password: str, times: int = 1) -> list[int]:
    statuses = []
    for _ in range(times):
        response = await client.post(LOGIN, json={"email": email, "password": password})
        statuses.append(response.status_code)
    return statuses


async def test_a_colleagues_typos_do_not_lock_the_admin_out(
    container_at: Container, from_address: Client, tenant: dict[str, str]
) -> None:
    admin = await _user(container_at, tenant["id"])
    clerk = await _user(container_at, tenant["id"])
    shop = from_address(SHOP)

    typos = await _try(shop, clerk.email, "wrong-wrong", times=12)
    assert typos[:10] == [401] * 10
    assert typos[-1] == 429

    assert await _try(shop, admin.email, PASSWORD) == [200]
    assert await _try(shop, admin.email, "one-typo") == [401], "the admin's own budget is whole"


async def test_a_right_password_from_an_address_that_did_not_fail_gets_in(
    container_at: Container, from_address: Client, tenant: dict[str, str]
) -> None:
    admin = await _user(container_at, tenant["id"])
    attacker = from_address(ELSEWHERE)
    assert (await _try(attacker, admin.email, "guess-guess", times=12))[-1] == 429
    # Still blocked there, even with the right password: the cooldown it caused.
    assert await _try(attacker, admin.email, PASSWORD) == [429]

    assert await _try(from_address(SHOP), admin.email, PASSWORD) == [200]


async def test_the_throttled_pair_frees_up_with_time(
    container_at: Container, from_address: Client, tenant: dict[str, str]
) -> None:
    admin = await _user(container_at, tenant["id"])
    shop = from_address(SHOP)
    await _try(shop, admin.email, "guess-guess", times=10)
    refused = await shop.post(LOGIN, json={"email": admin.email, "password": PASSWORD})
    assert refused.status_code == 429
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 30

    assert isinstance(container_at.clock, ManualClock)
    container_at.clock.advance(seconds=retry_after)
    assert await _try(shop, admin.email, PASSWORD) == [200]


async def test_spraying_many_accounts_from_one_address_is_stopped(
    container_at: Container, from_address: Client, tenant: dict[str, str]
) -> None:
    victim = await _user(container_at, tenant["id"])
    sprayer = from_address(ELSEWHERE)
    statuses = []
    for number in range(25):
        statuses += await _try(sprayer, f"guess{number}@example.com", "Summer2026!")
    assert statuses[:21] == [401] * 21, statuses
    assert 429 in statuses[21:], statuses
    assert await _try(sprayer, victim.email, "Summer2026!") == [429]
    # The victim, elsewhere, is untouched.
    assert await _try(from_address(SHOP), victim.email, PASSWORD) == [200]


async def test_right_passwords_cost_nothing(
    container_at: Container, from_address: Client, tenant: dict[str, str]
) -> None:
    admin = await _user(container_at, tenant["id"])
    shop = from_address(SHOP)
    assert await _try(shop, admin.email, PASSWORD, times=12) == [200] * 12
    assert (await _try(shop, admin.email, "typo-typo", times=10)) == [401] * 10
