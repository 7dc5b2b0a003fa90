"""Conversations keep their thread through the engine on real databases: an answer to the
assistant's question completes that request, elliptical follow-ups reuse the last question,
finance entries are found by what the person calls them, and the state ends with the
conversation (or a long silence) and is never shared between conversations."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.chat_support import Chat
from tests.fakes.openai import FakeOpenAI
from whatsapp_ai.ai import dialogue
from whatsapp_ai.ai.agents.engine import AssistantEngine, offline_model, record_usage
from whatsapp_ai.ai.llm import ProviderSpec, build_chain
from whatsapp_ai.ai.models import DialogueState
from whatsapp_ai.ai.router import IntentRouter
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.core.db import tenant_scope
from whatsapp_ai.core.privacy import ContactRef
from whatsapp_ai.relationships import service as crm

NOW = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)  # Wednesday 10:00 in São Paulo


@pytest.fixture(scope="module")
def router() -> IntentRouter:
    built = IntentRouter()
    built.warm()
    return built


@pytest.fixture
async def chat(container: Container, tenant: dict[str, str], router: IntentRouter) -> Chat:
    engine = AssistantEngine(db=container.db, router=router, model=offline_model())
    return await Chat(container, engine, tenant["id"]).open("+5511999990001")


async def test_an_answer_to_the_amount_question_is_that_expense(chat: Chat) -> None:
    assert await chat.say("paguei o uber ontem") == "Qual foi o valor?"
    said = await chat.say("foi 26")
    assert "R$ 26,00" in said
    assert await chat.entries() == [
        ("expense", "transport", Decimal("26.00"), "2026-03-03", "uber")
    ]


async def test_a_bare_amount_answer_is_never_income(chat: Chat) -> None:
    assert await chat.say("gastei no mercado hj") == "Qual foi o valor?"
    await chat.say("349,99")
    assert await chat.entries() == [
        ("expense", "groceries", Decimal("349.99"), "2026-03-04", "mercado")
    ]


async def test_an_answer_completes_a_reminder_under_its_intent(chat: Chat) -> None:
    assert await chat.say("me lembra de ligar pro contador") == "Para quando?"
    said = await chat.say("amanha as 11h")
    assert "ligar pro contador" in said
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            reminders = await crm.list_reminders(session, tenant_id=chat.tenant_id)
            meetings = await crm.list_meetings(session, tenant_id=chat.tenant_id)
    [reminder] = reminders.items
    assert reminder.due_at == datetime(2026, 3, 5, 14, 0, tzinfo=UTC)
    assert meetings.items == []


async def test_elliptical_follow_ups_keep_the_question(chat: Chat) -> None:
    for text in (
        "gastei 120 no mercado dia 12/02",
        "gastei 38 de uber dia 20/02",
        "gastei 22 de uber ontem",
    ):
        await chat.say(text)
    assert "R$ 158,00" in await chat.say("quanto gastei no mes passado?")
    by_uber = await chat.say("e com uber?")
    assert "fevereiro" in by_uber
    assert "R$ 38,00" in by_uber
    this_month = await chat.say("e esse mês?")
    assert "R$ 22,00" in this_month
    assert "transporte" in this_month


async def test_a_follow_up_about_last_month_stays_with_finance(chat: Chat) -> None:
    await chat.say("gastei 70 no mercado")
    await chat.say("gastei 200 no mercado dia 05/02")
    assert "R$ 70,00" in await chat.say("quanto gastei esse mes?")
    said = await chat.say("e no mês passado?")
    assert "R$ 200,00" in said
    assert "Nada marcado" not in said


async def test_follow_ups_in_english(
    container: Container, tenant: dict[str, str], router: IntentRouter
) -> None:
    engine = AssistantEngine(db=container.db, router=router, model=offline_model())
    chat = await Chat(container, engine, tenant["id"]).open("+15555550101", "Sam")
    await chat.say("spent 80 on groceries on feb 14")
    await chat.say("spent 27 on uber on feb 18")
    await chat.say("spent 19 on uber today")
    assert "107.00" in await chat.say("how much did I spend last month?")
    assert "27.00" in await chat.say("and on uber?")
    assert "19.00" in await chat.say("what about this month?")


async def test_hj_in_a_question_is_today(chat: Chat) -> None:
    await chat.say("gastei 18 no cafe ontem")
    await chat.say("gastei 30 no almoco")
    said = await chat.say("quanto gastei hj?")
    assert "R$ 30,00" in said
    assert "R$ 48,00" not in said


async def test_a_correction_changes_the_entry_it_names(chat: Chat) -> None:
    await chat.say("gastei 50 no mercado")
    await chat.say("gastei 30 de uber")
    said = await chat.say("o do mercado foi 44, corrige ai")
    assert "R$ 44,00" in said
    assert "mercado" in said
    assert sorted(await chat.entries()) == [
        ("expense", "groceries", Decimal("44.00"), "2026-03-04", "mercado"),
        ("expense", "transport", Decimal("30.00"), "2026-03-04", "uber"),
    ]


async def test_a_delete_removes_the_entry_it_names(chat: Chat) -> None:
    await chat.say("gastei 25 de uber")
    await chat.say("gastei 60 na farmacia")
    said = await chat.say("apaga o uber")
    assert "uber" in said
    assert await chat.entries() == [
        ("expense", "health", Decimal("60.00"), "2026-03-04", "farmacia")
    ]


async def test_an_old_amount_names_the_entry_in_english(
    container: Container, tenant: dict[str, str], router: IntentRouter
) -> None:
    engine = AssistantEngine(db=container.db, router=router, model=offline_model())
    chat = await Chat(container, engine, tenant["id"]).open("+15555550102", "Sam")
    await chat.say("spent 5 on coffee")
    await chat.say("spent 70 at the pharmacy")
    await chat.say("the coffee was 6 not 5")
    assert sorted(await chat.entries()) == [
        ("expense", "health", Decimal("70.00"), "2026-03-04", "pharmacy"),
        ("expense", "restaurants", Decimal("6.00"), "2026-03-04", "coffee"),
    ]


async def test_when_several_entries_fit_it_asks_which(chat: Chat) -> None:
    await chat.say("gastei 40 no mercado")
    await chat.say("gastei 55 no mercado")
    said = await chat.say("apaga o mercado")
    assert said.endswith("Qual deles?")
    assert "R$ 40,00" in said
    assert "R$ 55,00" in said
    assert len(await chat.entries()) == 2


async def test_an_option_picked_by_its_number_is_the_one_changed(chat: Chat) -> None:
    await chat.say("gastei 40 no mercado")
    await chat.say("gastei 15 no mercado")
    asked = await chat.say("o do mercado foi 44, corrige ai")
    assert asked.endswith("Qual deles?")
    first = re.search(r"1\) \D*R\$ (\d+),00", asked)
    assert first is not None
    await chat.say("o primeiro")
    amounts = sorted(amount for _, _, amount, _, _ in await chat.entries())
    kept = {"15": Decimal("40.00"), "40": Decimal("15.00")}[first.group(1)]
    assert amounts == sorted([kept, Decimal("44.00")])
    asked = await chat.say("apaga o mercado")
    second = re.search(r"2\) \D*R\$ (\d+),00", asked)
    assert second is not None
    await chat.say("2")
    left = [amount for _, _, amount, _, _ in await chat.entries()]
    assert len(left) == 1
    assert left[0] != Decimal(second.group(1))


async def test_a_reminder_picked_from_the_list_is_the_one_cancelled(chat: Chat) -> None:
    await chat.say("me lembra de ligar pro dentista sexta as 10h")
    await chat.say("me lembra de ligar pro banco sexta as 15h")
    asked = await chat.say("cancela o lembrete de ligar")
    assert asked.startswith("Qual deles?")
    said = await chat.say("o segundo")
    assert "banco" in said
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            page = await crm.list_reminders(
                session, tenant_id=chat.tenant_id, contact_id=chat.contact_id
            )
    assert sorted((r.text, r.status) for r in page.items) == [
        ("ligar pro banco", "cancelled"),
        ("ligar pro dentista", "pending"),
    ]


async def test_state_ends_with_the_conversation(chat: Chat) -> None:
    assert await chat.say("paguei o uber ontem") == "Qual foi o valor?"
    await chat.new_conversation()
    await chat.say("26")
    assert [e for e in await chat.entries() if e[1] == "transport"] == []


async def test_state_expires_after_a_silence(chat: Chat) -> None:
    assert await chat.say("paguei o uber ontem") == "Qual foi o valor?"
    chat.now += dialogue.TTL + timedelta(minutes=1)
    await chat.say("26")
    assert [e for e in await chat.entries() if e[1] == "transport"] == []


async def test_two_conversations_do_not_share_state(
    container: Container, tenant: dict[str, str], router: IntentRouter, chat: Chat
) -> None:
    other = await Chat(container, chat.engine, tenant["id"]).open("+5511999990002", "Bruno")
    assert await chat.say("paguei o uber ontem") == "Qual foi o valor?"
    await other.say("26")
    assert [e for e in await other.entries() if e[1] == "transport"] == []
    await chat.say("26")
    assert [e[2] for e in await chat.entries()] == [Decimal("26.00")]


async def test_the_state_is_the_tenants_own_and_erased_with_the_contact(chat: Chat) -> None:
    await chat.say("paguei o uber ontem")
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.transaction() as session:
            [row] = (await session.scalars(select(DialogueState))).all()
            assert row.conversation_id == chat.conversation_id
            assert (row.pending_intent or "").startswith("finance.")
            assert row.pending_text == "paguei o uber ontem"
            ref = ContactRef(
                tenant_id=chat.tenant_id,
                contact_id=chat.contact_id,
                address="+5511999990001",
                related={"conversation_ids": [chat.conversation_id]},
            )
            exported = await dialogue.export_contact(session, ref)
            assert exported["dialogue"][0]["question"] == "Qual foi o valor?"
            erased = await dialogue.erase_contact(session, ref)
            assert erased.rows == 1


@pytest.fixture(scope="module")
def hosted() -> FakeOpenAI:
    with FakeOpenAI() as fake:
        yield fake  # type: ignore[misc]


async def test_a_hosted_model_sees_where_the_conversation_stands(
    container: Container, tenant: dict[str, str], router: IntentRouter, hosted: FakeOpenAI
) -> None:
    spec = ProviderSpec(
        provider="openai_compatible",
        model="llama-3.1-8b",
        base_url=hosted.base_url,
        timeout_s=2.0,
        max_retries=0,
    )
    model = build_chain([spec], offline=offline_model(), sink=record_usage)
    engine = AssistantEngine(db=container.db, router=router, model=model)
    chat = await Chat(container, engine, tenant["id"]).open("+5511999990003")
    hosted.reset()
    hosted.reply("Qual foi o valor?")
    assert await chat.say("paguei o uber ontem") == "Qual foi o valor?"
    hosted.tool_call("record_expense", {"amount": "26.00", "category": "transport"})
    hosted.reply("Anotei R$ 26,00 de uber.")
    assert await chat.say("foi 26") == "Anotei R$ 26,00 de uber."
    system = hosted.requests[1].messages[0]["content"]
    assert "[dialogue] " in system
    assert '"question": "Qual foi o valor?"' in system
    assert hosted.requests[1].messages[-1]["content"] == "paguei o uber ontem foi 26"
    assert [e[2] for e in await chat.entries()] == [Decimal("26.00")]


async def test_the_answer_to_which_one_picks_it(chat: Chat) -> None:
    await chat.say("gastei 40 no mercado")
    await chat.say("gastei 55 no mercado")
    assert (await chat.say("apaga o mercado")).endswith("Qual deles?")
    assert "R$ 55,00" in await chat.say("o de 55")
    assert [e[2] for e in await chat.entries()] == [Decimal("40.00")]


async def test_an_instalment_purchase_is_one_expense_and_a_question_back_is_no_answer(
    chat: Chat,
) -> None:
    said = await chat.say("comprei um tenis de 349,99 parcelado em 3x")
    assert "R$ 349,99" in said
    assert await chat.entries() == [
        ("expense", "shopping", Decimal("349.99"), "2026-03-04", "tenis")
    ]
    assert await chat.say("paguei o uber ontem") == "Qual foi o valor?"
    assert "R$ 349,99" in await chat.say("quanto gastei hj?")
    assert len(await chat.entries()) == 1


async def _agenda(chat: Chat) -> list[tuple[str, str]]:
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            ahead = await crm.upcoming(
                session,
                tenant_id=chat.tenant_id,
                contact_id=chat.contact_id,
                now=NOW,
                days=None,
                limit=50,
            )
    found = [(r.text, r.due_at) for r in ahead.reminders]
    found += [(m.title, m.starts_at) for m in ahead.meetings]
    return sorted((text, at.astimezone(UTC).strftime("%d %H:%M")) for text, at in found)


async def test_a_correction_right_after_moves_what_was_just_made(chat: Chat) -> None:
    await chat.say("me lembra de ligar pro encanador amanha as 14h")
    await chat.say("melhor 16h")
    assert await _agenda(chat) == [("ligar pro encanador", "05 19:00")]
    await chat.say("opa, sexta*")
    assert await _agenda(chat) == [("ligar pro encanador", "06 19:00")]
    await chat.say("schedule a meeting with Alex tomorrow at 10am")
    await chat.say("actually make it 11")
    assert ("Meeting with Alex", "05 14:00") in await _agenda(chat)


async def test_a_cancel_finds_the_record_by_the_words_it_shares(chat: Chat) -> None:
    await chat.say("marca reuniao com o Lucas amanha as 14h")
    await chat.say("me lembra de comprar pao amanha as 8h")
    await chat.say("desmarca com o Lucas, ele cancelou")
    assert await _agenda(chat) == [("comprar pao", "05 11:00")]


async def test_the_agenda_of_one_day_and_a_reminder_stopped(chat: Chat) -> None:
    await chat.say("me lembra de ligar pro Gui amanha as 9h")
    await chat.say("me lembra de ir na academia sexta as 7h")
    tomorrow = await chat.say("o que tenho pra amanha?")
    assert "Gui" in tomorrow
    assert "academia" not in tomorrow
    friday = await chat.say("e pra sexta?")
    assert "academia" in friday
    assert "Gui" not in friday
    assert "Nada marcado" in await chat.say("o que eu tenho no sabado?")
    await chat.say("para de me lembrar de ir na academia")
    assert await _agenda(chat) == [("ligar pro Gui", "05 12:00")]


async def test_two_tasks_with_their_own_times_and_an_event_told_with_its_moment(
    chat: Chat,
) -> None:
    await chat.say("me lembra amnh 9h de ir no banco e 14h de buscar a encomenda")
    await chat.say("tenho consulta no medico sexta as 10 e meia")
    assert await _agenda(chat) == [
        ("Consulta no medico", "06 13:30"),
        ("buscar a encomenda", "05 17:00"),
        ("ir no banco", "05 12:00"),
    ]


async def test_a_list_position_and_a_pronoun_name_their_records(chat: Chat) -> None:
    await chat.say("me lembra de comprar racao amanha as 18h")
    await chat.say("me lembra de ligar pra tia amanha as 20h")
    await chat.say("quais meus lembretes?")
    await chat.say("cancela o segundo")
    assert await _agenda(chat) == [("comprar racao", "05 21:00")]
    await chat.say("muda ele pra 15h")
    assert await _agenda(chat) == [("comprar racao", "05 18:00")]
    await chat.say("gastei 75 no restaurante")
    await chat.say("isso foi anteontem")
    assert [day for _, _, _, day, _ in await chat.entries()] == ["2026-03-02"]


async def test_a_mistake_said_first_and_an_agenda_question_told_as_people_ask(
    chat: Chat,
) -> None:
    await chat.say("gastei 80 no mercado")
    said = await chat.say("opa, lancei errado, apaga esse")
    assert "O que devo mudar" not in said
    assert await chat.entries() == []
    await chat.say("tenho consulta no cardiologista sexta as 10 e meia")
    assert "cardiologista" in await chat.say("qnd e minha consulta?")
    assert "Nada marcado" in await chat.say("tenho algo marcado sabado?")
    said = await chat.say("mano vc e mt burro, anotou meu gasto errado ontem")
    assert said.startswith("Desculpe")


async def test_a_question_right_after_a_record_is_answered(chat: Chat) -> None:
    await chat.say("gastei 35 de uber hj")
    assert "R$ 35,00" in await chat.say("e quanto gastei hj?")
    assert len(await chat.entries()) == 1


async def test_no_then_a_new_category_recategorises_the_record(chat: Chat) -> None:
    await chat.say("gastei 90 no posto")
    await chat.say("nao, coloca como mercado")
    assert [category for _, category, _, _, _ in await chat.entries()] == ["groceries"]
