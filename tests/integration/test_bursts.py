"""Bursts: messages a contact sends close together, or while their turn runs, get one reply
that answers all of them, once, in order; a window of 0 answers each message on its own.

Time is a manual clock: the burst window passes when the test moves it, never by sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import auth, make_settings
from whatsapp_ai.ai.service import Reply, ReplyStep, TurnInput
from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.channels.models import InboundEvent, SandboxOutbox
from whatsapp_ai.conversation.models import Message
from whatsapp_ai.core.clock import ManualClock
from whatsapp_ai.identity import service as identity

USER = "+5511999990001"
WINDOW_MS = 1200


@dataclass
class Echo:
    """Answers 'eco: <text>' and keeps every text it was asked about; the first call can be
    held at a gate (a turn still running) and the first ``failures`` calls fail."""

    texts: list[str] = field(default_factory=list)
    failures: int = 0
    gate: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def reply(self, turn: TurnInput) -> Reply:
        self.texts.append(turn.text)
        self.entered.set()
        if self.gate is not None and len(self.texts) == 1:
            await self.gate.wait()
        if len(self.texts) <= self.failures:
            raise RuntimeError(f"provider down (call {len(self.texts)})")
        return Reply(text=f"eco: {turn.text}", model="echo", language="pt")


@dataclass
class Burst:
    """A container on a manual clock, its tenant, and an HTTP client on its API."""

    container: Container
    clock: ManualClock
    client: httpx.AsyncClient
    key: str

    async def post(self, text: str, message_id: str) -> None:
        response = await self.client.post(
            "/channels/sandbox/messages",
            json={"from": USER, "text": text, "id": message_id},
            headers=auth(self.key),
        )
        assert response.status_code == 202, response.text

    async def settle(self, rounds: int = 30) -> None:
        """Run jobs, moving the clock past every wait, until none is left."""
        worker = self.container.worker()
        for _ in range(rounds):
            await worker.run_until_idle()
            stats = await self.container.queue.stats()
            if stats.by_status["queued"] == 0 and stats.by_status["running"] == 0:
                return
            self.clock.advance(seconds=1)
        raise AssertionError(f"jobs left: {(await self.container.queue.stats()).by_status}")

    async def messages(self) -> list[Message]:
        async with self.container.db.read() as session:
            return list(await session.scalars(select(Message).order_by(Message.id)))

    async def events(self) -> list[InboundEvent]:
        async with self.container.db.read() as session:
            return list(await session.scalars(select(InboundEvent).order_by(InboundEvent.id)))

    async def sent(self) -> list[SandboxOutbox]:
        async with self.container.db.read() as session:
            return list(await session.scalars(select(SandboxOutbox).order_by(SandboxOutbox.id)))


async def _burst(
    db_url: str, tmp_path: Path, reply_step: ReplyStep | None, window_ms: int
) -> AsyncIterator[Burst]:
    clock = ManualClock()
    settings = make_settings(
        db_url, tmp_path, conversation={"burst_window_ms": window_ms}, queue={"concurrency": 8}
    )
    container = bootstrap(settings, clock=clock, reply_step=reply_step)
    async with container.db.transaction() as session:
        tenant = await identity.create_tenant(session, name="Loja", slug="loja", now=clock.now())
        _k, key = await identity.create_api_key(
            session, tenant_id=tenant.id, name="k", now=clock.now()
        )
    transport = httpx.ASGITransport(app=create_app(container))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield Burst(container, clock, client, key)
    finally:
        await container.close()


@pytest.fixture
async def echo() -> Echo:
    return Echo()


@pytest.fixture
async def burst(db_url: str, tmp_path: Path, echo: Echo) -> AsyncIterator[Burst]:
    async for built in _burst(db_url, tmp_path, echo, WINDOW_MS):
        yield built


def _answered(reply: Message) -> list[str]:
    return list(reply.meta["answers"])


async def test_a_burst_gets_one_reply_that_records_every_request(
    db_url: str, tmp_path: Path
) -> None:
    async for b in _burst(db_url, tmp_path, None, WINDOW_MS):  # the offline assistant
        for n, text in enumerate(["oi", "gastei 50 no mercado", "e 30 de uber"]):
            await b.post(text, f"burst-{n}")
            b.clock.advance(seconds=0.5)
        await b.container.worker().run_until_idle()
        # Inside the window nothing is answered yet: the jobs wait for the rest of the burst.
        assert [m.author for m in await b.messages()] == []
        b.clock.advance(seconds=1.2)
        await b.settle()

        messages = await b.messages()
        assert [m.author for m in messages] == ["user", "user", "user", "assistant"]
        *users, reply = messages
        assert [m.body for m in users] == ["oi", "gastei 50 no mercado", "e 30 de uber"]
        assert _answered(reply) == [m.id for m in users]
        assert reply.reply_to_id == users[0].id
        # Greeted, and both expenses recorded, in the one reply.
        assert reply.body.startswith("Olá!")
        assert "R$ 50,00" in reply.body
        assert "R$ 30,00" in reply.body
        assert [e.status for e in await b.events()] == ["processed"] * 3
        [sent] = await b.sent()
        assert sent.body == reply.body
        assert sent.reply_to_external_id == "burst-2"  # the reply follows the last message
        entries = await b.client.get("/finance/entries", headers=auth(b.key))
        amounts = sorted(float(item["amount"]) for item in entries.json()["items"])
        assert amounts == [30.0, 50.0]
        traces = await b.client.get("/assistant/traces", headers=auth(b.key))
        [listed] = traces.json()["items"]
        trace = await b.client.get(f"/assistant/traces/{listed['id']}", headers=auth(b.key))
        assert trace.json()["detail"]["answers"] == [m.id for m in users]


async def test_a_message_sent_during_a_turn_joins_the_next_turn_with_the_others_waiting(
    burst: Burst, echo: Echo
) -> None:
    echo.gate = asyncio.Event()
    await burst.post("primeira", "during-0")
    burst.clock.advance(seconds=2)
    running = asyncio.create_task(burst.container.worker().run_until_idle())
    await echo.entered.wait()  # the first turn is composing its reply
    await burst.post("segunda", "during-1")
    await burst.post("terceira", "during-2")
    burst.clock.advance(seconds=2)
    echo.gate.set()
    await running
    await burst.settle()

    assert echo.texts == ["primeira", "segunda;\nterceira"]
    messages = await burst.messages()
    assert [(m.author, m.body) for m in messages] == [
        ("user", "primeira"),
        ("assistant", "eco: primeira"),
        ("user", "segunda"),
        ("user", "terceira"),
        ("assistant", "eco: segunda;\nterceira"),
    ]
    assert _answered(messages[1]) == [messages[0].id]
    assert _answered(messages[4]) == [messages[2].id, messages[3].id]
    assert [s.body for s in await burst.sent()] == ["eco: primeira", "eco: segunda;\nterceira"]
    assert {e.status for e in await burst.events()} == {"processed"}


async def test_a_burst_is_answered_once_whatever_runs_twice(burst: Burst, echo: Echo) -> None:
    echo.failures = 1  # the first try of the turn fails: the job is retried
    for n in range(3):
        await burst.post(f"parte {n}", f"twice-{n}")
    await burst.post("parte 1", "twice-1")  # the channel delivers a message again
    burst.clock.advance(seconds=2)
    jobs = await burst.container.queue.lease(limit=10)
    assert len(jobs) == 3  # the redelivery was stored once, with no job of its own
    pipeline = burst.container.pipeline
    with pytest.raises(RuntimeError, match="provider down"):
        await pipeline.handle_inbound(jobs[0].payload, jobs[0])
    for job in jobs:  # each job run twice, the first one again after it answered
        await pipeline.handle_inbound(job.payload, job)
        await pipeline.handle_inbound(job.payload, job)
    for job in jobs:
        assert await burst.container.queue.complete(job)
    await burst.settle()

    assert echo.texts == ["parte 0;\nparte 1;\nparte 2"] * 2
    messages = await burst.messages()
    assert [m.author for m in messages] == ["user", "user", "user", "assistant"]
    assert _answered(messages[3]) == [m.id for m in messages[:3]]
    assert len(await burst.sent()) == 1
    assert [e.status for e in await burst.events()] == ["processed"] * 3


async def test_a_retried_burst_turn_records_nothing_twice(db_url: str, tmp_path: Path) -> None:
    @dataclass
    class FailsAfterReplying:
        """The offline assistant, whose first reply is lost after its tools ran."""

        inner: ReplyStep
        calls: int = 0

        async def reply(self, turn: TurnInput) -> Reply:
            self.calls += 1
            answer = await self.inner.reply(turn)
            if self.calls == 1:
                raise RuntimeError("worker lost after the tools ran")
            return answer

    async for b in _burst(db_url, tmp_path, None, WINDOW_MS):
        step = FailsAfterReplying(b.container.reply_step)
        b.container.reply_step = step
        await b.post("gastei 50 no mercado", "retry-0")
        await b.post("gastei 30 de uber", "retry-1")
        b.clock.advance(seconds=2)
        await b.container.worker().run_until_idle()  # the first try fails after recording
        await b.post("gastei 20 de pão", "retry-2")  # the retry finds one more message
        await b.settle()

        assert step.calls == 2
        replies = [m for m in await b.messages() if m.author == "assistant"]
        assert len(replies) == 1
        assert len(_answered(replies[0])) == 3
        entries = await b.client.get("/finance/entries", headers=auth(b.key))
        amounts = sorted(float(item["amount"]) for item in entries.json()["items"])
        assert amounts == [20.0, 30.0, 50.0]


async def test_a_burst_that_keeps_growing_is_answered_by_the_longest_wait(
    burst: Burst, echo: Echo
) -> None:
    # One message every second, each within the window of the one before, for 8 seconds:
    # the burst is answered once its first message waited burst_max_wait_ms (5 s).
    worker = burst.container.worker()
    for n in range(8):
        await burst.post(f"m{n}", f"grow-{n}")
        await worker.run_until_idle()
        burst.clock.advance(seconds=1)
    await burst.settle()
    assert echo.texts[0] == ";\n".join(f"m{n}" for n in range(6))
    assert len(echo.texts) == 2
    replies = [m for m in await burst.messages() if m.author == "assistant"]
    assert [len(_answered(r)) for r in replies] == [6, 2]


async def test_window_zero_answers_each_message_on_its_own_in_order(
    db_url: str, tmp_path: Path
) -> None:
    echo = Echo()
    async for b in _burst(db_url, tmp_path, echo, 0):
        for n in range(3):
            await b.post(f"mensagem {n}", f"zero-{n}")
        await b.settle()
        assert echo.texts == ["mensagem 0", "mensagem 1", "mensagem 2"]
        messages = await b.messages()
        assert [(m.author, m.body) for m in messages] == [
            pair
            for n in range(3)
            for pair in (("user", f"mensagem {n}"), ("assistant", f"eco: mensagem {n}"))
        ]
        for user, reply in zip(messages[::2], messages[1::2], strict=True):
            assert reply.reply_to_id == user.id
            assert _answered(reply) == [user.id]


async def test_bursts_of_two_contacts_stay_apart(burst: Burst, echo: Echo) -> None:
    await burst.post("oi", "ana-0")
    other = await burst.client.post(
        "/channels/sandbox/messages",
        json={"from": "+5511912345678", "text": "olá", "id": "bob-0"},
        headers=auth(burst.key),
    )
    assert other.status_code == 202
    await burst.post("tudo bem?", "ana-1")
    burst.clock.advance(seconds=2)
    await burst.settle()
    assert sorted(echo.texts) == ["oi;\ntudo bem?", "olá"]
    assert sorted(s.body for s in await burst.sent()) == ["eco: oi;\ntudo bem?", "eco: olá"]
