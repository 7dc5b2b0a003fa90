"""Delivering replies through Twilio: split, retries, idempotency, 24 h window, rate limit,
typing indicator, inbound media and delivery status callbacks (DESIGN.md sections 2 and 3)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.fakes.twilio import FakeTwilio, Form, new_sid, status_params
from tests.twilio_support import BUSINESS_NUMBER, TwilioTenant, connect_tenant
from whatsapp_ai.ai.service import Reply, TurnInput, fixed_reply
from whatsapp_ai.channels.models import MediaItem
from whatsapp_ai.channels.service import INBOUND_JOB, Outbound
from whatsapp_ai.channels.twilio import accounts
from whatsapp_ai.channels.twilio.models import TwilioOutbound
from whatsapp_ai.channels.twilio.sending import MAX_PART_CHARS, split_message
from whatsapp_ai.conversation.models import Message
from whatsapp_ai.core.clock import ManualClock
from whatsapp_ai.core.config import DatabaseSettings
from whatsapp_ai.core.db import Database, create_engine
from whatsapp_ai.core.queue import JobInfo
from whatsapp_ai.core.ratelimit import SharedRateLimiter
from whatsapp_ai.pipeline import DELIVER_JOB

TEMPLATE_SID = "HX" + "0" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4 + b"\xff\xd9"
OGG = b"OggS\x00\x02" + b"\x00" * 512
ATTACHMENT_FAILED = fixed_reply("attachment_failed", "pt")
VOICE_UNAVAILABLE = fixed_reply("voice_unavailable", "pt")

Connect = Callable[..., Awaitable[TwilioTenant]]


# ----------------------------------------------------------------------------- helpers


class FixedReply:
    """A reply step answering a fixed text and remembering every turn it saw."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.turns: list[TurnInput] = []

    async def reply(self, turn: TurnInput) -> Reply:
        self.turns.append(turn)
        return Reply(text=self.text, model="fixed-test", language="pt")


class StubSpeech:
    """A speech step that always hears the same sentence."""

    def __init__(self, transcript: str) -> None:
        self.transcript = transcript
        self.calls: list[tuple[int, str]] = []

    async def transcribe(self, audio: bytes, content_type: str) -> str | None:
        self.calls.append((len(audio), content_type))
        return self.transcript


def sentences_text(target_chars: int) -> str:
    """Distinct sentences until about ``target_chars`` characters."""
    sentences: list[str] = []
    index = 0
    while sum(len(s) + 1 for s in sentences) < target_chars:
        index += 1
        sentences.append(f"Frase número {index} explica com calma mais um detalhe do seu pedido.")
    return " ".join(sentences)


def squash(text: str) -> str:
    """The text without any whitespace (parts are compared modulo whitespace)."""
    return "".join(text.split())


