"""Conversation lifecycle on real databases: opening, idle and expiry by the clock, closing by
the contact's intent, continuing an ended conversation, and racing changes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.desk_support import ANA, BRUNO, Desk, DeskFactory
from whatsapp_ai.conversation import service as conversation_service
from whatsapp_ai.conversation.lifecycle import StaleConversationError
from whatsapp_ai.conversation.states import Actor, Status, TransitionError
from whatsapp_ai.core.db import tenant_scope
from whatsapp_ai.core.scheduler import Scheduler


async def test_first_message_opens_an_active_conversation_with_its_idle_timer(
    desk: Desk,
) -> None:
    await desk.say("oi")
    thread = await desk.current()
    assert thread["status"] == "active"
    assert thread["due_action"] == "idle"
    assert await desk.outbox() == ["eco: oi"]
    assert await desk.history(thread["id"]) == []


async def test_silence_makes_it_idle_then_expired_and_time_alone_decides(desk: Desk) -> None:
    await desk.say("oi")
    desk.clock.advance(minutes=29)
    assert await desk.sweep() == 0
    assert (await desk.current())["status"] == "active"

    desk.clock.advance(minutes=2)
    assert await desk.sweep() == 1
    idle = await desk.current()
    assert idle["status"] == "idle"
    assert idle["due_action"] == "expire"

    desk.clock.advance(minutes=59)
    assert await desk.sweep() == 0
    desk.clock.advance(minutes=2)
    assert await desk.sweep() == 1
    ended = await desk.current()
    assert (ended["status"], ended["closed_by"], ended["due_at"]) == ("expired", "system", None)
    assert await desk.history(ended["id"]) == [
        ("active", "idle", "system"),
        ("idle", "expired", "system"),
    ]
    assert await desk.outbox() == ["eco: oi"]  # nothing is said to the contact


async def test_a_message_while_idle_makes_it_active_again_in_the_same_conversation(
    desk: Desk,
) -> None:
    await desk.say("oi")
    desk.clock.advance(minutes=31)
    await desk.sweep()
    first = await desk.current()
    await desk.say("voltei")
    again = await desk.current()
    assert again["id"] == first["id"]
    assert again["status"] == "active"
    assert await desk.history(again["id"]) == [
        ("active", "idle", "system"),
        ("idle", "active", "user"),
    ]
    # The silence timer counts from the new message.
    desk.clock.advance(minutes=29)
    assert await desk.sweep() == 0


async def test_a_message_after_the_end_opens_a_linked_conversation_with_the_old_context(
    desk: Desk,
) -> None:
    await desk.say("meu pedido é o 4521")
    desk.clock.advance(minutes=31)
    await desk.sweep()
    desk.clock.advance(minutes=61)
    await desk.sweep()
    old = await desk.current()
    assert old["status"] == "expired"

    await desk.say("e aí, chegou?")
    new = await desk.current()
    assert new["id"] != old["id"]
    assert new["previous_id"] == old["id"]
    assert new["status"] == "active"
    seen = desk.reply_step.turns[-1].history
    assert [(h.author, h.body) for h in seen] == [
        ("user", "meu pedido é o 4521"),
        ("assistant", "eco: meu pedido é o 4521"),
    ]


@pytest.mark.parametrize(
    ("farewell", "answer"),
    [
        ("obrigado, tchau", "Por nada!"),
        ("valeu, até mais!", "Por nada!"),
        ("thanks, bye", "You're welcome!"),
        ("that's all, thank you 👍", "You're welcome!"),
    ],
)
async def test_saying_goodbye_closes_with_a_farewell(
    desk: Desk, farewell: str, answer: str
) -> None:
    await desk.say("hello there" if answer.startswith("You") else "oi")
    await desk.say(farewell)
    thread = await desk.current()
    assert (thread["status"], thread["closed_by"]) == ("closed", "user")
    assert (await desk.outbox())[-1].startswith(answer)
    assert len(desk.reply_step.turns) == 1  # the farewell needed no model call


@pytest.mark.parametrize(
    "message",
    ["obrigado, e quanto gastei ontem?", "thanks! what about yesterday?", "obrigado", "tchau?"],
)
async def test_thanks_with_a_question_or_alone_does_not_close(desk: Desk, message: str) -> None:
    await desk.say("oi")
    await desk.say(message)
    thread = await desk.current()
    assert thread["status"] == "active"
    assert (await desk.outbox())[-1] == f"eco: {message}"


async def test_the_next_message_after_a_goodbye_starts_a_new_conversation(desk: Desk) -> None:
    await desk.say("oi")
    await desk.say("obrigado, tchau")
    closed = await desk.current()
    await desk.say("oi de novo")
    opened = await desk.current()
    assert opened["previous_id"] == closed["id"]
    assert opened["status"] == "active"


async def test_each_tenant_sets_its_own_timeouts_and_a_change_reschedules(desk: Desk) -> None:
    await desk.say("oi")
    desk.clock.advance(minutes=20)
    await desk.policy(idle_after_min=10)
    # The timer set under the old policy is not due yet; the sweep catches up by the new one.
    assert await desk.sweep() == 0
    desk.clock.advance(minutes=11)
    assert await desk.sweep() == 1
    assert (await desk.current())["status"] == "idle"
    reset = await desk.policy(idle_after_min=None)
    assert reset["idle_after_min"] == 30
    assert "idle_after_min" not in reset["overridden"]


async def test_only_the_scheduler_holding_the_lease_sweeps(desk: Desk) -> None:
    await desk.say("oi")
    desk.clock.advance(minutes=31)
    first, second = desk.container.scheduler(), desk.container.scheduler()
    assert isinstance(first, Scheduler)
    assert await first.tick() is True
    assert await second.tick() is False
    assert (await desk.current())["status"] == "idle"


async def test_two_workers_changing_one_conversation_one_wins(desk: Desk) -> None:
    await desk.say("oi")
    thread = await desk.current()
    lifecycle, db = desk.container.lifecycle, desk.container.db

    async def change(to: Status, actor: Actor) -> str:
        with tenant_scope(desk.tenant_id):
            async with db.transaction() as session:
                found = await conversation_service.get(
                    session, tenant_id=desk.tenant_id, conversation_id=thread["id"], lock=True
                )
                assert found is not None
                await asyncio.sleep(0.05)  # both have read the same version by now
                await lifecycle.move(
                    session,
                    found,
                    to,
                    actor,
                    reason="race",
                    expected_version=thread["version"],
                )
        return to.value

    results = await asyncio.gather(
        change(Status.CLOSED, Actor.OPERATOR),
        change(Status.WAITING_HUMAN, Actor.USER),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, str)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1, results
    assert len(lost) == 1, results
    assert isinstance(lost[0], StaleConversationError | TransitionError)
    final = await desk.current()
    assert final["status"] == won[0]
    assert final["version"] == thread["version"] + 1
    assert len(await desk.history(thread["id"])) == 1


async def test_a_forbidden_change_writes_nothing(desk: Desk) -> None:
    await desk.say("oi")
    thread = await desk.current()
    closed = await desk.act(thread["id"], "close")
    assert closed.status_code == 200, closed.text
    again = await desk.act(thread["id"], "handoff")
    assert again.status_code == 409
    assert "closed" in again.json()["error"]["message"]
    assert (await desk.current())["version"] == closed.json()["version"]
    assert await desk.history(thread["id"]) == [("active", "closed", "operator")]


async def test_contacts_age_independently(desk: Desk) -> None:
    await desk.say("oi", sender=ANA)
    desk.clock.advance(minutes=20)
    await desk.say("oi", sender=BRUNO)
    desk.clock.advance(minutes=11)
    assert await desk.sweep() == 1
    assert (await desk.current(ANA))["status"] == "idle"
    assert (await desk.current(BRUNO))["status"] == "active"


async def test_stale_version_from_the_api_is_a_conflict(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    await desk.say("oi")
    thread = await desk.current()
    await desk.say("tudo bem?")
    desk.clock.advance(timedelta(minutes=31))
    await desk.sweep()  # now idle: the version moved on
    stale = await desk.act(thread["id"], "close", {"version": thread["version"]})
    assert stale.status_code == 409
    assert "version" in stale.json()["error"]["message"]
