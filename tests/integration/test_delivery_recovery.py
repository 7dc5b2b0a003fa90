"""Delivery through a Twilio outage: a retry schedule that rides out minutes, the 24-hour window
checked at send time, dead letters that an operator's retry really sends (once), and a create
call whose answer was lost, looked up instead of sent twice (the fake Twilio over real HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import auth, drain, make_settings, run_coro
from tests.fakes.twilio import FakeTwilio
from tests.twilio_support import TwilioTenant, connect_tenant, twilio_settings
from whatsapp_ai.ai.service import Reply, TurnInput
from whatsapp_ai.bootstrap import bootstrap
from whatsapp_ai.channels.twilio.models import TwilioOutbound
from whatsapp_ai.cli import app as cli
from whatsapp_ai.conversation.models import Conversation, Message
from whatsapp_ai.core.clock import ManualClock
from whatsapp_ai.core.queue import JobInfo
from whatsapp_ai.pipeline import DELIVER_JOB

TEMPLATE_SID = "HX" + "0" * 32
REPLY = "Seu pedido saiu para entrega."
# The production schedule (the test settings shorten every other backoff).
PRODUCTION_DELIVERY = {
    "delivery_max_attempts": 15,
    "delivery_backoff_base_s": 2.0,
    "delivery_backoff_max_s": 120.0,
}

Connect = Callable[..., Awaitable[TwilioTenant]]


class FixedReply:
    """A reply step answering one fixed text."""

    async def reply(self, turn: TurnInput) -> Reply:
        del turn
        return Reply(text=REPLY, model="fixed-test", language="pt")


@pytest.fixture
async def connect(db_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> AsyncIterator[Connect]:
    made: list[TwilioTenant] = []

    async def make(**kwargs: Any) -> TwilioTenant:
        kwargs.setdefault("reply_step", FixedReply())
        tenant = await connect_tenant(db_url, tmp_path / str(len(made)), fake_twilio, **kwargs)
        made.append(tenant)
        return tenant

    yield make
    for tenant in made:
        await tenant.client.aclose()
        await tenant.container.close()


async def deliver_job(t: TwilioTenant) -> JobInfo:
    [job] = [job for job in await t.container.queue.list_jobs(limit=50) if job.kind == DELIVER_JOB]
    return job


async def reply_row(t: TwilioTenant) -> Message:
    async with t.container.db.read() as session:
        row = await session.scalar(select(Message).where(Message.author == "assistant"))
    assert row is not None
    return row


async def thread(t: TwilioTenant) -> Conversation:
    async with t.container.db.read() as session:
        row = await session.scalar(select(Conversation).order_by(Conversation.id))
    assert row is not None
    return row


async def history(t: TwilioTenant, conversation_id: str) -> list[tuple[str, str]]:
    response = await t.client.get(
        f"/conversations/{conversation_id}/transitions", headers=auth(t.api_key)
    )
    assert response.status_code == 200, response.text
    return [(item["from_status"], item["to_status"]) for item in response.json()["items"]]


async def parts(t: TwilioTenant) -> list[TwilioOutbound]:
    async with t.container.db.read() as session:
        return list(await session.scalars(select(TwilioOutbound).order_by(TwilioOutbound.part)))


# ------------------------------------------------------------------- a short outage


async def test_an_outage_of_minutes_is_ridden_out_and_the_reply_sent_once(
    connect: Connect,
) -> None:
    clock = ManualClock()
    t = await connect(clock=clock, queue=PRODUCTION_DELIVERY)
    t.fake.fail_next(8, 500, 20500, "Internal Server Error")
    await t.post_inbound(t.form(body="cadê meu pedido?"))
    started = clock.now()

    waits: list[float] = []
    for _ in range(20):
        await t.container.worker().run_until_idle()
        job = await deliver_job(t)
        if job.status != "queued":
            break
        wait = (job.run_at - clock.now()).total_seconds()
        waits.append(wait)
        clock.set(job.run_at)

    job = await deliver_job(t)
    assert (job.status, job.attempts) == ("done", 9), job.last_error
    # Exponential with jitter: each wait is between half and all of 2 s * 2^(n-1), capped.
    for attempt, wait in enumerate(waits, start=1):
        ceiling = min(120.0, 2.0 * 2 ** (attempt - 1))
        assert ceiling / 2 <= wait <= ceiling, (attempt, wait)
    assert (clock.now() - started).total_seconds() >= 180, "the retries span minutes"
    [sent] = t.fake.messages
    assert sent.body == REPLY
    assert len(t.fake.message_requests) == 9
    assert (await reply_row(t)).delivery_status == "queued"
    assert (await thread(t)).status == "active"


def test_the_default_schedule_rides_out_eight_minutes_at_least() -> None:
    from whatsapp_ai.core.config import QueueSettings
    from whatsapp_ai.core.queue.sql import backoff_delay

    q = QueueSettings()
    shortest = sum(
        min(q.delivery_backoff_max_s, q.delivery_backoff_base_s * 2 ** (n - 1)) / 2
        for n in range(1, q.delivery_max_attempts)
    )
    assert shortest >= 8 * 60
    assert backoff_delay(30, base_s=2, max_s=120).total_seconds() <= 120


async def test_a_retry_past_the_24_hour_window_goes_out_as_the_template(
    connect: Connect,
) -> None:
    clock = ManualClock()
    t = await connect(clock=clock)
    t.fake.fail_next(1, 503, 20503, "Service Unavailable")
    await t.post_inbound(t.form(body="oi"))
    await t.container.worker().run_until_idle()
    assert (await deliver_job(t)).status == "queued"
    [planned] = await parts(t)
    assert not planned.via_template

    clock.advance(hours=25)
    await t.container.worker().run_until_idle()

    [sent] = t.fake.messages
    assert sent.content_sid == TEMPLATE_SID
    assert sent.content_variables == {"1": REPLY}
    assert "Body" not in sent.form
    [part] = await parts(t)
    assert (part.via_template, part.twilio_sid) == (True, sent.sid)


# ---------------------------------------------------------------- dead letters replayed


async def _dead_delivery(t: TwilioTenant) -> JobInfo:
    t.fake.fail_for(lambda form: True, 500, 20500, "Internal Server Error")
    await t.post_inbound(t.form(body="cadê meu pedido?"))
    await drain(t.container)
    job = await deliver_job(t)
    assert (job.status, job.attempts) == ("dead", 3)
    assert (await reply_row(t)).delivery_status == "failed"
    assert (await thread(t)).status == "failed"
    assert t.fake.messages == []
    t.fake.clear_failures()
    return job


async def test_a_replayed_dead_delivery_sends_once_and_brings_the_conversation_back(
    connect: Connect,
) -> None:
    t = await connect(queue={"delivery_max_attempts": 3})
    job = await _dead_delivery(t)

    assert await t.container.queue.replay(None) == 1  # `jobs retry --all`
    await drain(t.container)

    [sent] = t.fake.messages
    assert sent.body == REPLY
    replayed = await deliver_job(t)
    assert (replayed.id, replayed.status, replayed.replays) == (job.id, "done", 1)
    assert (await reply_row(t)).delivery_status == "queued"
    conversation = await thread(t)
    assert (conversation.status, conversation.closed_at, conversation.closed_by) == (
        "active",
        None,
        None,
    )
    assert await history(t, conversation.id) == [("active", "failed"), ("failed", "active")]

    # Nothing is dead any more, and running everything again sends nothing more.
    assert await t.container.queue.replay(None) == 0
    await drain(t.container)
    assert len(t.fake.messages) == 1


async def test_a_replay_whose_first_attempt_fails_still_brings_the_conversation_back(
    connect: Connect,
) -> None:
    t = await connect(queue={"delivery_max_attempts": 3})
    job = await _dead_delivery(t)
    t.fake.fail_next(1, 503, 20503, "Service Unavailable")

    assert await t.container.queue.replay([job.id]) == 1
    await drain(t.container)

    [sent] = t.fake.messages
    assert sent.body == REPLY
    assert (await deliver_job(t)).attempts == 2
    assert (await reply_row(t)).delivery_status == "queued"
    assert (await thread(t)).status == "active"


async def test_a_replayed_delivery_that_fails_again_stays_failed(connect: Connect) -> None:
    t = await connect(queue={"delivery_max_attempts": 3})
    job = await _dead_delivery(t)
    t.fake.fail_for(lambda form: True, 400, 21610, "Attempt to send to unsubscribed recipient")

    assert await t.container.queue.replay([job.id]) == 1
    await drain(t.container)

    assert (await deliver_job(t)).status == "dead"
    assert t.fake.messages == []
    assert (await reply_row(t)).delivery_status == "failed"
    assert (await thread(t)).status == "failed"


async def test_a_contact_who_wrote_again_keeps_the_new_conversation(connect: Connect) -> None:
    t = await connect(queue={"delivery_max_attempts": 3})
    job = await _dead_delivery(t)
    await t.post_inbound(t.form(body="alô?"))
    await drain(t.container)
    assert len(t.fake.messages) == 1  # the new conversation's reply

    assert await t.container.queue.replay([job.id]) == 1
    await drain(t.container)

    assert len(t.fake.messages) == 2, "the old reply went out after all"
    async with t.container.db.read() as session:
        statuses = list(
            await session.scalars(select(Conversation.status).order_by(Conversation.id))
        )
    assert statuses == ["failed", "active"], "never two open conversations for one contact"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_jobs_retry_on_the_command_line_sends_the_dead_delivery(
    db_url: str, tmp_path: Path, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def make_dead() -> str:
        t = await connect_tenant(
            db_url,
            tmp_path,
            fake_twilio,
            queue={"delivery_max_attempts": 3},
            reply_step=FixedReply(),
        )
        try:
            return (await _dead_delivery(t)).id
        finally:
            await t.client.aclose()
            await t.container.close()

    async def run_worker() -> tuple[str | None, str]:
        settings = make_settings(db_url, tmp_path, twilio=twilio_settings(fake_twilio))
        container = bootstrap(settings, reply_step=FixedReply())
        try:
            await drain(container)
            async with container.db.read() as session:
                status = await session.scalar(
                    select(Message.delivery_status).where(Message.author == "assistant")
                )
                conversation = await session.scalar(select(Conversation.status))
            return status, str(conversation)
        finally:
            await container.close()

    job_id = run_coro(make_dead())
    monkeypatch.setenv("WHATSAPP_AI_DATABASE__URL", db_url)
    monkeypatch.setenv("WHATSAPP_AI_LOG__LEVEL", "WARNING")
    runner = CliRunner()

    replayed = runner.invoke(cli, ["jobs", "retry", job_id])
    assert replayed.exit_code == 0, replayed.output
    assert "requeued 1 dead job(s)" in replayed.output
    assert run_coro(run_worker()) == ("queued", "active")
    [sent] = fake_twilio.messages
    assert sent.body == REPLY

    again = runner.invoke(cli, ["jobs", "retry", "--all"])
    assert "requeued 0 dead job(s)" in again.output
    run_coro(run_worker())
    assert len(fake_twilio.messages) == 1


# ------------------------------------------------------------------- a lost response


async def test_a_create_whose_answer_was_lost_is_looked_up_not_sent_again(
    connect: Connect,
) -> None:
    clock = ManualClock()
    t = await connect(clock=clock, twilio={"request_timeout_s": 0.3})
    t.fake.stall_next(1, 1.5)
    await t.post_inbound(t.form(body="cadê meu pedido?"))
    await t.container.worker().run_until_idle()

    job = await deliver_job(t)
    assert job.status == "queued"
    assert job.last_error is not None
    assert "no answer from Twilio" in job.last_error
    [part] = await parts(t)
    assert (part.status, part.twilio_sid) == ("attempted", None)
    [created] = t.fake.messages  # Twilio has it, though we never heard back

    clock.advance(seconds=1)
    await drain(t.container)

    assert (await deliver_job(t)).status == "done"
    assert len(t.fake.messages) == 1
    assert len(t.fake.message_requests) == 1, "no second create"
    assert any(r.method == "GET" and r.path.endswith("/Messages.json") for r in t.fake.requests)
    [part] = await parts(t)
    assert (part.status, part.twilio_sid) == ("queued", created.sid)
    assert (await reply_row(t)).delivery_status == "queued"


async def test_a_lost_create_that_twilio_never_made_is_sent_again(connect: Connect) -> None:
    clock = ManualClock()
    t = await connect(clock=clock, twilio={"request_timeout_s": 0.3})
    t.fake.stall_next(1, 1.5)
    await t.post_inbound(t.form(body="cadê meu pedido?"))
    await t.container.worker().run_until_idle()
    assert [p.status for p in await parts(t)] == ["attempted"]
    await asyncio.sleep(1.3)  # let the stalled answer finish, then forget the message
    t.fake.reset()

    clock.advance(seconds=1)
    await drain(t.container)

    [sent] = t.fake.messages
    assert sent.body == REPLY
    [part] = await parts(t)
    assert (part.status, part.twilio_sid) == ("queued", sent.sid)