@pytest.fixture
async def connect(db_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> AsyncIterator[Connect]:
    """Build tenants with custom settings/clock/steps; everything is closed afterwards."""
    made: list[TwilioTenant] = []

    async def make(**kwargs: Any) -> TwilioTenant:
        tenant = await connect_tenant(db_url, tmp_path, fake_twilio, **kwargs)
        made.append(tenant)
        return tenant

    yield make
    for tenant in made:
        await tenant.client.aclose()
        await tenant.container.close()


async def run(t: TwilioTenant) -> int:
    """Run every ready job."""
    return await t.container.worker().run_until_idle()


async def post(t: TwilioTenant, form: dict[str, str]) -> None:
    response = await t.post_inbound(form)
    assert response.status_code == 200, response.text


async def run_turns_only(t: TwilioTenant) -> None:
    """Run the ready inbound jobs (the turn), leaving the deliver jobs they create queued."""
    queue = t.container.queue
    jobs = await queue.lease(limit=10)
    assert jobs, "no inbound job was ready"
    for job in jobs:
        assert job.kind == INBOUND_JOB, job.kind
        await t.container.pipeline.handle_inbound(job.payload, job)
        assert await queue.complete(job)


async def deliver_jobs(t: TwilioTenant) -> list[JobInfo]:
    """Deliver jobs, oldest first."""
    jobs = await t.container.queue.list_jobs(limit=200)
    return sorted((job for job in jobs if job.kind == DELIVER_JOB), key=lambda job: job.id)


async def parts(t: TwilioTenant) -> list[TwilioOutbound]:
    """Every stored outbound part, by message then part."""
    async with t.container.db.read() as session:
        rows = await session.scalars(
            select(TwilioOutbound).order_by(TwilioOutbound.message_id, TwilioOutbound.part)
        )
        return list(rows)


async def media_items(t: TwilioTenant) -> list[MediaItem]:
    async with t.container.db.read() as session:
        return list(await session.scalars(select(MediaItem).order_by(MediaItem.id)))


async def messages_of(t: TwilioTenant, author: str) -> list[Message]:
    async with t.container.db.read() as session:
        rows = await session.scalars(
            select(Message).where(Message.author == author).order_by(Message.id)
        )
        return list(rows)


async def api_messages(t: TwilioTenant) -> list[dict[str, Any]]:
    """The (only) conversation's messages as the REST API shows them."""
    headers = {"Authorization": f"Bearer {t.api_key}"}
    listed = await t.client.get("/conversations", headers=headers)
    assert listed.status_code == 200, listed.text
    [conversation] = listed.json()["items"]
    page = await t.client.get(f"/conversations/{conversation['id']}/messages", headers=headers)
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["items"]
    return items


async def api_delivery_status(t: TwilioTenant) -> str | None:
    """The delivery status of the last assistant message, through the API."""
    replies = [item for item in await api_messages(t) if item["author"] == "assistant"]
    status: str | None = replies[-1]["delivery_status"]
    return status


async def callback(t: TwilioTenant, sid: str, status: str, **kwargs: Any) -> None:
    response = await t.post_status(status_params(sid, status, t.account_sid, **kwargs))
    assert response.status_code == 204, response.text


def media_form(
    t: TwilioTenant,
    content: bytes = JPEG,
    content_type: str = "image/jpeg",
    *,
    declared: str | None = None,
    body: str = "",
    **media_options: Any,
) -> tuple[dict[str, str], str]:
    """An inbound form with one attachment registered on the fake; (form, media SID)."""
    message_sid, media_sid = new_sid("MM"), new_sid("ME")
    url = t.fake.add_media(
        t.account_sid, message_sid, media_sid, content, content_type, **media_options
    )
    form = t.form(body=body, message_sid=message_sid, media=[(url, declared or content_type)])
    return form, media_sid


def failing_nth(n: int) -> Callable[[Form], bool]:
    """A fail_for predicate matching only the n-th create it sees (1-based)."""
    seen = [0]

    def predicate(_form: Form) -> bool:
        seen[0] += 1
        return seen[0] == n

    return predicate


# ------------------------------------------------------------------------------- split


def test_split_message_prefers_sentence_ends() -> None:
    text = sentences_text(4000)
    chunks = split_message(text)
    assert len(chunks) == 3
    assert all(len(chunk) <= MAX_PART_CHARS for chunk in chunks)
    assert all(chunk.endswith(".") for chunk in chunks)
    assert squash("".join(chunks)) == squash(text)


def test_split_message_without_sentence_end_cuts_at_a_space() -> None:
    words = [f"palavra{index:04d}" for index in range(390)]  # 4679 chars, no punctuation
    text = " ".join(words)
    chunks = split_message(text)
    assert len(chunks) == 3
    assert all(len(chunk) <= MAX_PART_CHARS for chunk in chunks)
    # Cut at the last space that fits, not earlier.
    assert all(len(chunk) > MAX_PART_CHARS - 12 for chunk in chunks[:-1])
    # Every cut fell between words: no word was broken in two.
    assert [word for chunk in chunks for word in chunk.split(" ")] == words


def test_split_message_hard_cuts_a_single_long_word() -> None:
    text = "x" * 5000
    chunks = split_message(text)
    assert [len(chunk) for chunk in chunks] == [1600, 1600, 1600, 200]
    assert "".join(chunks) == text


def test_split_message_keeps_short_text_whole() -> None:
    assert split_message("  Olá! Tudo certo.  ") == ["Olá! Tudo certo."]
    assert split_message("x" * MAX_PART_CHARS) == ["x" * MAX_PART_CHARS]


async def test_long_reply_goes_out_in_order_as_parts(connect: Connect) -> None:
    text = sentences_text(4000)
    assert 3800 < len(text) < 4200
    t = await connect(reply_step=FixedReply(text))
    form = t.form(body="me explica tudo")
    await post(t, form)
    await run(t)

    sent = t.fake.messages
    bodies = [message.body or "" for message in sent]
    assert len(sent) == 3
    assert all(message.to == form["From"] for message in sent)
    assert all(len(body) <= 1600 for body in bodies)
    assert all(body.endswith(".") for body in bodies), "each cut is after a sentence end"
    assert squash("".join(bodies)) == squash(text)
    assert bodies == split_message(text)
    assert [row.twilio_sid for row in await parts(t)] == [message.sid for message in sent]


# ----------------------------------------------------------------------------- retries


async def test_429_waits_for_retry_after_then_sends_once(connect: Connect) -> None:
    clock = ManualClock()
    t = await connect(clock=clock, reply_step=FixedReply("Seu pedido saiu para entrega."))
    t.fake.fail_next(2, 429, 20429, "Too Many Requests", retry_after=7)
    await post(t, t.form(body="cadê meu pedido?"))
    await run(t)

    [job] = await deliver_jobs(t)
    assert job.status == "queued"
    assert job.attempts == 1
    assert abs((job.run_at - clock.now()).total_seconds() - 7) < 0.5
    assert job.last_error is not None
    assert "429" in job.last_error
    assert t.fake.messages == []
    assert len(t.fake.message_requests) == 1
    [part] = await parts(t)
    assert (part.status, part.twilio_sid) == ("retrying", None)

    assert await run(t) == 0, "not due before Retry-After"
    clock.advance(seconds=7)
    await run(t)
    [job] = await deliver_jobs(t)
    assert (job.status, job.attempts) == ("queued", 2)
    assert t.fake.messages == []

    clock.advance(seconds=7)
    await run(t)
    [job] = await deliver_jobs(t)
    assert (job.status, job.attempts) == ("done", 3)
    [sent] = t.fake.messages
    assert sent.body == "Seu pedido saiu para entrega."
    assert len(t.fake.message_requests) == 3
    await run(t)
    assert len(t.fake.messages) == 1
    [part] = await parts(t)
    assert (part.status, part.twilio_sid) == ("queued", sent.sid)


async def test_5xx_is_retried_with_growing_backoff(connect: Connect) -> None:
    clock = ManualClock()
    t = await connect(clock=clock, reply_step=FixedReply("Tudo certo por aqui."))
    t.fake.fail_next(2, 500, 20500, "Internal Server Error")
    await post(t, t.form(body="oi"))
    await run(t)

    [job] = await deliver_jobs(t)
    first = (job.run_at - clock.now()).total_seconds()
    assert (job.status, job.attempts) == ("queued", 1)
    assert 0 < first <= 0.05  # test backoff: base 0.01 s, max 0.05 s
    assert job.last_error is not None
    assert "500" in job.last_error

    clock.advance(seconds=1)
    await run(t)
    [job] = await deliver_jobs(t)
    second = (job.run_at - clock.now()).total_seconds()
    assert (job.status, job.attempts) == ("queued", 2)
    assert first <= second <= 0.05
    assert t.fake.messages == []

    clock.advance(seconds=1)
    await run(t)
    [job] = await deliver_jobs(t)
    assert job.status == "done"
    assert len(t.fake.messages) == 1
    assert len(t.fake.message_requests) == 3


async def test_invalid_recipient_is_not_retried(connect: Connect) -> None:
    clock = ManualClock()
    t = await connect(clock=clock, reply_step=FixedReply("Olá!"))
    t.fake.fail_next(1, 400, 21211, "The 'To' number is not a valid phone number.")
    await post(t, t.form(body="oi"))
    await run(t)
    clock.advance(hours=1)
    await run(t)

    [job] = await deliver_jobs(t)
    assert (job.status, job.attempts) == ("dead", 1)
    assert job.last_error is not None
    assert "21211" in job.last_error
    assert len(t.fake.message_requests) == 1
    assert t.fake.messages == []
    [part] = await parts(t)
    assert (part.status, part.error_code, part.twilio_sid) == ("failed", 21211, None)
    assert part.error_message is not None
    assert "valid phone number" in part.error_message
    assert await api_delivery_status(t) == "failed"


async def test_failed_middle_part_resumes_without_resending_earlier_parts(
    connect: Connect,
) -> None:
    clock = ManualClock()
    text = sentences_text(4000)
    t = await connect(clock=clock, reply_step=FixedReply(text))
    t.fake.fail_for(failing_nth(2), 503, 20503, "Service Unavailable")
    await post(t, t.form(body="me explica tudo"))
    await run(t)
    assert len(t.fake.messages) == 1
    assert [row.status for row in await parts(t)] == ["queued", "retrying", "pending"]

    clock.advance(seconds=1)
    await run(t)
    bodies = [message.body for message in t.fake.messages]
    assert bodies == split_message(text), "each part once, in order"
    [job] = await deliver_jobs(t)
    assert (job.status, job.attempts) == ("done", 2)


# ------------------------------------------------------------------------- idempotency


async def test_delivering_the_same_job_twice_sends_each_part_once(connect: Connect) -> None:
    text = sentences_text(3500)
    t = await connect(reply_step=FixedReply(text))
    form = t.form(body="me explica tudo")
    await post(t, form)
    await run_turns_only(t)

    [job] = await t.container.queue.lease(limit=10)
    assert job.kind == DELIVER_JOB
    pipeline = t.container.pipeline
    await pipeline.outbound.deliver(job.payload, job)
    await pipeline.outbound.deliver(job.payload, job)
    assert len(t.fake.messages) == 3

    # Even the channel itself, asked again for the same message, sends nothing more.
    again = await t.container.channels["twilio"].send(
        Outbound(
            tenant_id=t.tenant_id,
            message_id=job.payload["message_id"],
            recipient=job.payload["recipient"],
            body=text,
            reply_to_external_id=form["MessageSid"],
            address=job.payload["address"],
        )
    )
    sent = t.fake.messages
    assert len(sent) == 3
    assert len(t.fake.message_requests) == 3
    rows = await parts(t)
    assert [row.part for row in rows] == [0, 1, 2]
    assert [row.twilio_sid for row in rows] == [message.sid for message in sent]
    assert again.external_id == sent[0].sid
    assert await t.container.queue.complete(job)
    [reply] = await messages_of(t, "assistant")
    assert reply.delivery_status == "queued"


# ---------------------------------------------------------------------- 24-hour window


async def test_outside_the_24_hour_window_the_template_is_used(connect: Connect) -> None:
    clock = ManualClock()
    t = await connect(clock=clock, reply_step=FixedReply("Seu boleto vence amanhã."))
    await post(t, t.form(body="oi"))
    await run(t)
    [first] = t.fake.messages
    assert first.body == "Seu boleto vence amanhã."
    assert first.content_sid is None

    await post(t, t.form(body="e o boleto?"))
    await run_turns_only(t)
    clock.advance(hours=25)
    await run(t)

    assert len(t.fake.messages) == 2
    last = t.fake.messages[-1]
    assert last.content_sid == TEMPLATE_SID
    assert last.content_variables == {"1": "Seu boleto vence amanhã."}
    assert "Body" not in last.form
    rows = await parts(t)
    assert [row.via_template for row in rows] == [False, True]
    assert all(job.status == "done" for job in await deliver_jobs(t))


async def test_error_63016_falls_back_to_the_template_in_the_same_job(connect: Connect) -> None:
    t = await connect(reply_step=FixedReply("Podemos confirmar seu horário?"))
    t.fake.fail_for(
        lambda f: "Body" in f and "ContentSid" not in f,
        400,
        63016,
        "Failed to send freeform message because you are outside the allowed window.",
    )
    await post(t, t.form(body="oi"))
    await run(t)

    assert [r.status for r in t.fake.message_requests] == [400, 201]
    [sent] = t.fake.messages
    assert sent.content_sid == TEMPLATE_SID
    assert sent.content_variables == {"1": "Podemos confirmar seu horário?"}
    assert sent.body is None
    [job] = await deliver_jobs(t)
    assert (job.status, job.attempts) == ("done", 1)
    [part] = await parts(t)
    assert (part.via_template, part.status, part.twilio_sid) == (True, "queued", sent.sid)


async def _drop_template(t: TwilioTenant) -> None:
    async with t.container.db.transaction() as session:
        await accounts.upsert_account(
            session,
            t.container.box,
            tenant_id=t.tenant_id,
            account_sid=t.account_sid,
            auth_token=t.auth_token,
            whatsapp_number=BUSINESS_NUMBER,
            template_content_sid=None,
            now=t.container.clock.now(),
        )


async def test_outside_the_window_without_a_template_is_a_dead_letter(connect: Connect) -> None:
    clock = ManualClock()
    t = await connect(clock=clock, reply_step=FixedReply("Lembrete do seu horário."))
    await _drop_template(t)
    await post(t, t.form(body="oi"))
    await run_turns_only(t)
    clock.advance(hours=25)
    await run(t)

    [job] = await deliver_jobs(t)
    assert (job.status, job.attempts) == ("dead", 1)
    assert job.last_error is not None
    assert "24-hour window" in job.last_error
    assert t.fake.message_requests == []


async def test_63016_without_a_template_is_a_dead_letter(connect: Connect) -> None:
    t = await connect(reply_step=FixedReply("Olá!"))
    await _drop_template(t)
    t.fake.fail_for(lambda f: "Body" in f, 400, 63016, "Outside the allowed window.")
    await post(t, t.form(body="oi"))
    await run(t)

    [job] = await deliver_jobs(t)
    assert job.status == "dead"
    assert job.last_error is not None
    assert "63016" in job.last_error
    assert len(t.fake.message_requests) == 1
    [part] = await parts(t)
    assert (part.status, part.error_code) == ("failed", 63016)


# -------------------------------------------------------------------------- rate limit


async def test_parts_are_spaced_by_the_send_rate(connect: Connect) -> None:
    text = sentences_text(3500)
    t = await connect(reply_step=FixedReply(text), twilio={"send_rate_per_s": 2})
    await post(t, t.form(body="me explica tudo"))
    await run(t)

    sent = t.fake.messages
    assert len(sent) == 3
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(sent)]
    assert all(gap >= 0.45 for gap in gaps), gaps


