"""The agenda through the engine: a repeating reminder is sent at each occurrence, and
reminders and meetings are cancelled and moved by what the person names, never another
contact's."""

from __future__ import annotations

from datetime import timedelta

from tests.desk_support import ANA, BRUNO, Desk
from whatsapp_ai.ai.agents.engine import AssistantEngine, offline_model
from whatsapp_ai.ai.router import IntentRouter


def _engine(desk: Desk) -> AssistantEngine:
    return AssistantEngine(db=desk.container.db, router=IntentRouter(), model=offline_model())


async def _last(desk: Desk, sender: str = ANA) -> str:
    return (await desk.outbox(sender))[-1]


async def test_a_repeating_reminder_is_sent_at_each_occurrence(desk: Desk) -> None:
    desk.container.reply_step = _engine(desk)
    await desk.say("todo dia as 22h me lembra de tomar o remedio")
    assert "tomar o remedio" in await _last(desk)
    assert "(todo dia)" in await _last(desk)
    for _ in range(2):
        desk.clock.advance(hours=24)
        await desk.sweep()
        assert await desk.container.reminders.sweep() == 1
        assert await desk.container.reminders.sweep() == 0
        await desk.run()
        assert await _last(desk) == "⏰ Lembrete: tomar o remedio"
    await desk.say("lista meus lembretes")
    listed = await _last(desk)
    assert "tomar o remedio (todo dia)" in listed
    await desk.say("cancela o lembrete do remedio")
    assert await _last(desk) == "Cancelei o lembrete: tomar o remedio."
    desk.clock.advance(hours=24)
    assert await desk.container.reminders.sweep() == 0


async def test_listing_shows_reminders_weeks_away(desk: Desk) -> None:
    desk.container.reply_step = _engine(desk)
    await desk.say("me lembra de renovar o passaporte daqui 40 dias")
    await desk.say("quais sao todos os meus lembretes?")
    assert "renovar o passaporte" in await _last(desk)


async def test_cancel_and_move_by_what_the_person_names(desk: Desk) -> None:
    desk.container.reply_step = _engine(desk)
    await desk.say("me lembra de ligar pro dentista amanha as 10h", sender=BRUNO)
    await desk.say("me lembra de ligar pro dentista amanha as 10h")
    await desk.say("me lembra de pagar o aluguel amanha as 9h")
    await desk.say("cancela o lembrete do dentista")
    assert await _last(desk) == "Cancelei o lembrete: ligar pro dentista."
    await desk.say("lista meus lembretes", sender=BRUNO)
    assert "ligar pro dentista" in await _last(desk, BRUNO)

    await desk.say("muda pra 18h")
    assert "pagar o aluguel" in await _last(desk)
    assert "18:00" in await _last(desk)

    await desk.say("me lembra de pagar a luz amanha as 11h")
    await desk.say("cancela o lembrete de pagar")
    asked = await _last(desk)
    assert asked.startswith("Qual deles?")
    assert "pagar o aluguel" in asked
    assert "pagar a luz" in asked


async def test_meetings_are_cancelled_and_moved(desk: Desk) -> None:
    desk.container.reply_step = _engine(desk)
    await desk.say("marca reuniao com o Pedro sexta as 14h")
    await desk.say("marca reuniao com a Julia segunda as 10h")
    await desk.say("desmarca a reuniao de sexta")
    assert "Pedro" in await _last(desk)
    await desk.say("passa a reuniao da Julia pra terca")
    moved = await _last(desk)
    assert "Julia" in moved
    assert "10:00" in moved


async def test_an_event_with_a_warning_ahead(desk: Desk) -> None:
    desk.container.reply_step = _engine(desk)
    await desk.say("dentista amanha as 14h, me avisa 1h antes")
    reply = await _last(desk)
    assert "dentista" in reply
    assert "13:00" in reply
    assert "14:00" in reply


async def test_the_api_shows_and_takes_the_repetition(desk: Desk) -> None:
    desk.container.reply_step = _engine(desk)
    await desk.say("oi")
    contact_id = await desk.contact_id()
    due = (desk.clock.now() + timedelta(hours=2)).isoformat()
    body = {
        "contact_id": contact_id,
        "text": "regar as plantas",
        "due_at": due,
        "rrule": "FREQ=WEEKLY;BYDAY=MO",
        "timezone": "America/Sao_Paulo",
    }
    made = await desk.client.post("/relationships/reminders", json=body, headers=desk.api)
    assert made.status_code == 201, made.text
    assert made.json()["rrule"] == "FREQ=WEEKLY;BYDAY=MO"
    bad = await desk.client.post(
        "/relationships/reminders", json=body | {"rrule": "EVERY MONDAY"}, headers=desk.api
    )
    assert bad.status_code == 422
