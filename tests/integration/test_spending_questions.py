"""Questions about spending as people ask them, through the engine on real databases: by the
entries' own words ("uber", not all of transport), the largest expense, how something was
paid, spending told of a past week, spoken times, today's date and complaints."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.chat_support import Chat
from whatsapp_ai.ai.agents.engine import AssistantEngine, offline_model
from whatsapp_ai.ai.router import IntentRouter
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.core.db import tenant_scope
from whatsapp_ai.relationships import service as crm


@pytest.fixture(scope="module")
def router() -> IntentRouter:
    built = IntentRouter()
    built.warm()
    return built


@pytest.fixture
async def chat(container: Container, tenant: dict[str, str], router: IntentRouter) -> Chat:
    engine = AssistantEngine(db=container.db, router=router, model=offline_model())
    return await Chat(container, engine, tenant["id"]).open("+5511999990003")


async def test_a_question_by_the_entries_own_words_totals_only_those(chat: Chat) -> None:
    await chat.say("gastei 30 de uber")
    await chat.say("gastei 200 de gasolina")
    assert "R$ 30,00 com uber" in await chat.say("quanto gastei com uber?")
    assert "R$ 200,00 com gasolina" in await chat.say("e com gasolina?")
    assert "R$ 230,00 com transporte" in await chat.say("quanto gastei com transporte?")


async def test_a_category_named_by_its_own_name_counts_all_of_it(chat: Chat) -> None:
    await chat.say("gastei 30 no mercado")
    await chat.say("gastei 20 na feira")
    assert "R$ 50,00 com mercado" in await chat.say("quanto gastei no mercado?")


async def test_the_largest_expense_and_how_it_was_paid(chat: Chat) -> None:
    await chat.say("gastei 30 no mercado")
    await chat.say("gastei 200 na farmacia no pix")
    largest = await chat.say("qual foi meu maior gasto?")
    assert "R$ 200,00" in largest
    assert "R$ 30,00" not in largest
    paid = await chat.say("como eu paguei a farmacia?")
    assert "Pix" in paid
    assert "mercado" not in paid
    both = await chat.say("quais meus maiores gastos do mes?")
    assert both.index("R$ 200,00") < both.index("R$ 30,00")


async def test_spending_told_of_last_week_is_dated_in_it(chat: Chat) -> None:
    said = await chat.say("semana passada gastei 200 no dentista")
    assert "25/02" in said
    assert [(e[1], e[3]) for e in await chat.entries()] == [("health", "2026-02-25")]


async def test_spoken_times_of_a_reminder(chat: Chat) -> None:
    await chat.say("me lembra de ligar pro Joao as 7 e 15")
    await chat.say("me lembra de sair quinze pras oito")
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            page = await crm.list_reminders(session, tenant_id=chat.tenant_id)
    assert sorted((r.text, r.due_at.astimezone(UTC)) for r in page.items) == [
        ("ligar pro Joao", datetime(2026, 3, 5, 10, 15, tzinfo=UTC)),
        ("sair", datetime(2026, 3, 5, 10, 45, tzinfo=UTC)),
    ]


async def test_today_and_complaints_get_an_answer_not_a_shrug(chat: Chat) -> None:
    assert "4 de março de 2026" in await chat.say("que dia eh hj?")
    sorry = await chat.say("vc eh mt burro, nao entende nada q eu falo")
    assert sorry.startswith("Desculpe")
    assert "Desculpe a demora" in await chat.say("vc demora mt pra responder hein, q lixo")


async def test_a_misspelt_place_still_finds_its_category(chat: Chat) -> None:
    assert "mercado" in await chat.say("gastei 30 no mercaod")
    assert [e[1] for e in await chat.entries()] == ["groceries"]


async def test_a_repeating_task_told_after_another_and_moved_to_another_weekday(
    chat: Chat,
) -> None:
    await chat.say("me lembra de tomar remedio todo dia as 8h")
    assert "(todo dia)" in await chat.say("e todo dia as 22h de tomar agua")
    await chat.say("me lembra toda segunda as 9h de mandar o relatorio")
    moved = await chat.say("na vdd o relatorio eh toda terca, nao segunda")
    assert "(toda terça)" in moved
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            page = await crm.list_reminders(session, tenant_id=chat.tenant_id)
    assert sorted((r.text, r.rrule) for r in page.items) == [
        ("mandar o relatorio", "FREQ=WEEKLY;BYDAY=TU"),
        ("tomar agua", "FREQ=DAILY"),
        ("tomar remedio", "FREQ=DAILY"),
    ]


async def test_monthly_reminders_say_their_day_and_the_month_end_is_kept(chat: Chat) -> None:
    assert "(todo dia 10)" in await chat.say("me lembra de pagar o cartao todo dia 10")
    said = await chat.say("me lembra de pagar o aluguel todo fim de mes")
    assert "31/03" in said
    assert "(todo fim de mês)" in said


async def test_a_greeting_before_a_request_leaves_the_request_answered(chat: Chat) -> None:
    assert "R$ 50,00" in await chat.say("oi, gastei 50 no mercado")
    assert "R$ 50,00" in await chat.say("bom dia! quanto gastei hj?")
    assert "Tudo bem" in await chat.say("oi tudo bem?")