async def test_a_slot_too_far_away_retries_later(connect: Connect) -> None:
    clock = ManualClock()
    text = sentences_text(2500)  # two parts
    t = await connect(
        clock=clock,
        reply_step=FixedReply(text),
        twilio={"send_rate_per_s": 0.1, "max_rate_wait_s": 1},
    )
    await post(t, t.form(body="me explica tudo"))
    await run(t)

    assert len(t.fake.messages) == 1, "the first slot is free, the second is 10 s away"
    [job] = await deliver_jobs(t)
    # Waiting for capacity is a snooze: the job keeps all its attempts.
    assert (job.status, job.attempts) == ("queued", 0)
    assert abs((job.run_at - clock.now()).total_seconds() - 10) < 0.5
    assert [row.status for row in await parts(t)] == ["queued", "pending"]


async def test_a_part_postponed_by_the_rate_limit_is_sent_when_its_slot_comes(
    connect: Connect,
) -> None:
    clock = ManualClock()
    text = sentences_text(2500)
    t = await connect(
        clock=clock,
        reply_step=FixedReply(text),
        twilio={"send_rate_per_s": 0.1, "max_rate_wait_s": 1},
    )
    await post(t, t.form(body="me explica tudo"))
    await run(t)
    for _ in range(3):
        [job] = await deliver_jobs(t)
        if job.status != "queued":
            break
        clock.set(job.run_at)
        await run(t)

    assert [message.body for message in t.fake.messages] == split_message(text)
    [job] = await deliver_jobs(t)
    assert job.status == "done"


