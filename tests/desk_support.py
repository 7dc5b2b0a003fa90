"""A tenant's help desk for lifecycle and handoff tests: a manual clock, the sandbox channel,
operators signed in to the console, and helpers to talk, run jobs and read the outcome."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import auth, make_settings
from whatsapp_ai.ai.service import Reply, TurnInput
from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.clock import ManualClock
from whatsapp_ai.core.http import SESSION_COOKIE
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.identity import service as identity
from whatsapp_ai.identity.models import Contact

ANA = "+5511999990001"
BRUNO = "+5511999990002"
PASSWORD = "correct horse battery staple"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Scripted:
    """A reply step that records each turn and answers from a script, then by echo."""

    def __init__(self, *replies: Reply) -> None:
        self.turns: list[TurnInput] = []
        self.replies = list(replies)

    async def reply(self, turn: TurnInput) -> Reply:
        self.turns.append(turn)
        if self.replies:
            return self.replies.pop(0)
        return Reply(text=f"eco: {turn.text}", model="scripted", language="pt")


@dataclass
class Operator:
    """A console user signed in: their id and the headers of their session."""

    user_id: str
    name: str
    headers: dict[str, str]


@dataclass
class Desk:
    """One tenant on the sandbox channel with a manual clock."""

    container: Container
    client: httpx.AsyncClient
    clock: ManualClock
    tenant_id: str
    key: str
    reply_step: Scripted
    sent: int = field(default=0)

    @property
    def api(self) -> dict[str, str]:
        return auth(self.key)

    async def say(self, text: str, sender: str = ANA) -> None:
        """The contact writes, and every job that follows runs."""
        self.sent += 1
        response = await self.client.post(
            "/channels/sandbox/messages",
            json={"from": sender, "text": text, "id": f"m-{new_id()}", "profile_name": "Ana"},
            headers=self.api,
        )
        assert response.status_code == 202, response.text
        await self.run()

    async def run(self) -> None:
        """Run jobs until none is left, moving the clock a second when only delayed ones are."""
        worker = self.container.worker()
        for _ in range(60):
            await worker.run_until_idle()
            stats = await self.container.queue.stats()
            if stats.by_status["queued"] == 0 and stats.by_status["running"] == 0:
                await self.container.lifecycle.flush_events()
                return
            self.clock.advance(seconds=1)
        raise AssertionError(f"jobs left: {stats.by_status}")

    async def outbox(self, to: str = ANA) -> list[str]:
        """Every message sent to ``to``, oldest first."""
        response = await self.client.get(
            "/channels/sandbox/outbox", params={"to": to}, headers=self.api
        )
        assert response.status_code == 200, response.text
        return [item["body"] for item in response.json()["items"]]

    async def conversations(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.client.get("/conversations", params=params, headers=self.api)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def current(self, sender: str = ANA) -> dict[str, Any]:
        """The contact's latest conversation."""
        contact_id = await self.contact_id(sender)
        found = await self.conversations(contact_id=contact_id)
        assert found, "no conversation"
        return max(found, key=lambda c: c["id"])

    async def contact_id(self, sender: str = ANA) -> str:
        async with self.container.db.read() as session:
            contact = await session.scalar(
                select(Contact).where(
                    Contact.tenant_id == self.tenant_id, Contact.address == sender
                )
            )
        assert contact is not None
        return contact.id

    async def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/conversations/{conversation_id}/messages",
            params={"limit": 200},
            headers=self.api,
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def history(self, conversation_id: str) -> list[tuple[str, str, str]]:
        response = await self.client.get(
            f"/conversations/{conversation_id}/transitions", headers=self.api
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["next_cursor"] is None
        return [(t["from_status"], t["to_status"], t["actor"]) for t in page["items"]]

    async def act(
        self, conversation_id: str, action: str, body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:  # fmt: skip
        """An operator action (``close``, ``handoff``, ``assign``, ``take``, ``return``…)."""
        return await self.client.post(
            f"/conversations/{conversation_id}/{action}",
            json=body or {},
            headers=headers or self.api,
        )

    async def policy(self, **values: Any) -> dict[str, Any]:
        response = await self.client.patch("/conversation-policy", json=values, headers=self.api)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def operator(self, name: str, role: str = "operator") -> Operator:
        """A new console user of the tenant, signed in."""
        return await sign_in(self.container, self.client, self.tenant_id, name, role)

    async def sweep(self) -> int:
        """The scheduler's timer sweep and auto-assignment, then the jobs they queued."""
        changed = await self.container.timeouts.sweep()
        changed += await self.container.timeouts.assign_waiting()
        await self.run()
        return changed


async def sign_in(
    container: Container,
    client: httpx.AsyncClient,
    tenant_id: str,
    name: str,
    role: str = "operator",
) -> Operator:
    """A new console user of the tenant, signed in through the login endpoint."""
    email = f"{name.split()[0].lower()}-{new_id().lower()[-8:]}@example.com"
    async with container.db.transaction() as session:
        user = await identity.create_user(
            session,
            tenant_id=tenant_id,
            email=email,
            name=name,
            role=role,
            password=PASSWORD,
            now=container.clock.now(),
        )
    response = await client.post("/identity/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.cookies[SESSION_COOKIE]
    client.cookies.clear()
    csrf = response.json()["csrf_token"]
    headers = {"Cookie": f"{SESSION_COOKIE}={token}", "X-CSRF-Token": csrf}
    return Operator(user_id=user.id, name=name, headers=headers)


DeskFactory = Callable[..., Awaitable[Desk]]


@pytest.fixture
async def make_desk(db_url: str, tmp_path: Path) -> AsyncIterator[DeskFactory]:
    """Build a desk (``lifecycle``: policy defaults; ``replies``: the scripted answers)."""
    built: list[Desk] = []

    async def make(*replies: Reply, events: dict[str, Any] | None = None, **lifecycle: Any) -> Desk:
        clock = ManualClock(START)
        script = Scripted(*replies)
        settings = make_settings(
            db_url,
            tmp_path / f"d{len(built)}",
            lifecycle=lifecycle,
            queue={"max_attempts": 2, "delivery_max_attempts": 2},
            events=events or {},
        )
        container = bootstrap(settings, clock=clock, reply_step=script)
        async with container.db.transaction() as session:
            tenant = await identity.create_tenant(
                session, name="Loja Central", slug=f"t-{new_id().lower()[-10:]}", now=clock.now()
            )
            _key, secret = await identity.create_api_key(
                session, tenant_id=tenant.id, name="desk", now=clock.now()
            )
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(container)), base_url="http://testserver"
        )
        desk = Desk(container, client, clock, tenant.id, secret, script)
        built.append(desk)
        return desk

    yield make
    for desk in built:
        await desk.client.aclose()
        await desk.container.close()


@pytest.fixture
async def desk(make_desk: DeskFactory) -> Desk:
    """A desk with the platform's default policy and an echoing assistant."""
    return await make_desk()
