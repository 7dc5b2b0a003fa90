"""The event bus on each backend: in memory, PostgreSQL LISTEN/NOTIFY and Redis pub/sub.

PostgreSQL and Redis run as two bus instances, as two processes would: one publishes, the
other receives.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
import pytest
import redis.asyncio as aioredis
from structlog.testing import capture_logs

from whatsapp_ai.core.config import EventsSettings, SettingsError
from whatsapp_ai.core.events import (
    NOTIFY_MAX_BYTES,
    BusClosed,
    Event,
    EventBus,
    EventTooLarge,
    MemoryBus,
    PostgresBus,
    RedisBus,
    Subscription,
    asyncpg_dsn,
    create_bus,
)
from whatsapp_ai.core.ids import new_id

REDIS_URL = "redis://127.0.0.1:6379/0"
WAIT = 5.0
TENANT_A = "tenant-a"
TENANT_B = "tenant-b"


@dataclass
class Buses:
    """Makes buses of one backend on a channel of this test's own; closes them at the end."""

    kind: str
    dsn: str
    channel: str = field(default_factory=lambda: f"wai_test_{new_id().lower()}")
    made: list[EventBus] = field(default_factory=list)

    def bus(self, role: str, *, buffer: int = 1000) -> EventBus:
        """A new bus named ``{channel}-{role}`` (its connections carry that name)."""
        name = f"{self.channel}-{role}"
        made: EventBus
        if self.kind == "postgres":
            made = PostgresBus(
                self.dsn,
                channel=self.channel,
                buffer=buffer,
                client_name=name,
                reconnect_min_s=0.02,
                reconnect_max_s=0.2,
            )
        elif self.kind == "redis":
            made = RedisBus(REDIS_URL, prefix=self.channel, buffer=buffer, client_name=name)
        else:
            made = MemoryBus(buffer=buffer)
        self.made.append(made)
        return made

    def pair(self, *, buffer: int = 1000) -> tuple[EventBus, EventBus]:
        """(publisher, receiver): two buses, or the one bus of this process in memory."""
        if self.kind == "memory":
            one = self.bus("both", buffer=buffer)
            return one, one
        return self.bus("pub"), self.bus("rx", buffer=buffer)

    async def connections(self) -> int:
        """How many server connections this test's buses hold now."""
        if self.kind == "postgres":
            admin = await asyncpg.connect(self.dsn)
            try:
                count = await admin.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $1",
                    f"{self.channel}-%",
                )
            finally:
                await admin.close()
            return int(count)
        if self.kind == "redis":
            client = aioredis.Redis.from_url(REDIS_URL)
            try:
                clients = await client.client_list()
            finally:
                await client.aclose()
            return sum(1 for c in clients if c.get("name", "").startswith(f"{self.channel}-"))
        return 0

    async def redis_subscribers(self, tenant_id: str) -> int:
        """How many Redis connections subscribe to the tenant's channel."""
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            [(_channel, count)] = await client.pubsub_numsub(f"{self.channel}:{tenant_id}")
        finally:
            await client.aclose()
        return int(count)


@pytest.fixture(params=["memory", "postgres", "redis"])
async def buses(request: pytest.FixtureRequest) -> AsyncIterator[Buses]:
    """Bus maker for each backend (real PostgreSQL from the session, real Redis on 6379)."""
    dsn = (
        asyncpg_dsn(request.getfixturevalue("postgres_url")) if request.param == "postgres" else ""
    )
    made = Buses(kind=str(request.param), dsn=dsn)
    yield made
    for bus in made.made:
        await bus.close()


