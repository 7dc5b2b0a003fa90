"""What people add right after recording something, through the engine on real databases:
what the expense was for ("no mercado"), spending told in the past without a reminder word,
and a reminder asked for without saying of what."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.chat_support import Chat
from whatsapp_ai.ai.agents.engine import AssistantEngine, offline_model
from whatsapp_ai.ai.router import IntentRouter
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.core.db import tenant_scope
from whatsapp_ai.finance import service as finance
from whatsapp_ai.relationships import service as crm


@pytest.fixture(scope="module")
def router() -> IntentRouter:
    built = IntentRouter()
    built.warm()
    return built


@pytest.fixture
async def chat(container: Container, tenant: dict[str, str], router: IntentRouter) -> Chat:
    engine = AssistantEngine(db=container.db, router=router, model=offline_model())
    return await Chat(container, engine, tenant["id"]).open("+5511999990001")


async def test_what_the_last_expense_was_for_said_alone(chat: Chat) -> None:
    await chat.say("gastei 50")
    await chat.say("no mercado")
    await chat.say("paguei 80")
    await chat.say("de gasolina")
    assert sorted((c, a) for _, c, a, _, _ in await chat.entries()) == [
        ("groceries", Decimal("50.00")),
        ("transport", Decimal("80.00")),
    ]
    # A question about the records is never a change of the last one.
    assert "R$ 50,00" in await chat.say("qto ja foi de mercado esse mes?")
    assert len(await chat.entries()) == 2


async def test_spending_told_in_the_past_is_an_expense_not_a_reminder(chat: Chat) -> None:
    assert await chat.say("comprei remedio na farmacia anteontem") == "Qual foi o valor?"
    await chat.say("deu 73,90")
    assert await chat.entries() == [
        ("expense", "health", Decimal("73.90"), "2026-03-02", "remedio farmacia")
    ]


async def test_a_reminder_without_what_asks_what_and_trash_is_no_complaint(chat: Chat) -> None:
    assert await chat.say("me lembra amanha") == "Te lembro de quê?"
    await chat.say("de buscar o terno")
    await chat.say("me lembra de levar o lixo hj as 21h")
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            page = await crm.list_reminders(session, tenant_id=chat.tenant_id)
    assert sorted((r.text, r.due_at) for r in page.items) == [
        ("buscar o terno", datetime(2026, 3, 5, 12, 0, tzinfo=UTC)),
        ("levar o lixo", datetime(2026, 3, 5, 0, 0, tzinfo=UTC)),
    ]


async def _agenda(chat: Chat) -> list[tuple[str, datetime]]:
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            reminders = await crm.list_reminders(session, tenant_id=chat.tenant_id)
            meetings = await crm.list_meetings(session, tenant_id=chat.tenant_id)
    said = [(r.text, r.due_at) for r in reminders.items if r.status != "cancelled"]
    said += [(m.title, m.starts_at) for m in meetings.items if m.status != "cancelled"]
    return sorted(said)


async def test_expenses_corrected_the_way_people_type(chat: Chat) -> None:
    await chat.say("gastei 67 no mercado")
    assert "R$ 76,00" in await chat.say("pera, foi 76 kkk inverti")
    await chat.say("spent 38 on lunch")
    await chat.say("wait no, that was dinner last night")
    await chat.say("got 600 from a freelance gig yesterday")
    await chat.say("paguei o dentista")
    await chat.say("350 no pix")
    await chat.say("gastei 12 de cafe")
    await chat.say("apaga ele")
    assert sorted(await chat.entries()) == [
        ("expense", "groceries", Decimal("76.00"), "2026-03-04", "mercado"),
        ("expense", "health", Decimal("350.00"), "2026-03-04", "dentista"),
        ("expense", "restaurants", Decimal("38.00"), "2026-03-03", "lunch"),
        ("income", "freelance", Decimal("600.00"), "2026-03-03", "freelance gig"),
    ]
    said = await chat.say("quanto gastei esse mes?")
    assert "R$ 464,00" in said
    assert "R$ 388,00" in await chat.say("e tirando o mercado?")


async def test_agenda_follow_ups_keep_the_day_the_time_or_the_kind(chat: Chat) -> None:
    await chat.say("marca reuniao com o Tiago sexta as 15h")
    await chat.say("quer dizer, sabado")
    await chat.say("remind me to call the bank tomorrow at 10am")
    await chat.say("oops, 11am*")
    await chat.say("me lembra de ligar pro seguro segunda as 14h")
    await chat.say("e terca tb, msm hora")
    await chat.say("me lembra de ligar pra Dani amanha as 10h")
    await chat.say("e pro Rafa tb, as 11h")
    await chat.say("marca reuniao com o Fabio quinta as 9h")
    await chat.say("e com a Lais no msm horario na sexta")
    assert await _agenda(chat) == [
        ("Reuniao com Lais", datetime(2026, 3, 6, 12, 0, tzinfo=UTC)),
        ("Reuniao com o Fabio", datetime(2026, 3, 5, 12, 0, tzinfo=UTC)),
        ("Reuniao com o Tiago", datetime(2026, 3, 7, 18, 0, tzinfo=UTC)),
        ("call the bank", datetime(2026, 3, 5, 14, 0, tzinfo=UTC)),
        ("ligar pra Dani", datetime(2026, 3, 5, 13, 0, tzinfo=UTC)),
        ("ligar pro Rafa", datetime(2026, 3, 5, 14, 0, tzinfo=UTC)),
        ("ligar pro seguro", datetime(2026, 3, 9, 17, 0, tzinfo=UTC)),
        ("ligar pro seguro", datetime(2026, 3, 10, 17, 0, tzinfo=UTC)),
    ]
    await chat.say("quais reunioes eu tenho?")
    await chat.say("cancela esse ultimo")
    assert ("Reuniao com o Tiago", datetime(2026, 3, 7, 18, 0, tzinfo=UTC)) not in await _agenda(
        chat
    )


async def test_slang_amounts_categories_and_days_of_the_month(chat: Chat) -> None:
    await chat.say("ontem almoço 28 contos e janta 45")
    await chat.say("pfv anota 4,50 de cafezinho")
    await chat.say("ganhei 800 de um freelinha ontem")
    await chat.say("uber home was 18ish")
    await chat.say("45 de estacionamento, q absurdo mano")
    assert sorted((k, c, a, d) for k, c, a, d, _ in await chat.entries()) == [
        ("expense", "restaurants", Decimal("4.50"), "2026-03-04"),
        ("expense", "restaurants", Decimal("28.00"), "2026-03-03"),
        ("expense", "restaurants", Decimal("45.00"), "2026-03-03"),
        ("expense", "transport", Decimal("18.00"), "2026-03-04"),
        ("expense", "transport", Decimal("45.00"), "2026-03-04"),
        ("income", "freelance", Decimal("800.00"), "2026-03-03"),
    ]
    await chat.say("me lembra amnh 7 e meia d ligar pra vivo")
    await chat.say("remind me on the last day of the month to pay rent")
    await chat.say("tenho prova sabado as 8h, me lembra na vespera as 20h de separar o documento")
    agenda = await _agenda(chat)
    assert ("ligar pra vivo", datetime(2026, 3, 5, 10, 30, tzinfo=UTC)) in agenda
    assert ("pay rent", datetime(2026, 3, 31, 12, 0, tzinfo=UTC)) in agenda
    assert ("separar o documento", datetime(2026, 3, 6, 23, 0, tzinfo=UTC)) in agenda
    assert ("Prova", datetime(2026, 3, 7, 11, 0, tzinfo=UTC)) in agenda


async def test_entries_listed_one_by_one_and_picked_by_position(chat: Chat) -> None:
    await chat.say("gastei 40 no mercado")
    await chat.say("gastei 18 de uber")
    await chat.say("gastei 55 no restaurante")
    listed = await chat.say("me mostra os gastos de hj")
    assert "1) gasto de R$ 40,00" in listed
    assert "3) gasto de R$ 55,00" in listed
    await chat.say("o segundo foi 28")
    await chat.say("me mostra os gastos de hj")
    await chat.say("apaga o terceiro")
    assert sorted((c, a) for _, c, a, _, _ in await chat.entries()) == [
        ("groceries", Decimal("40.00")),
        ("transport", Decimal("28.00")),
    ]


async def test_the_last_few_made_cancelled_together(chat: Chat) -> None:
    await chat.say("me lembra de comprar pao amanha as 7h")
    await chat.say("me lembra de ligar pro Sergio amanha as 10h")
    said = await chat.say("cancela os dois")
    assert "comprar pao" in said
    assert "ligar pro Sergio" in said
    assert await _agenda(chat) == []


async def test_a_meal_or_fuel_told_without_its_amount_then_the_amount(chat: Chat) -> None:
    assert await chat.say("almocei fora ontem") == "Qual foi o valor?"
    await chat.say("86")
    assert await chat.say("abasteci anteontem") == "Qual foi o valor?"
    await chat.say("150")
    await chat.say("fui na academia hj")
    assert sorted((c, a, d) for _, c, a, d, _ in await chat.entries()) == [
        ("restaurants", Decimal("86.00"), "2026-03-03"),
        ("transport", Decimal("150.00"), "2026-03-02"),
    ]


async def test_something_to_book_without_its_time_asks_when(chat: Chat) -> None:
    assert await chat.say("marca dentista") == "Para quando?"
    await chat.say("quinta 14h")
    assert ("Dentista", datetime(2026, 3, 5, 17, 0, tzinfo=UTC)) in await _agenda(chat)


async def test_follow_ups_said_as_a_moment_a_month_or_the_amount_to_keep(chat: Chat) -> None:
    await chat.say("me lembra de ligar pro medico amanha")
    await chat.say("9 e meia")
    await chat.say("marca reuniao com a Renata amanha as 10h")
    await chat.say("ops, depois de amanha")
    agenda = await _agenda(chat)
    assert ("ligar pro medico", datetime(2026, 3, 5, 12, 30, tzinfo=UTC)) in agenda
    assert ("Reuniao com a Renata", datetime(2026, 3, 6, 13, 0, tzinfo=UTC)) in agenda
    assert len(agenda) == 2
    await chat.say("gastei no mercado antes de ontem")
    await chat.say("foi 112 e pouco, poe 112")
    await chat.say("spent 41 on groceries today")
    await chat.say("oh wait, it was the day before yesterday")
    assert sorted((a, d) for _, _, a, d, _ in await chat.entries()) == [
        (Decimal("41.00"), "2026-03-02"),
        (Decimal("112.00"), "2026-03-02"),
    ]
    await chat.say("recebi 2600 de salario dia 05/02")
    await chat.say("quanto recebi em janeiro?")
    assert "R$ 2.600,00" in await chat.say("e fevereiro?")
    await chat.say("quanto recebi esse mes?")
    assert "R$ 153,00" in await chat.say("e gastei quanto?")


async def test_how_it_was_paid_said_apart_reaches_the_entry_and_is_said_back(chat: Chat) -> None:
    said = await chat.say("dinner was 180, paid cash")
    assert "in cash" in said
    assert "What was the amount" not in said
    assert "no Pix" in await chat.say("gastei 50 no mercado no pix")
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            page = await finance.list_entries(
                session, tenant_id=chat.tenant_id, contact_id=chat.contact_id
            )
    assert sorted(e.payment_method or "" for e in page.items) == ["cash", "pix"]


async def test_an_entry_named_by_its_amount_and_two_named_at_once(chat: Chat) -> None:
    await chat.say("gastei 60 no mercado")
    await chat.say("gastei 35 na farmacia")
    await chat.say("o de 35 foi uber, nao farmacia")
    await chat.say("gastei 15 no estacionamento")
    await chat.say("gastei 60 no cinema")
    await chat.say("tira o estacionamento e o cinema")
    assert sorted((c, a) for _, c, a, _, _ in await chat.entries()) == [
        ("groceries", Decimal("60.00")),
        ("transport", Decimal("35.00")),
    ]


async def test_a_personal_assistant_without_a_catalog_talks_of_no_shop(chat: Chat) -> None:
    await chat.say("anota q o Mateus ficou me devendo 300, vai pagar dia 15")
    said = await chat.say("qnd o Mateus vai me pagar?")
    assert "300" in said
    assert "pedido" not in said.lower()
    assert "pedido" not in (await chat.say("pode fechar o pedido")).lower()
    assert await chat.entries() == []


async def test_a_change_naming_another_kind_of_record_reaches_that_kind(chat: Chat) -> None:
    await chat.say("me lembra de pagar a luz sexta")
    await chat.say("gastei 30 de uber")
    await chat.say("foi ontem")
    await chat.say("muda o lembrete da luz pra segunda")
    assert await _agenda(chat) == [("pagar a luz", datetime(2026, 3, 9, 12, 0, tzinfo=UTC))]
    assert [(c, d) for _, c, _, d, _ in await chat.entries()] == [("transport", "2026-03-03")]


async def test_what_was_left_of_a_month_is_that_months_balance(chat: Chat) -> None:
    await chat.say("recebi 3500 de salario dia 05/02")
    await chat.say("paguei 1200 de aluguel")
    assert "R$ 2.300,00" in await chat.say("qual meu saldo?")
    assert "saldo do mês -R$ 1.200,00" in await chat.say("quanto sobrou esse mes?")


async def test_how_much_asked_short_is_the_contacts_own_spending(chat: Chat) -> None:
    await chat.say("spent 45 on groceries")
    assert "45.00" in await chat.say("how much today?")
    assert "R$ 45,00" in await chat.say("quanto hj?")
    assert "45" not in await chat.say("quanto custa o bolo?")


async def test_the_last_entries_deleted_together(chat: Chat) -> None:
    await chat.say("gastei 50 no mercado e 30 no uber")
    await chat.say("apaga os dois")
    assert await chat.entries() == []


async def test_what_is_on_a_day_and_a_reminder_named_by_a_short_word(chat: Chat) -> None:
    await chat.say("remind me to pay the water bill on friday 6pm")
    assert "pay the water bill" in await chat.say("what's on friday?")
    await chat.say("remind me every weekday at 7am to walk the dog")
    assert "walk the dog" in await chat.say("stop the dog one")
    assert await _agenda(chat) == [("pay the water bill", datetime(2026, 3, 6, 21, 0, tzinfo=UTC))]