async def test_rate_limiter_hands_out_growing_shared_slots(db_url: str) -> None:
    clock = ManualClock()
    first_db = Database(create_engine(DatabaseSettings(url=db_url)))
    second_db = Database(create_engine(DatabaseSettings(url=db_url)))
    try:
        one = SharedRateLimiter(first_db, clock)
        two = SharedRateLimiter(second_db, clock)
        waits = [(await one.reserve("twilio:+1555", 0.5))[1] for _ in range(3)]
        assert waits == [timedelta(0), timedelta(seconds=2), timedelta(seconds=4)]
        # Another process (engine) on the same database continues the same schedule.
        assert await two.reserve("twilio:+1555", 0.5) == (True, timedelta(seconds=6))
        # Another key has its own schedule.
        assert await two.reserve("twilio:+1666", 0.5) == (True, timedelta(0))
        clock.advance(seconds=3)
        assert await one.reserve("twilio:+1555", 0.5) == (True, timedelta(seconds=5))
        # A slot beyond max_wait is reported, not taken: asking again gives the same slot.
        limit = timedelta(seconds=1)
        assert await one.reserve("twilio:+1555", 0.5, max_wait=limit) == (
            False,
            timedelta(seconds=7),
        )
        assert await two.reserve("twilio:+1555", 0.5, max_wait=limit) == (
            False,
            timedelta(seconds=7),
        )

        # Concurrent reservations from both processes never share a slot.
        concurrent = await asyncio.gather(
            *((one if index % 2 else two).reserve("twilio:+1777", 10) for index in range(10))
        )
        assert sorted(wait for _ok, wait in concurrent) == [
            timedelta(seconds=index / 10) for index in range(10)
        ]
    finally:
        await first_db.dispose()
        await second_db.dispose()


