"""Fault injection against the fake Twilio over real HTTP: bursts of 500 and 429 then recovery,
a long outage whose dead letters are replayed, and one MessageSid delivered five times at once.
Each case prints what it did and asserts: no reply lost, none sent twice, order kept per
conversation."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import drain
from tests.fakes.twilio import FakeTwilio
from tests.twilio_support import TwilioTenant, connect_tenant
from whatsapp_ai.ai.service import Reply, TurnInput
from whatsapp_ai.channels.models import InboundEvent
from whatsapp_ai.conversation.models import Conversation

CONTACTS = ["whatsapp:+5511900000001", "whatsapp:+5511900000002", "whatsapp:+5511900000003"]
PER_CONTACT = 4

Connect = Callable[..., Awaitable[TwilioTenant]]


class Echo:
    """A reply step that answers each message with its own words (so order can be checked)."""

    async def reply(self, turn: TurnInput) -> Reply:
        return Reply(text=f"eco: {turn.text}", model="echo-test", language="pt")


@pytest.fixture
async def connect(db_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> AsyncIterator[Connect]:
    made: list[TwilioTenant] = []

    async def make(**kwargs: Any) -> TwilioTenant:
        tenant = await connect_tenant(
            db_url, tmp_path / str(len(made)), fake_twilio, reply_step=Echo(), **kwargs
        )
        made.append(tenant)
        return tenant

    yield make
    for tenant in made:
        await tenant.client.aclose()
        await tenant.container.close()


async def _post_all(t: TwilioTenant) -> dict[str, list[str]]:
    """Every contact writes PER_CONTACT messages, interleaved; the replies each expects."""
    expected: dict[str, list[str]] = defaultdict(list)
    for number in range(PER_CONTACT):
        for contact in CONTACTS:
            text = f"mensagem {number} de {contact[-4:]}"
            response = await t.post_inbound(t.form(body=text, from_=contact))
            assert response.status_code == 200, response.text
            expected[contact].append(f"eco: {text}")
    return expected


def _received(t: TwilioTenant) -> dict[str, list[str]]:
    got: dict[str, list[str]] = defaultdict(list)
    for message in t.fake.messages:
        got[message.to or ""].append(message.body or "")
    return got


async def _drain_until_sent(t: TwilioTenant, count: int, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while len(t.fake.messages) < count:
        await drain(t.container, timeout=timeout)
        assert asyncio.get_running_loop().time() < deadline, f"sent {len(t.fake.messages)}"
        await asyncio.sleep(0.05)
    await drain(t.container, timeout=timeout)


async def test_500_and_429_bursts_then_recovery_deliver_every_reply_once_in_order(
    connect: Connect,
) -> None:
    t = await connect()
    t.fake.fail_next(6, 500, 20500, "Internal Server Error")
    t.fake.fail_next(4, 429, 20429, "Too Many Requests", retry_after=0.2)
    t.fake.fail_next(3, 503, 20503, "Service Unavailable")
    expected = await _post_all(t)
    total = len(CONTACTS) * PER_CONTACT

    await _drain_until_sent(t, total)

    refused = [r for r in t.fake.message_requests if r.status != 201]
    print(
        f"posted {total} messages from {len(CONTACTS)} contacts; Twilio refused "
        f"{len(refused)} creates ({sorted({r.status for r in refused})}), then recovered; "
        f"{len(t.fake.messages)} replies accepted"
    )
    assert len(refused) == 13
    assert _received(t) == expected, "every reply once, in order per conversation"
    assert await t.container.queue.list_jobs(status="dead") == []


async def test_a_long_outage_dead_letters_then_a_replay_delivers_each_once(
    connect: Connect,
) -> None:
    t = await connect(queue={"delivery_max_attempts": 3})
    t.fake.fail_for(lambda form: True, 500, 20500, "Internal Server Error")
    expected = await _post_all(t)
    await drain(t.container, timeout=60)
    dead = await t.container.queue.list_jobs(status="dead", limit=100)
    async with t.container.db.read() as session:
        failed = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.status == "failed")
        )
    assert len(dead) == len(CONTACTS) * PER_CONTACT
    assert failed == len(CONTACTS)
    assert t.fake.messages == []

    t.fake.clear_failures()
    replayed = await t.container.queue.replay(None)
    await _drain_until_sent(t, replayed)
    await t.container.queue.replay(None)
    await drain(t.container)

    print(
        f"outage: {len(dead)} deliveries dead-lettered, {failed} conversations failed; "
        f"replayed {replayed}; {len(t.fake.messages)} replies accepted"
    )
    got = _received(t)
    assert {contact: sorted(bodies) for contact, bodies in got.items()} == {
        contact: sorted(bodies) for contact, bodies in expected.items()
    }, "every reply exactly once"
    async with t.container.db.read() as session:
        statuses = set(await session.scalars(select(Conversation.status)))
    assert statuses == {"active"}


async def test_the_same_message_sid_delivered_five_times_at_once_gets_one_reply(
    connect: Connect,
) -> None:
    t = await connect()
    form = t.form(body="oi, tudo bem?")
    responses = await asyncio.gather(*(t.post_inbound(form) for _ in range(5)))
    await drain(t.container)

    print(
        f"posted MessageSid {form['MessageSid']} 5 times concurrently: "
        f"{[r.status_code for r in responses]}; {len(t.fake.messages)} reply sent"
    )
    assert [r.status_code for r in responses] == [200] * 5
    async with t.container.db.read() as session:
        events = await session.scalar(select(func.count()).select_from(InboundEvent))
    assert events == 1
    [sent] = t.fake.messages
    assert sent.body == "eco: oi, tudo bem?"


async def test_lost_answers_amid_errors_are_looked_up_and_nothing_is_sent_twice(
    connect: Connect,
) -> None:
    t = await connect(twilio={"request_timeout_s": 0.3})
    t.fake.stall_next(3, 0.8)  # accepted at Twilio, but the answer comes after we gave up
    t.fake.fail_next(4, 500, 20500, "Internal Server Error")
    expected = await _post_all(t)
    total = len(CONTACTS) * PER_CONTACT

    await _drain_until_sent(t, total)
    await asyncio.sleep(1.0)  # the stalled answers finish; nothing else may arrive
    await drain(t.container)

    lookups = [r for r in t.fake.requests if r.method == "GET" and r.path.endswith("Messages.json")]
    print(
        f"posted {total} messages; 3 creates answered too late, 4 refused with 500; "
        f"{len(lookups)} look-ups before resending; {len(t.fake.messages)} replies accepted"
    )
    assert lookups, "a lost answer is looked up before sending again"
    assert _received(t) == expected, "every reply once, in order per conversation"


async def test_many_messages_with_four_workers_are_each_answered_once_in_order(
    connect: Connect,
) -> None:
    # 240 messages keep the suite short; bench/throughput.py drives thousands the same way.
    t = await connect(queue={"concurrency": 4})
    contacts = [f"whatsapp:+55119{n:08d}" for n in range(24)]
    expected: dict[str, list[str]] = defaultdict(list)

    async def write(contact: str) -> None:
        for number in range(10):
            text = f"m{number:02d} de {contact[-4:]}"
            response = await t.post_inbound(t.form(body=text, from_=contact))
            assert response.status_code == 200, response.text
            expected[contact].append(f"eco: {text}")

    await asyncio.gather(*(write(contact) for contact in contacts))
    total = len(contacts) * 10
    # Four workers lease from the same queue at once, as four processes would.
    workers = [t.container.worker() for _ in range(4)]
    deadline = asyncio.get_running_loop().time() + 100
    while len(t.fake.messages) < total:
        await asyncio.gather(*(worker.run_until_idle() for worker in workers))
        assert asyncio.get_running_loop().time() < deadline, f"sent {len(t.fake.messages)}"
    await drain(t.container)
    print(f"{total} messages from {len(contacts)} contacts, 4 workers: {len(t.fake.messages)} sent")
    assert _received(t) == expected, "every reply once, in order per conversation"
    async with t.container.db.read() as session:
        events = await session.scalar(select(func.count()).select_from(InboundEvent))
    assert events == total
