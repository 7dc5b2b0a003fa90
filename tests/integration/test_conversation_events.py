"""Live events for the console: the server-sent event stream over real HTTP, and events that
cross processes through PostgreSQL LISTEN/NOTIFY or Redis pub/sub."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.conftest import auth, make_settings
from tests.desk_support import Desk, DeskFactory
from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import bootstrap
from whatsapp_ai.core.events import Event
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.identity import service as identity


@contextlib.asynccontextmanager
async def serving(desk: Desk) -> AsyncIterator[str]:
    """The desk's application on a real socket (127.0.0.1, a free port); its base URL."""
    config = uvicorn.Config(
        create_app(desk.container), host="127.0.0.1", port=0, lifespan="off", log_config=None
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def read_events(lines: AsyncIterator[str], wanted: int) -> list[dict[str, Any]]:
    """Parse server-sent events until ``wanted`` have arrived."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    async for line in lines:
        if line.startswith("event: "):
            current["event"] = line.removeprefix("event: ")
        elif line.startswith("data: "):
            current["data"] = json.loads(line.removeprefix("data: "))
        elif line.startswith("id: "):
            current["id"] = line.removeprefix("id: ")
        elif line == "" and current:
            events.append(current)
            current = {}
            if len(events) == wanted:
                break
    return events


async def test_the_console_stream_shows_a_handoff_as_it_happens(desk: Desk) -> None:
    async with (
        serving(desk) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
        http.stream("GET", "/conversations/events", headers=desk.api) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()
        assert await anext(lines) == "retry: 2000"
        assert await anext(lines) == ": connected"
        await desk.say("quero falar com um atendente")
        events = await asyncio.wait_for(read_events(lines, 4), timeout=10)
    kinds = [e["event"] for e in events]
    assert kinds == [
        "conversation.opened",
        "message.created",
        "conversation.transitioned",
        "message.created",
    ]
    moved = events[2]["data"]
    assert moved["tenant_id"] == desk.tenant_id
    assert (moved["data"]["from"], moved["data"]["to"]) == ("active", "waiting_human")
    assert events[3]["data"]["data"]["author"] == "assistant"
    assert all("body" not in e["data"]["data"] for e in events)


async def test_a_stream_sees_only_its_own_tenant_and_ends_when_the_server_stops(
    desk: Desk,
) -> None:
    async with desk.container.db.transaction() as session:
        other = await identity.create_tenant(
            session, name="Outra", slug=f"t-{new_id().lower()[-10:]}", now=desk.clock.now()
        )
        _key, other_key = await identity.create_api_key(
            session, tenant_id=other.id, name="k", now=desk.clock.now()
        )
    async with (
        serving(desk) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
        http.stream("GET", "/conversations/events", headers=auth(other_key)) as response,
    ):
        lines = response.aiter_lines()
        assert await anext(lines) == "retry: 2000"
        await desk.say("oi")
        desk.container.stopping.set()
        rest = [line async for line in lines]
    assert not any(line.startswith("event:") for line in rest)


async def test_the_stream_needs_a_credential(desk: Desk) -> None:
    response = await desk.client.get("/conversations/events")
    assert response.status_code == 401


async def _crosses(make_desk: DeskFactory, db_url: str, tmp_path: Path, bus: str) -> None:
    """A worker-side container publishes; an API-side one (another process) receives."""
    channel = f"wai_test_{new_id().lower()[-10:]}"
    settings = {"backend": bus, "channel": channel}
    worker_side = await make_desk(events=settings)
    api_side = bootstrap(make_settings(db_url, tmp_path / "api", events=settings))
    try:
        async with api_side.bus.subscribe(worker_side.tenant_id) as subscription:
            await worker_side.say("quero falar com um atendente")
            seen: list[Event] = []
            while len(seen) < 4 and (event := await subscription.get(timeout=5)) is not None:
                seen.append(event)
        assert [e.kind for e in seen] == [
            "conversation.opened",
            "message.created",
            "conversation.transitioned",
            "message.created",
        ]
    finally:
        await api_side.close()


async def test_events_cross_processes_through_redis(
    make_desk: DeskFactory, db_url: str, tmp_path: Path
) -> None:
    await _crosses(make_desk, db_url, tmp_path, "redis")


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_events_cross_processes_through_postgres_notify(
    make_desk: DeskFactory, db_url: str, tmp_path: Path
) -> None:
    await _crosses(make_desk, db_url, tmp_path, "postgres")