# -------------------------------------------------------------------- typing indicator


class SlowReply(FixedReply):
    """A reply step that takes a moment (long enough for the typing indicator)."""

    async def reply(self, turn: TurnInput) -> Reply:
        await asyncio.sleep(0.3)
        return await super().reply(turn)


def show_typing_after(t: TwilioTenant, seconds: float) -> None:
    """Set how long a reply may take before the typing indicator is shown."""
    t.container.settings.conversation.typing_after_s = seconds


async def test_typing_indicator_is_shown_before_a_slow_reply(connect: Connect) -> None:
    t = await connect(reply_step=SlowReply("Um momento."), twilio={"typing_indicator": True})
    show_typing_after(t, 0.05)
    form = t.form(body="oi")
    await post(t, form)
    await run(t)

    [typing] = t.fake.typing
    [sent] = t.fake.messages
    assert typing.message_id == form["MessageSid"]
    assert typing.channel == "whatsapp"
    assert typing.account_sid == t.account_sid
    assert typing.at <= sent.at
    assert sent.body == "Um momento."


async def test_no_typing_indicator_when_the_reply_is_quick(connect: Connect) -> None:
    t = await connect(reply_step=FixedReply("Pronto."), twilio={"typing_indicator": True})
    show_typing_after(t, 5)
    await post(t, t.form(body="oi"))
    await run(t)
    assert len(t.fake.messages) == 1
    assert t.fake.typing == []


