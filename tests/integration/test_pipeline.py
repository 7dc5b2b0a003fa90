"""Pipeline invariants: one reply per message, arrival order, retries and dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import auth, drain, make_settings, run_coro
from whatsapp_ai.ai.service import Reply, TurnInput
from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.channels.models import InboundEvent, SandboxOutbox
from whatsapp_ai.cli import app as cli
from whatsapp_ai.conversation.models import Message
from whatsapp_ai.identity import service as identity

USER = "+5511999990001"


async def _post(client: httpx.AsyncClient, key: str, text: str, msg_id: str) -> None:
    response = await client.post(
        "/channels/sandbox/messages",
        json={"from": USER, "text": text, "id": msg_id},
        headers=auth(key),
    )
    assert response.status_code == 202, response.text


async def _tenant_key(container: Container) -> str:
    """A tenant named Loja and its API key."""
    async with container.db.transaction() as session:
        created = await identity.create_tenant(
            session, name="Loja", slug="loja", now=container.clock.now()
        )
        _k, key = await identity.create_api_key(
            session, tenant_id=created.id, name="k", now=container.clock.now()
        )
    return key


async def _messages(container: Container) -> list[Message]:
    async with container.db.read() as session:
        return list(await session.scalars(select(Message).order_by(Message.id)))


@dataclass
class SlowEcho:
    """Replies 'eco: <text>' after a delay, so turns overlap in time."""

    delay: float = 0.05

    async def reply(self, turn: TurnInput) -> Reply:
        await asyncio.sleep(self.delay)
        return Reply(text=f"eco: {turn.text}", model="echo", language="pt")


@dataclass
class Flaky:
    """Fails the first ``failures`` calls, then answers."""

    failures: int
    calls: int = 0

    async def reply(self, turn: TurnInput) -> Reply:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"provider down (call {self.calls}) for ana@example.com")
        return Reply(text="ok", model="flaky", language="pt")


@pytest.fixture
async def echo_container(db_url: str, tmp_path: Path) -> AsyncIterator[Container]:
    settings = make_settings(db_url, tmp_path, queue={"concurrency": 8})
    built = bootstrap(settings, reply_step=SlowEcho())
    yield built
    await built.close()


async def test_messages_of_one_conversation_are_answered_in_arrival_order(
    echo_container: Container,
) -> None:
    container = echo_container
    key = await _tenant_key(container)
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for n in range(6):
            await _post(client, key, f"mensagem {n}", f"order-{n}")
    worker = container.worker()
    runner = asyncio.create_task(worker.run())
    try:
        for _ in range(200):
            if len([m for m in await _messages(container) if m.author == "assistant"]) == 6:
                break
            await asyncio.sleep(0.05)
    finally:
        worker.stop()
        await runner
    messages = await _messages(container)
    assert [(m.author, m.body) for m in messages] == [
        pair
        for n in range(6)
        for pair in (("user", f"mensagem {n}"), ("assistant", f"eco: mensagem {n}"))
    ]
    by_id = {m.id: m for m in messages}
    for reply in (m for m in messages if m.author == "assistant"):
        assert reply.reply_to_id is not None
        assert reply.body == "eco: " + by_id[reply.reply_to_id].body


async def test_turn_and_delivery_jobs_run_twice_reply_once(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    await _post(client, tenant["key"], "oi", "twice-1")
    [job] = await container.queue.lease(limit=10)
    pipeline = container.pipeline
    await pipeline.handle_inbound(job.payload, job)
    await pipeline.handle_inbound(job.payload, job)  # a redelivered job
    assert await container.queue.complete(job)
    [deliver] = await container.queue.lease(limit=10)
    assert deliver.kind == "outbound.deliver"
    await pipeline.outbound.deliver(deliver.payload, deliver)
    await pipeline.outbound.deliver(deliver.payload, deliver)
    assert await container.queue.complete(deliver)
    assert await container.queue.lease(limit=10) == []
    async with container.db.read() as session:
        replies = await session.scalar(
            select(func.count()).select_from(Message).where(Message.author == "assistant")
        )
        sent = await session.scalar(select(func.count()).select_from(SandboxOutbox))
        status = await session.scalar(select(InboundEvent.status))
    assert (replies, sent, status) == (1, 1, "processed")


async def test_failing_reply_step_retries_then_dead_letters_with_cause(
    db_url: str, tmp_path: Path
) -> None:
    flaky = Flaky(failures=10)
    settings = make_settings(db_url, tmp_path, queue={"max_attempts": 3})
    container = bootstrap(settings, reply_step=flaky)
    try:
        key = await _tenant_key(container)
        transport = httpx.ASGITransport(app=create_app(container))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await _post(client, key, "oi", "flaky-1")
        worker = container.worker()
        for _ in range(100):
            await worker.run_until_idle()
            if await container.queue.list_jobs(status="dead"):
                break
            await asyncio.sleep(0.02)
        [dead] = await container.queue.list_jobs(status="dead")
        assert dead.kind == "inbound.handle"
        assert dead.attempts == 3
        assert dead.last_error is not None
        assert "provider down (call 3)" in dead.last_error
        assert "ana@example.com" not in dead.last_error  # causes are redacted like logs
        # Out of retries, the user still gets an answer: a fixed one, never an improvised one.
        messages = await _messages(container)
        assert [m.author for m in messages] == ["user", "assistant"]
        assert messages[1].body.startswith("Desculpe, não consegui responder")
        assert messages[1].meta["model"] == "fixed"
        await worker.run_until_idle()  # deliver it
        async with container.db.read() as session:
            status = await session.scalar(select(InboundEvent.status))
        assert status == "failed"

        # The failed message does not block the conversation: the next one is answered.
        flaky.failures = 0
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await _post(client, key, "e agora?", "flaky-2")
        await worker.run_until_idle()
        assert [m.author for m in await _messages(container)] == [
            "user",
            "assistant",
            "user",
            "assistant",
        ]
        # Replaying the dead letter answers nothing twice.
        assert await container.queue.replay([dead.id]) == 1
        await worker.run_until_idle()
        assert len(await _messages(container)) == 4
    finally:
        await container.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_jobs_cli_lists_dead_letters_and_replays_them(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def make_dead_job() -> str:
        container = bootstrap(make_settings(db_url, tmp_path))
        try:
            async with container.db.transaction() as session:
                await container.queue.enqueue(session, "no.such.kind", {"n": 1})
            await container.worker().run_until_idle()
            [dead] = await container.queue.list_jobs(status="dead")
            return dead.id
        finally:
            await container.close()

    job_id = run_coro(make_dead_job())
    monkeypatch.setenv("WHATSAPP_AI_DATABASE__URL", db_url)
    monkeypatch.setenv("WHATSAPP_AI_LOG__LEVEL", "WARNING")
    runner = CliRunner()
    listed = runner.invoke(cli, ["jobs", "list", "--status", "dead"])
    assert listed.exit_code == 0, listed.output
    assert job_id in listed.output
    assert "no handler for job kind 'no.such.kind'" in listed.output

    bad = runner.invoke(cli, ["jobs", "list", "--status", "weird"])
    assert bad.exit_code == 2

    replayed = runner.invoke(cli, ["jobs", "retry", job_id])
    assert replayed.exit_code == 0
    assert "requeued 1 dead job(s)" in replayed.output
    after = runner.invoke(cli, ["jobs", "list", "--status", "queued"])
    assert job_id in after.output


async def test_offline_step_reads_history_language(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    await _post(client, tenant["key"], "hello there, I need help", "lang-1")
    await _post(client, tenant["key"], "ok", "lang-2")
    await container.worker().run_until_idle()
    replies = [m.body for m in await _messages(container) if m.author == "assistant"]
    assert len(replies) == 2
    assert "I can record expenses" in replies[0]
    # "ok" alone says nothing; the conversation is English.
    assert replies[1].startswith(("I didn't quite get", "You're welcome", "Hello", "I'm", "Sure"))


@dataclass
class Counting:
    """Counts calls and how many run at once."""

    calls: int = 0
    running: int = 0
    most: int = 0

    async def reply(self, turn: TurnInput) -> Reply:
        self.calls += 1
        self.running += 1
        self.most = max(self.most, self.running)
        await asyncio.sleep(0.05)
        self.running -= 1
        return Reply(text=f"ok: {turn.text}", model="count", language="pt")


async def test_jobs_leased_together_never_run_one_conversation_twice(
    db_url: str, tmp_path: Path
) -> None:
    counting = Counting()
    container = bootstrap(
        make_settings(db_url, tmp_path, queue={"concurrency": 8}), reply_step=counting
    )
    try:
        key = await _tenant_key(container)
        transport = httpx.ASGITransport(app=create_app(container))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for n in range(3):
                await _post(client, key, f"pergunta {n}", f"batch-{n}")
        await drain(container)  # the first lease takes all three jobs in one batch
        assert counting.calls == 3  # one model call per message, not one per job and message
        assert counting.most == 1
        replies = [m.body for m in await _messages(container) if m.author == "assistant"]
        assert replies == ["ok: pergunta 0", "ok: pergunta 1", "ok: pergunta 2"]
    finally:
        await container.close()


async def test_a_message_with_nothing_readable_gets_a_fixed_reply(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    await _post(client, tenant["key"], "   ", "blank-1")
    await drain(container)
    [_user, reply] = await _messages(container)
    assert reply.body == "Não consegui entender esse tipo de mensagem. Pode escrever em texto?"
    assert reply.meta["model"] == "fixed"


async def test_the_contacts_chosen_name_and_language_reach_the_assistant(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    await _post(client, tenant["key"], "oi", "ctx-1")
    await drain(container)
    listed = await client.get("/identity/contacts", headers=auth(tenant["key"]))
    [contact] = listed.json()["items"]
    changed = await client.patch(
        f"/identity/contacts/{contact['id']}",
        json={"display_name": "Aninha Souza", "language": "en"},
        headers=auth(tenant["key"]),
    )
    assert changed.status_code == 200
    await _post(client, tenant["key"], "oi, tudo bem?", "ctx-2")
    await drain(container)
    last = [m.body for m in await _messages(container) if m.author == "assistant"][-1]
    # English, and by the chosen name ("oi, tudo bem?" is answered as small talk).
    assert last.startswith(("Hello, Aninha!", "I'm doing well, thanks for asking, Aninha!"))


async def test_a_contact_renames_themselves_and_switches_language_in_chat(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    other = await client.post(
        "/channels/sandbox/messages",
        json={"from": "+5511912345678", "text": "oi", "id": "other-1", "profile_name": "Bob"},
        headers=auth(tenant["key"]),
    )
    assert other.status_code == 202
    await drain(container)  # Bob is answered first, so the last reply below is Ana's
    await _post(client, tenant["key"], "me chame de Aninha", "prof-1")
    await drain(container)
    replies = [m.body for m in await _messages(container) if m.author == "assistant"]
    assert replies[-1] == "Combinado, vou te chamar de Aninha."

    # Whatever the text says about someone else, only the sender changes.
    await _post(
        client,
        tenant["key"],
        "responda em inglês e mude o nome do contato +5511912345678 para Carlos",
        "prof-2",
    )
    await _post(client, tenant["key"], "oi", "prof-3")
    await drain(container)
    replies = [m.body for m in await _messages(container) if m.author == "assistant"]
    assert replies[-2].startswith("Sure, from now on I'll answer in English.")
    assert replies[-1].startswith("Hello, Aninha!")
    listed = await client.get("/identity/contacts", headers=auth(tenant["key"]))
    contacts = {c["address"]: c for c in listed.json()["items"]}
    assert contacts["+5511999990001"]["display_name"] == "Aninha"
    assert contacts["+5511999990001"]["language"] == "en"
    assert contacts["+5511912345678"]["display_name"] is None
