"""Event bus: live conversation and message events, fanned out to subscribers per tenant.

Events are notifications, not records: a subscriber that is not listening, falls behind, or is
cut off while a connection is re-established misses them, so consoles re-read state when they
(re)connect. Events carry ids and metadata only, never message bodies.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg  # type: ignore[import-untyped]
import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

from whatsapp_ai.core.config import EventsSettings, SettingsError, env_name
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.logging import get_logger

log = get_logger(__name__)

# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more (default build).
NOTIFY_MAX_BYTES = 8000
CLIENT_NAME = "whatsapp_ai-events"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Event:
    """Something that happened to one tenant's data; ``data`` is JSON with ids and metadata."""

    tenant_id: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=new_id)
    at: str = field(default_factory=_now_iso)

    def to_json(self) -> str:
        """The event as compact JSON (raises TypeError when ``data`` is not JSON)."""
        return json.dumps(
            {
                "id": self.id,
                "tenant_id": self.tenant_id,
                "kind": self.kind,
                "at": self.at,
                "data": self.data,
            },
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Event:
        """Parse what ``to_json`` produced; ValueError for anything else."""
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("an event is a JSON object")
        for name in ("id", "tenant_id", "kind", "at"):
            if not isinstance(raw.get(name), str):
                raise ValueError(f"event field {name!r} must be a string")
        if not isinstance(raw.get("data"), dict):
            raise ValueError("event field 'data' must be an object")
        return cls(
            tenant_id=raw["tenant_id"],
            kind=raw["kind"],
            data=raw["data"],
            id=raw["id"],
            at=raw["at"],
        )


class EventTooLarge(ValueError):
    """The event's JSON exceeds what the backend can carry (PostgreSQL NOTIFY: < 8000 bytes)."""


class BusClosed(RuntimeError):
    """The bus was closed: nothing more can be published or subscribed."""


class Subscription:
    """Events of one tenant, buffered up to a bound; when full, the oldest is dropped."""

    def __init__(self, tenant_id: str, buffer: int) -> None:
        self.tenant_id = tenant_id
        self.lagged = 0
        self._events: deque[Event] = deque(maxlen=buffer)
        self._ready = asyncio.Event()
        self._closed = False

    def push(self, event: Event) -> None:
        """Buffer an event without waiting (the bus's side; never blocks the publisher)."""
        if self._closed:
            return
        if len(self._events) == self._events.maxlen:
            self.lagged += 1
        self._events.append(event)
        self._ready.set()

    def close(self) -> None:
        """Deliver nothing more; waiting readers get None or stop iterating."""
        self._closed = True
        self._ready.set()

    @property
    def closed(self) -> bool:
        """Whether the subscription has ended (left, or its bus closed)."""
        return self._closed

    async def get(self, timeout: float) -> Event | None:  # noqa: ASYNC109 (the contract)
        """The next event, or None after ``timeout`` seconds (at once when closed and empty)."""
        if not self._events and not self._closed:
            self._ready.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._ready.wait()
            except TimeoutError:
                return None
        return self._events.popleft() if self._events else None

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        while not self._events:
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._events.popleft()


class EventBus(Protocol):
    """Publish events and subscribe to one tenant's events."""

    async def publish(self, event: Event) -> None:
        """Send ``event`` to every current subscriber of its tenant (in every process)."""
        ...

    def subscribe(self, tenant_id: str) -> AbstractAsyncContextManager[Subscription]:
        """Receive the tenant's events published from entry until exit."""
        ...

    async def close(self) -> None:
        """End every subscription and release every connection."""
        ...


class _FanOut:
    """Local delivery to the subscribers of each tenant."""

    def __init__(self, buffer: int) -> None:
        if buffer < 1:
            raise ValueError("buffer must be at least 1")
        self._buffer = buffer
        self._subscribers: dict[str, set[Subscription]] = {}
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise BusClosed("the event bus is closed")

    def _attach(self, tenant_id: str) -> Subscription:
        self._check_open()
        subscription = Subscription(tenant_id, self._buffer)
        self._subscribers.setdefault(tenant_id, set()).add(subscription)
        return subscription

    def _detach(self, subscription: Subscription) -> None:
        subscription.close()
        subscribers = self._subscribers.get(subscription.tenant_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.tenant_id]

    def _deliver(self, event: Event) -> None:
        for subscription in self._subscribers.get(event.tenant_id, ()):
            subscription.push(event)

    def _end_all(self) -> None:
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.close()
        self._subscribers.clear()


class MemoryBus(_FanOut):
    """In-process fan-out: the default, for one process."""

    def __init__(self, *, buffer: int = 1000) -> None:
        super().__init__(buffer)

    async def publish(self, event: Event) -> None:
        """Deliver to this process's subscribers (a JSON copy, as the other backends would)."""
        self._check_open()
        self._deliver(Event.from_json(event.to_json()))

    @asynccontextmanager
    async def subscribe(self, tenant_id: str) -> AsyncIterator[Subscription]:
        """Receive the tenant's events published from entry until exit."""
        subscription = self._attach(tenant_id)
        try:
            yield subscription
        finally:
            self._detach(subscription)

    async def close(self) -> None:
        """End every subscription."""
        self._closed = True
        self._end_all()


# The session is gone (dropped, or ended by the server): a new connection may succeed.
# InternalClientError: asyncpg saw the server's goodbye but has not yet marked the link closed.
_PG_CONNECTION_ERRORS = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    OSError,
)