async def test_a_failing_typing_indicator_does_not_block_the_reply(connect: Connect) -> None:
    t = await connect(reply_step=SlowReply("Um momento."), twilio={"typing_indicator": True})
    show_typing_after(t, 0.05)
    t.fake.fail_next(1, 500, 20500, "boom", endpoint="typing")
    await post(t, t.form(body="oi"))
    await run(t)
    assert [r.status for r in t.fake.requests if "Typing" in r.path] == [500]
    assert t.fake.typing == []
    assert len(t.fake.messages) == 1
    assert all(job.status == "done" for job in await t.container.queue.list_jobs())


async def test_typing_indicator_is_off_by_default(connect: Connect) -> None:
    t = await connect(reply_step=SlowReply("Um momento."))
    show_typing_after(t, 0.05)
    await post(t, t.form(body="oi"))
    await run(t)
    assert len(t.fake.messages) == 1
    assert t.fake.typing == []


# ------------------------------------------------------------------------------- media


async def test_image_is_fetched_with_auth_through_the_cdn_and_stored(
    twilio_tenant: TwilioTenant,
) -> None:
    t = twilio_tenant
    form, media_sid = media_form(t)
    await post(t, form)
    await run(t)

    requests = t.fake.media_requests
    assert [(r.path.rsplit("/", 2)[-2], r.status) for r in requests] == [
        ("Media", 307),
        ("cdn", 200),
    ]
    assert requests[0].path.endswith(f"/Messages/{form['MessageSid']}/Media/{media_sid}")
    assert requests[0].had_auth
    assert requests[0].auth_ok
    assert not requests[1].had_auth, "credentials never follow a redirect"

    [item] = await media_items(t)
    assert item.status == "stored"
    assert (item.content_type, item.size_bytes, item.reason) == ("image/jpeg", len(JPEG), None)
    assert item.blob_key is not None
    assert await t.container.blobs.get(item.blob_key) == JPEG

    [sent] = t.fake.messages
    assert sent.body is not None
    assert "arquivo" in sent.body
    assert ATTACHMENT_FAILED not in sent.body


async def _assert_refused(t: TwilioTenant, *reason_parts: str) -> MediaItem:
    """The attachment was refused, the message kept and the user told the fixed reply."""
    [item] = await media_items(t)
    assert item.status == "refused", (item.status, item.reason)
    assert item.blob_key is None
    for part in reason_parts:
        assert part in (item.reason or ""), item.reason
    [user] = await messages_of(t, "user")
    assert user.source_event_id == item.event_id
    [reply] = await messages_of(t, "assistant")
    assert reply.body == ATTACHMENT_FAILED
    return item


async def test_too_large_image_is_refused_and_the_user_told(connect: Connect) -> None:
    t = await connect(twilio={"media_image_max_bytes": 100})
    form, _ = media_form(t)
    await post(t, form)
    await run(t)

    item = await _assert_refused(t, "over 100")
    with pytest.raises(KeyError):
        await t.container.blobs.get(f"{t.tenant_id}/media/{item.id}")
    [sent] = t.fake.messages
    assert sent.body == ATTACHMENT_FAILED
    assert sent.body.startswith("Não consegui abrir o arquivo")


async def test_declared_type_not_accepted_is_refused_without_download(
    twilio_tenant: TwilioTenant,
) -> None:
    t = twilio_tenant
    form, _ = media_form(t, b"MZ\x90\x00" * 64, "application/x-msdownload")
    await post(t, form)
    await run(t)

    await _assert_refused(t, "application/x-msdownload")
    assert t.fake.media_requests == []
    [sent] = t.fake.messages
    assert sent.body == ATTACHMENT_FAILED


