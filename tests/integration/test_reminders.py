"""Reminders made in chat are sent on WhatsApp at their time: through the sandbox, and through
Twilio as the tenant's template once the 24-hour window has closed."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import drain
from tests.desk_support import Desk
from tests.fakes.twilio import FakeTwilio
from tests.twilio_support import connect_tenant
from whatsapp_ai.ai.agents.engine import AssistantEngine, offline_model
from whatsapp_ai.ai.router import IntentRouter
from whatsapp_ai.core.clock import ManualClock


def _engine(desk_or_container: object) -> AssistantEngine:
    container = getattr(desk_or_container, "container", desk_or_container)
    return AssistantEngine(db=container.db, router=IntentRouter(), model=offline_model())  # type: ignore[attr-defined]


async def test_a_reminder_arrives_at_its_time_once(desk: Desk) -> None:
    desk.container.reply_step = _engine(desk)
    await desk.say("me lembra de pagar a conta de luz amanhã às 10h")
    assert (await desk.outbox())[
        -1
    ] == "Combinado: vou te lembrar amanhã às 10:00: pagar a conta de luz."

    desk.clock.advance(hours=27)  # 09:00 the next day in São Paulo: not yet
    await desk.sweep()  # the conversation went idle
    assert await desk.container.reminders.sweep() == 0
    desk.clock.advance(hours=1, minutes=1)
    await desk.sweep()  # ... and expired
    assert await desk.container.reminders.sweep() == 1
    assert await desk.container.reminders.sweep() == 0
    await desk.run()
    assert (await desk.outbox())[-1] == "⏰ Lembrete: pagar a conta de luz"
    # The conversation had expired meanwhile: the reminder opened a new, linked one.
    thread = await desk.current()
    assert thread["previous_id"] is not None
    messages = await desk.messages(thread["id"])
    assert [m["body"] for m in messages] == ["⏰ Lembrete: pagar a conta de luz"]


async def test_a_reminder_outside_the_window_goes_as_the_template(
    db_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    clock = ManualClock()
    t = await connect_tenant(db_url, tmp_path, fake_twilio, clock=clock)
    t.container.reply_step = _engine(t.container)
    try:
        await t.post_inbound(t.form(body="me lembra de renovar o seguro daqui a 3 dias"))
        await drain(t.container)
        assert (fake_twilio.messages[-1].body or "").startswith("Combinado: vou te lembrar")
        clock.advance(days=3, minutes=1)
        assert await t.container.reminders.sweep() == 1
        await drain(t.container)
        last = fake_twilio.messages[-1]
        assert last.content_sid == "HX" + "0" * 32
        assert last.content_variables == {"1": "⏰ Lembrete: renovar o seguro"}
    finally:
        await t.client.aclose()
        await t.container.close()


async def test_a_contact_who_moved_gets_reminders_in_their_own_time_zone(desk: Desk) -> None:
    desk.container.reply_step = _engine(desk)
    await desk.say("moro em Lisboa agora")
    assert (await desk.outbox())[-1] == "Combinado, a partir de agora uso o horário de Lisboa."
    await desk.say("me lembra de ligar pra minha mãe amanhã às 10h")
    desk.clock.advance(hours=24, minutes=59)  # 09:59 in Lisbon (UTC+0 in March)
    assert await desk.container.reminders.sweep() == 0
    desk.clock.advance(minutes=2)
    assert await desk.container.reminders.sweep() == 1