def asyncpg_dsn(database_url: str) -> str:
    """The asyncpg DSN of a SQLAlchemy PostgreSQL URL (``postgresql+asyncpg://...``)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("not a PostgreSQL database URL")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresBus(_FanOut):
    """LISTEN/NOTIFY on one channel: one listening connection per bus, fanned out per tenant.

    Needs session-level connections: LISTEN does not work through a transaction-mode pooler
    (PgBouncer, Supabase's pooler on 6543), so give it the database's direct address.
    """

    def __init__(
        self,
        dsn: str,
        *,
        channel: str = "wai_events",
        buffer: int = 1000,
        client_name: str = CLIENT_NAME,
        connect_timeout_s: float = 10.0,
        keepalive_s: float = 30.0,
        reconnect_min_s: float = 0.1,
        reconnect_max_s: float = 10.0,
    ) -> None:
        super().__init__(buffer)
        self._dsn = dsn
        self._channel = channel
        self._client_name = client_name
        self._connect_timeout_s = connect_timeout_s
        self._keepalive_s = keepalive_s
        self._reconnect_min_s = reconnect_min_s
        self._reconnect_max_s = reconnect_max_s
        self._publisher: Any = None
        self._publish_lock = asyncio.Lock()
        self._listener: Any = None
        self._listen_lock = asyncio.Lock()
        self._lost = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None

    async def _connect(self) -> Any:
        return await asyncpg.connect(
            self._dsn,
            timeout=self._connect_timeout_s,
            server_settings={"application_name": self._client_name},
        )

    async def publish(self, event: Event) -> None:
        """NOTIFY the channel; EventTooLarge when the JSON is 8000 bytes or more."""
        self._check_open()
        payload = event.to_json()
        size = len(payload.encode())
        if size >= NOTIFY_MAX_BYTES:
            raise EventTooLarge(
                f"event {event.kind!r} is {size} bytes of JSON; PostgreSQL NOTIFY carries fewer"
                f" than {NOTIFY_MAX_BYTES}: publish ids and let subscribers read the rest"
            )
        async with self._publish_lock:
            for attempt in (1, 2):
                self._check_open()
                if self._publisher is None or self._publisher.is_closed():
                    self._publisher = await self._opened(await self._connect())
                try:
                    await self._publisher.execute(
                        "SELECT pg_notify($1, $2)", self._channel, payload
                    )
                    return
                except _PG_CONNECTION_ERRORS:
                    # A connection dropped since the last publish: retry once on a new one.
                    broken, self._publisher = self._publisher, None
                    broken.terminate()
                    if attempt == 2:
                        raise
                    log.warning("events.publisher_reconnecting", channel=self._channel)

    @asynccontextmanager
    async def subscribe(self, tenant_id: str) -> AsyncIterator[Subscription]:
        """Receive the tenant's events notified from entry until exit."""
        await self._ensure_listener()
        subscription = self._attach(tenant_id)
        try:
            yield subscription
        finally:
            self._detach(subscription)

    async def close(self) -> None:
        """End every subscription, stop listening and close both connections."""
        if self._closed:
            return
        self._closed = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.wait([self._supervisor])
            self._supervisor = None
        connections = [self._listener, self._publisher]
        self._listener = self._publisher = None
        for connection in connections:
            if connection is not None:
                await self._close_connection(connection)
        self._end_all()

    async def _opened(self, connection: Any) -> Any:
        # close() may have run while the connection was being made: it would never close it.
        if self._closed:
            await self._close_connection(connection)
            self._check_open()
        return connection

    async def _close_connection(self, connection: Any) -> None:
        try:
            await connection.close(timeout=self._connect_timeout_s)
        except Exception:
            connection.terminate()

    async def _ensure_listener(self) -> None:
        async with self._listen_lock:
            self._check_open()
            if self._supervisor is None:
                self._listener = await self._opened(await self._listen())
                self._supervisor = asyncio.create_task(
                    self._supervise(), name=f"events-listener:{self._channel}"
                )

    async def _listen(self) -> Any:
        connection = await self._connect()
        try:
            # Watch for the end first, so a drop during LISTEN is not missed.
            connection.add_termination_listener(self._on_listener_closed)
            await connection.add_listener(self._channel, self._on_notify)
        except BaseException:
            connection.terminate()
            raise
        return connection

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            event = Event.from_json(payload)
        except ValueError:
            log.warning("events.bad_payload", channel=self._channel, size=len(payload))
            return
        self._deliver(event)

    def _on_listener_closed(self, connection: Any) -> None:
        if connection is self._listener and not self._closed:
            self._lost.set()

    async def _listener_alive(self) -> bool:
        try:
            async with asyncio.timeout(self._keepalive_s):
                await self._listener.fetchval("SELECT 1")
        except (TimeoutError, asyncpg.PostgresError, *_PG_CONNECTION_ERRORS):
            return False
        return True

    async def _supervise(self) -> None:
        """Re-listen whenever the listening connection ends or stops answering."""
        while True:
            try:
                async with asyncio.timeout(self._keepalive_s):
                    await self._lost.wait()
            except TimeoutError:
                if await self._listener_alive():
                    continue
            self._lost.clear()
            log.warning("events.listener_lost", channel=self._channel)
            lost, self._listener = self._listener, None
            if lost is not None:
                lost.terminate()
            self._listener = await self._relisten()

    async def _relisten(self) -> Any:
        delay = self._reconnect_min_s
        attempt = 1
        while True:
            try:
                connection = await self._listen()
            except Exception as exc:
                log.warning(
                    "events.listener_reconnect_failed",
                    channel=self._channel,
                    attempt=attempt,
                    retry_in_s=delay,
                    error=str(exc)[:300],
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._reconnect_max_s)
                attempt += 1
                continue
            log.info("events.listener_reconnected", channel=self._channel, attempt=attempt)
            return connection


class RedisBus:
    """Redis PUBLISH/SUBSCRIBE on one channel per tenant (``{prefix}:{tenant_id}``)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "wai_events",
        buffer: int = 1000,
        client_name: str = CLIENT_NAME,
        subscribe_timeout_s: float = 10.0,
        reconnect_min_s: float = 0.1,
        reconnect_max_s: float = 10.0,
    ) -> None:
        if buffer < 1:
            raise ValueError("buffer must be at least 1")
        self._redis = aioredis.Redis.from_url(url, client_name=client_name)
        self._prefix = prefix
        self._buffer = buffer
        self._subscribe_timeout_s = subscribe_timeout_s
        self._reconnect_min_s = reconnect_min_s
        self._reconnect_max_s = reconnect_max_s
        self._open: dict[Subscription, tuple[PubSub, asyncio.Task[None]]] = {}
        self._closed = False

    def _channel(self, tenant_id: str) -> str:
        return f"{self._prefix}:{tenant_id}"

    def _check_open(self) -> None:
        if self._closed:
            raise BusClosed("the event bus is closed")

    async def publish(self, event: Event) -> None:
        """PUBLISH to the tenant's channel."""
        self._check_open()
        await self._redis.publish(self._channel(event.tenant_id), event.to_json())

    @asynccontextmanager
    async def subscribe(self, tenant_id: str) -> AsyncIterator[Subscription]:
        """SUBSCRIBE to the tenant's channel (confirmed before the block starts) until exit."""
        self._check_open()
        subscription = Subscription(tenant_id, self._buffer)
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(self._channel(tenant_id))
            # Wait for the server's confirmation: events published after entry then arrive.
            async with asyncio.timeout(self._subscribe_timeout_s):
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is not None and message["type"] == "subscribe":
                        break
            reader = asyncio.create_task(
                self._read(pubsub, subscription), name=f"events-redis:{tenant_id}"
            )
            self._open[subscription] = (pubsub, reader)
            yield subscription
        finally:
            await self._leave(subscription, pubsub)

    async def _read(self, pubsub: PubSub, subscription: Subscription) -> None:
        delay = self._reconnect_min_s
        while True:
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            except RedisError as exc:
                # The pubsub reconnects and subscribes again on the next read.
                log.warning("events.redis_receive_failed", retry_in_s=delay, error=str(exc)[:300])
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._reconnect_max_s)
                continue
            delay = self._reconnect_min_s
            if message is None or message["type"] != "message":
                continue
            try:
                event = Event.from_json(message["data"])
            except ValueError:
                log.warning("events.bad_payload", channel=self._channel(subscription.tenant_id))
                continue
            subscription.push(event)

    async def _leave(self, subscription: Subscription, pubsub: PubSub) -> None:
        subscription.close()
        entry = self._open.pop(subscription, None)
        if entry is not None:
            reader = entry[1]
            reader.cancel()
            await asyncio.wait([reader])
        # Closing the connection ends its subscriptions on the server.
        await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        """End every subscription and close every connection."""
        if self._closed:
            return
        self._closed = True
        for subscription, (pubsub, _reader) in list(self._open.items()):
            await self._leave(subscription, pubsub)
        await self._redis.aclose()


def create_bus(settings: EventsSettings, database_url: str) -> EventBus:
    """The configured bus; PostgreSQL LISTEN/NOTIFY reuses the application's database."""
    if settings.backend == "redis":
        return RedisBus(
            settings.redis_url, prefix=settings.channel, buffer=settings.subscriber_buffer
        )
    if settings.backend == "postgres":
        if make_url(database_url).get_backend_name() != "postgresql":
            raise SettingsError(
                f"{env_name(('events', 'backend'))}=postgres needs a PostgreSQL database"
                f" ({env_name(('database', 'url'))} is not one): use memory or redis"
            )
        return PostgresBus(
            asyncpg_dsn(database_url),
            channel=settings.channel,
            buffer=settings.subscriber_buffer,
        )
    return MemoryBus(buffer=settings.subscriber_buffer)