async def test_served_type_not_accepted_is_refused_after_download(
    twilio_tenant: TwilioTenant,
) -> None:
    t = twilio_tenant
    form, _ = media_form(t, b"MZ\x90\x00" * 64, "application/x-msdownload", declared="image/jpeg")
    await post(t, form)
    await run(t)

    item = await _assert_refused(t, "application/x-msdownload")
    with pytest.raises(KeyError):
        await t.container.blobs.get(f"{t.tenant_id}/media/{item.id}")


async def test_media_url_on_a_foreign_host_is_refused_without_a_request(
    twilio_tenant: TwilioTenant,
) -> None:
    t = twilio_tenant
    form = t.form(media=[("https://evil.example.com/x.jpg", "image/jpeg")])
    await post(t, form)
    await run(t)

    await _assert_refused(t, "not a media URL of this tenant's Twilio account")
    assert t.fake.media_requests == []
    assert len(t.fake.messages) == 1


async def test_media_url_of_another_twilio_account_is_refused_without_a_request(
    twilio_tenant: TwilioTenant,
) -> None:
    t = twilio_tenant
    other_sid, _token = t.fake.create_account()
    message_sid, media_sid = new_sid("MM"), new_sid("ME")
    url = t.fake.add_media(other_sid, message_sid, media_sid, JPEG, "image/jpeg")
    await post(t, t.form(message_sid=message_sid, media=[(url, "image/jpeg")]))
    await run(t)

    await _assert_refused(t, "not a media URL of this tenant's Twilio account")
    assert t.fake.media_requests == [], "the tenant's credentials never go to another account"


async def test_redirect_outside_the_media_cdn_is_refused(twilio_tenant: TwilioTenant) -> None:
    t = twilio_tenant
    message_sid, media_sid = new_sid("MM"), new_sid("ME")
    url = t.fake.add_redirect_media(
        t.account_sid, message_sid, media_sid, location="http://localhost:1/steal"
    )
    await post(t, t.form(message_sid=message_sid, media=[(url, "image/jpeg")]))
    await run(t)

    await _assert_refused(t, "outside Twilio's media CDN", "localhost")
    assert [r.status for r in t.fake.media_requests] == [307]


async def test_plain_http_media_is_refused_when_private_addresses_are_not_allowed(
    connect: Connect,
) -> None:
    t = await connect(twilio={"media_allow_private": False})
    form, _ = media_form(t)
    await post(t, form)
    await run(t)

    await _assert_refused(t, "only https")
    assert t.fake.media_requests == []


async def test_media_on_a_private_address_is_refused(
    connect: Connect, fake_twilio: FakeTwilio
) -> None:
    # Twilio's API base served over https but resolving to loopback: the fetcher must refuse
    # before connecting. Only the turn runs (this API base is not reachable for sending).
    del fake_twilio
    t = await connect(twilio={"media_allow_private": False, "api_base": "https://127.0.0.1"})
    message_sid, media_sid = new_sid("MM"), new_sid("ME")
    url = (
        f"https://127.0.0.1/2010-04-01/Accounts/{t.account_sid}"
        f"/Messages/{message_sid}/Media/{media_sid}"
    )
    await post(t, t.form(message_sid=message_sid, media=[(url, "image/jpeg")]))
    await run_turns_only(t)

    await _assert_refused(t, "non-public address", "127.0.0.1")
    assert t.fake.media_requests == []


async def test_media_not_found_at_first_is_retried_then_stored(connect: Connect) -> None:
    t = await connect(twilio={"media_not_found_retries": 3})
    form, _ = media_form(t, not_found_times=2)
    await post(t, form)
    await run(t)

    assert [r.status for r in t.fake.media_requests] == [404, 404, 307, 200]
    [item] = await media_items(t)
    assert item.status == "stored"
    assert item.blob_key is not None
    assert await t.container.blobs.get(item.blob_key) == JPEG
    [sent] = t.fake.messages
    assert sent.body != ATTACHMENT_FAILED


async def test_media_never_found_fails_after_the_retries(connect: Connect) -> None:
    t = await connect(twilio={"media_not_found_retries": 1})
    form, _ = media_form(t, not_found_times=5)
    await post(t, form)
    await run(t)

    assert [r.status for r in t.fake.media_requests] == [404, 404]
    [item] = await media_items(t)
    assert (item.status, item.reason) == ("failed", "media not found at Twilio")
    [sent] = t.fake.messages
    assert sent.body == ATTACHMENT_FAILED