only_servers = pytest.mark.parametrize("buses", ["postgres", "redis"], indirect=True)
only_postgres = pytest.mark.parametrize("buses", ["postgres"], indirect=True)


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = WAIT) -> None:
    """Wait until ``check`` holds (polling briefly), failing after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def receive(subscription: Subscription, count: int) -> list[Event]:
    """The next ``count`` events, failing when one does not come."""
    got = []
    for _ in range(count):
        event = await subscription.get(WAIT)
        assert event is not None, f"received {len(got)} of {count} events"
        got.append(event)
    return got


def numbered(tenant_id: str, count: int, kind: str = "message.created") -> list[Event]:
    return [Event(tenant_id=tenant_id, kind=kind, data={"n": n}) for n in range(count)]


# -- the event itself ----------------------------------------------------------------------


def test_event_round_trips_through_json() -> None:
    event = Event(
        tenant_id="t1",
        kind="conversation.transitioned",
        data={"conversation_id": "c1", "to": "human", "meta": {"by": "op1", "n": [1, 2]}},
    )
    assert len(event.id) == 26
    assert datetime.fromisoformat(event.at).utcoffset() is not None
    assert event.at.endswith("Z")
    assert Event.from_json(event.to_json()) == event
    assert Event.from_json(event.to_json().encode()) == event


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '{"id": "1", "tenant_id": "t", "kind": "k", "at": "x"}',
        '{"id": 1, "tenant_id": "t", "kind": "k", "at": "x", "data": {}}',
        "not json",
    ],
)
def test_event_from_json_rejects_other_shapes(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (json's own error is a ValueError too)
        Event.from_json(text)


def test_asyncpg_dsn_drops_the_driver() -> None:
    assert (
        asyncpg_dsn("postgresql+asyncpg://u:p%40ss@db.example:5432/app?ssl=require")
        == "postgresql://u:p%40ss@db.example:5432/app?ssl=require"
    )
    with pytest.raises(ValueError, match="PostgreSQL"):
        asyncpg_dsn("sqlite+aiosqlite:///var/x.db")


# -- every backend -------------------------------------------------------------------------


async def test_delivers_every_event_in_order(buses: Buses) -> None:
    publisher, receiver = buses.pair()
    sent = numbered(TENANT_A, 20)
    async with receiver.subscribe(TENANT_A) as subscription:
        for event in sent:
            await publisher.publish(event)
        assert await receive(subscription, len(sent)) == sent
        assert await subscription.get(0.01) is None
        assert subscription.lagged == 0


async def test_subscriber_sees_only_its_tenant(buses: Buses) -> None:
    publisher, receiver = buses.pair()
    async with receiver.subscribe(TENANT_A) as a, receiver.subscribe(TENANT_B) as b:
        for_b = numbered(TENANT_B, 3)
        for_a = numbered(TENANT_A, 2)
        for event in [for_b[0], for_a[0], for_b[1], for_b[2], for_a[1]]:
            await publisher.publish(event)
        # a's last event was published after all of b's: had any of b's reached a, it came first.
        assert await receive(a, 2) == for_a
        assert await receive(b, 3) == for_b
        assert await a.get(0.01) is None
        assert await b.get(0.01) is None


async def test_each_subscriber_of_a_tenant_gets_every_event(buses: Buses) -> None:
    publisher, receiver = buses.pair()
    sent = numbered(TENANT_A, 5)
    async with (
        receiver.subscribe(TENANT_A) as first,
        receiver.subscribe(TENANT_A) as second,
        publisher.subscribe(TENANT_A) as on_publisher,
    ):
        for event in sent:
            await publisher.publish(event)
        for subscription in (first, second, on_publisher):
            assert await receive(subscription, len(sent)) == sent


async def test_slow_subscriber_drops_oldest_without_blocking_publisher(buses: Buses) -> None:
    publisher, receiver = buses.pair(buffer=2)
    sent = numbered(TENANT_A, 6)
    async with receiver.subscribe(TENANT_A) as slow:

        async def publish_all() -> None:
            for event in sent:
                await publisher.publish(event)

        await asyncio.wait_for(publish_all(), WAIT)
        await eventually(lambda: slow.lagged == 4)
        assert await receive(slow, 2) == sent[-2:]
        assert await slow.get(0.01) is None
        assert slow.lagged == 4


async def test_leaving_the_subscription_stops_delivery(buses: Buses) -> None:
    publisher, receiver = buses.pair()
    async with receiver.subscribe(TENANT_A) as witness:
        async with receiver.subscribe(TENANT_A) as left:
            before = Event(tenant_id=TENANT_A, kind="message.created", data={"n": 0})
            await publisher.publish(before)
            assert await receive(left, 1) == [before]
            assert await receive(witness, 1) == [before]
        assert left.closed
        if buses.kind == "redis":
            assert await buses.redis_subscribers(TENANT_A) == 1
        after = Event(tenant_id=TENANT_A, kind="message.created", data={"n": 1})
        await publisher.publish(after)
        assert await receive(witness, 1) == [after]
        assert await left.get(0.01) is None
        assert left.lagged == 0
        assert [event async for event in left] == []


async def test_close_ends_subscriptions_and_releases_connections(buses: Buses) -> None:
    publisher, receiver = buses.pair()
    got: list[Event] = []
    async with receiver.subscribe(TENANT_A) as subscription:

        async def consume() -> None:
            async for event in subscription:
                got.append(event)

        consumer = asyncio.create_task(consume())
        sent = numbered(TENANT_A, 3)
        for event in sent:
            await publisher.publish(event)
        await eventually(lambda: len(got) == 3)
        assert got == sent
        if buses.kind != "memory":
            assert await buses.connections() >= 2

        await receiver.close()
        await publisher.close()
        await asyncio.wait_for(consumer, WAIT)
        assert subscription.closed
        assert await subscription.get(WAIT) is None  # at once: the bus is closed

    async def none_left() -> bool:
        return await buses.connections() == 0

    await eventually(none_left)
    with pytest.raises(BusClosed):
        await publisher.publish(Event(tenant_id=TENANT_A, kind="message.created"))
    with pytest.raises(BusClosed):
        async with receiver.subscribe(TENANT_A):
            pass
    await receiver.close()  # closing twice is harmless


async def test_data_must_be_json(buses: Buses) -> None:
    publisher, _receiver = buses.pair()
    with pytest.raises(TypeError):
        await publisher.publish(
            Event(tenant_id=TENANT_A, kind="message.created", data={"at": object()})
        )


# -- PostgreSQL ----------------------------------------------------------------------------


@only_postgres
async def test_postgres_refuses_a_payload_notify_cannot_carry(buses: Buses) -> None:
    publisher, receiver = buses.pair()

    def sized(size: int) -> Event:
        base = Event(tenant_id=TENANT_A, kind="message.created", data={"pad": ""})
        padding = size - len(base.to_json().encode())
        return Event(
            tenant_id=TENANT_A,
            kind="message.created",
            data={"pad": "x" * padding},
            id=base.id,
            at=base.at,
        )

    largest = sized(NOTIFY_MAX_BYTES - 1)
    async with receiver.subscribe(TENANT_A) as subscription:
        with pytest.raises(EventTooLarge, match="8000") as refused:
            await publisher.publish(sized(NOTIFY_MAX_BYTES))
        assert isinstance(refused.value, ValueError)
        await publisher.publish(largest)  # PostgreSQL takes one byte less
        assert await receive(subscription, 1) == [largest]


@only_postgres
async def test_postgres_listener_reconnects_after_its_connection_is_killed(buses: Buses) -> None:
    publisher, receiver = buses.pair()
    listener_name = f"{buses.channel}-rx"

    async def listener_pids() -> list[int]:
        admin = await asyncpg.connect(buses.dsn)
        try:
            rows = await admin.fetch(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1", listener_name
            )
        finally:
            await admin.close()
        return [row["pid"] for row in rows]

    async with receiver.subscribe(TENANT_A) as subscription:
        first = Event(tenant_id=TENANT_A, kind="message.created", data={"n": 0})
        await publisher.publish(first)
        assert await receive(subscription, 1) == [first]
        [killed] = await listener_pids()

        with capture_logs() as logs:
            admin = await asyncpg.connect(buses.dsn)
            try:
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", killed)
            finally:
                await admin.close()

            # Events sent while the listener is away are lost; probe until one arrives.
            async def listening_again() -> bool:
                await publisher.publish(Event(tenant_id=TENANT_A, kind="probe"))
                return await subscription.get(0.05) is not None

            await eventually(listening_again)

        pids = await listener_pids()
        assert len(pids) == 1
        assert pids[0] != killed
        names = [entry["event"] for entry in logs]
        assert "events.listener_lost" in names
        assert "events.listener_reconnected" in names

        while await subscription.get(0.05) is not None:  # late probes
            pass
        after = numbered(TENANT_A, 5)
        for event in after:
            await publisher.publish(event)
        assert await receive(subscription, 5) == after


@only_postgres
async def test_postgres_publisher_replaces_a_killed_connection(buses: Buses) -> None:
    publisher, receiver = buses.pair()
    async with receiver.subscribe(TENANT_A) as subscription:
        sent = numbered(TENANT_A, 2)
        await publisher.publish(sent[0])
        admin = await asyncpg.connect(buses.dsn)
        try:
            assert await admin.fetchval(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = $1",
                f"{buses.channel}-pub",
            )
        finally:
            await admin.close()
        await publisher.publish(sent[1])
        assert await receive(subscription, 2) == sent


# -- choosing a backend --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "database_url", "expected"),
    [
        ("memory", "sqlite+aiosqlite:///var/x.db", MemoryBus),
        ("redis", "sqlite+aiosqlite:///var/x.db", RedisBus),
        ("postgres", "postgresql+asyncpg://u:p@127.0.0.1:5432/app", PostgresBus),
    ],
)
async def test_create_bus_builds_the_configured_backend(
    backend: str, database_url: str, expected: type[object]
) -> None:
    bus = create_bus(EventsSettings.model_validate({"backend": backend}), database_url)
    try:
        assert isinstance(bus, expected)  # nothing is connected before first use
    finally:
        await bus.close()


def test_create_bus_refuses_postgres_events_on_sqlite() -> None:
    with pytest.raises(SettingsError, match="WHATSAPP_AI_EVENTS__BACKEND") as refused:
        create_bus(EventsSettings(backend="postgres"), "sqlite+aiosqlite:///var/x.db")
    assert "WHATSAPP_AI_DATABASE__URL" in str(refused.value)


def test_subscriber_buffer_holds_at_least_one_event() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        EventsSettings(subscriber_buffer=0)
