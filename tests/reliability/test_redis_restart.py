"""Redis restarted under the event bus (the console's live updates across processes): a
subscriber keeps its subscription through the restart and gets what is published once Redis
is back; a publish while Redis is down fails loudly (the caller logs it; nothing is stored in
Redis, so nothing is lost). The Redis is a private redis-server on a free port, really stopped
and started again."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from whatsapp_ai.core.events import Event, RedisBus, Subscription

TENANT = "t-redis-restart"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A redis-server of the test's own, on one port, stopped and started at will."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed (apt package redis-server; .ci/run installs it)"
        self.binary, self.folder, self.port = binary, folder, _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


async def _publish_until_delivered(bus: RedisBus, event: Event, events: Subscription) -> Event:
    """Publish (again while the subscriber is still resubscribing) until it is received."""
    deadline = asyncio.get_running_loop().time() + 15
    while asyncio.get_running_loop().time() < deadline:
        try:
            await bus.publish(event)
        except RedisConnectionError:
            await asyncio.sleep(0.1)
            continue
        got = await events.get(timeout=0.5)
        if got is not None:
            return got
    raise AssertionError("nothing was delivered after Redis came back")


async def test_a_subscription_survives_a_redis_restart(redis_server: PrivateRedis) -> None:
    bus = RedisBus(redis_server.url, prefix="restart", reconnect_min_s=0.05, reconnect_max_s=0.2)
    try:
        async with bus.subscribe(TENANT) as events:
            await bus.publish(Event(TENANT, "message.created", {"n": 1}))
            first = await events.get(timeout=5)
            assert first is not None
            assert first.data == {"n": 1}

            redis_server.stop()
            with pytest.raises(RedisConnectionError):
                await bus.publish(Event(TENANT, "message.created", {"n": "lost"}))
            redis_server.start()

            second = await _publish_until_delivered(
                bus, Event(TENANT, "message.created", {"n": 2}), events
            )
            assert second.data == {"n": 2}
    finally:
        await bus.close()