async def test_voice_note_without_speech_gets_the_fixed_reply(twilio_tenant: TwilioTenant) -> None:
    t = twilio_tenant
    form, _ = media_form(t, OGG, "audio/ogg")
    await post(t, form)
    await run(t)

    [item] = await media_items(t)
    assert item.status == "stored"
    assert item.transcript is None
    [sent] = t.fake.messages
    assert sent.body == VOICE_UNAVAILABLE
    assert "ainda não consigo ouvir" in sent.body


async def test_voice_note_transcript_reaches_the_reply_step(connect: Connect) -> None:
    speech = StubSpeech("quero saber o horário")
    step = FixedReply("Abrimos às 9h.")
    t = await connect(reply_step=step, speech=speech)
    form, _ = media_form(t, OGG, "audio/ogg")
    await post(t, form)
    await run(t)

    assert speech.calls == [(len(OGG), "audio/ogg")]
    [turn] = step.turns
    assert turn.text == "quero saber o horário"
    [item] = await media_items(t)
    assert item.transcript == "quero saber o horário"
    [sent] = t.fake.messages
    assert sent.body == "Abrimos às 9h."


# -------------------------------------------------------------------- status callbacks


async def test_status_callbacks_advance_the_delivery_status(twilio_tenant: TwilioTenant) -> None:
    t = twilio_tenant
    await post(t, t.form(body="oi"))
    await run(t)
    [sent] = t.fake.messages
    assert await api_delivery_status(t) == "queued"

    for status in ("sent", "delivered", "read"):
        await callback(t, sent.sid, status)
        [part] = await parts(t)
        assert part.status == status
        assert await api_delivery_status(t) == status


async def test_status_callbacks_out_of_order_never_go_backwards(
    twilio_tenant: TwilioTenant,
) -> None:
    t = twilio_tenant
    await post(t, t.form(body="oi"))
    await run(t)
    [sent] = t.fake.messages

    await callback(t, sent.sid, "read")
    await callback(t, sent.sid, "delivered")
    await callback(t, sent.sid, "sent")
    [part] = await parts(t)
    assert part.status == "read"
    assert await api_delivery_status(t) == "read"


async def test_failed_status_records_the_error_and_is_final(twilio_tenant: TwilioTenant) -> None:
    t = twilio_tenant
    await post(t, t.form(body="oi"))
    await run(t)
    [sent] = t.fake.messages

    await callback(t, sent.sid, "sent")
    await callback(
        t, sent.sid, "failed", error_code=63024, error_message="Invalid message recipient"
    )
    [part] = await parts(t)
    assert (part.status, part.error_code) == ("failed", 63024)
    assert part.error_message == "Invalid message recipient"
    assert await api_delivery_status(t) == "failed"

    await callback(t, sent.sid, "delivered")
    [part] = await parts(t)
    assert (part.status, part.error_code) == ("failed", 63024)
    assert await api_delivery_status(t) == "failed"


async def test_multi_part_status_is_the_least_advanced_part(connect: Connect) -> None:
    t = await connect(reply_step=FixedReply(sentences_text(4000)))
    await post(t, t.form(body="me explica tudo"))
    await run(t)
    first, second, third = (message.sid for message in t.fake.messages)

    await callback(t, first, "read")
    assert await api_delivery_status(t) == "queued"
    await callback(t, second, "delivered")
    await callback(t, third, "sent")
    assert [row.status for row in await parts(t)] == ["read", "delivered", "sent"]
    assert await api_delivery_status(t) == "sent"

    await callback(t, third, "read")
    assert await api_delivery_status(t) == "delivered"
    await callback(t, second, "read")
    assert await api_delivery_status(t) == "read"


async def test_callback_between_retries_does_not_stop_the_remaining_parts(
    connect: Connect,
) -> None:
    clock = ManualClock()
    text = sentences_text(2500)  # two parts
    t = await connect(clock=clock, reply_step=FixedReply(text))
    t.fake.fail_for(failing_nth(2), 429, 20429, "Too Many Requests", retry_after=5)
    await post(t, t.form(body="me explica tudo"))
    await run(t)
    [first] = t.fake.messages
    assert [row.status for row in await parts(t)] == ["queued", "retrying"]

    await callback(t, first.sid, "sent")
    clock.advance(seconds=5)
    await run(t)

    assert [message.body for message in t.fake.messages] == split_message(text)
