"""People told of as real contacts write, through the engine on real databases: a note to
forget named by what it says (never an expense that shares a word), a detail forgotten, a
debt paid back, names typed in lower case, a correction after a read-back, a birthday's day
corrected, birthday reminders, warnings ahead of the event just told, and a question sent
while the assistant waits for an answer."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.chat_support import Chat
from whatsapp_ai.ai.agents.engine import AssistantEngine, offline_model
from whatsapp_ai.ai.router import IntentRouter
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.core.db import tenant_scope
from whatsapp_ai.relationships import service as crm
from whatsapp_ai.relationships.models import Person


@pytest.fixture(scope="module")
def router() -> IntentRouter:
    built = IntentRouter()
    built.warm()
    return built


@pytest.fixture
async def chat(container: Container, tenant: dict[str, str], router: IntentRouter) -> Chat:
    engine = AssistantEngine(db=container.db, router=router, model=offline_model())
    return await Chat(container, engine, tenant["id"]).open("+5511999990002")


async def _notes(chat: Chat) -> list[str]:
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            page = await crm.list_interactions(
                session, tenant_id=chat.tenant_id, contact_id=chat.contact_id
            )
    return sorted(item.summary for item in page.items)


async def _person(chat: Chat, name: str) -> Person:
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            page = await crm.list_people(
                session, tenant_id=chat.tenant_id, contact_id=chat.contact_id
            )
    return next(p for p in page.items if p.name == name)


async def _reminders(chat: Chat) -> list[tuple[str, datetime, str | None]]:
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            page = await crm.list_reminders(session, tenant_id=chat.tenant_id)
    return sorted((r.text, r.due_at.astimezone(UTC), r.rrule) for r in page.items)


async def _entries(chat: Chat) -> int:
    return len(await chat.entries())


async def test_forgetting_a_note_never_deletes_an_expense_that_shares_its_words(
    chat: Chat,
) -> None:
    await chat.say("gastei 100 no presente do Marcos")
    await chat.say("o Marcos me deve 100")
    await chat.say("o Marcos me pagou")
    said = await chat.say("apaga a nota de q o Marcos me deve, ele ja pagou")
    assert "me deve 100" in said
    assert await _entries(chat) == 1  # the expense stays
    assert await _notes(chat) == ["o Marcos me pagou"]


async def test_what_is_still_owed_follows_the_payments_noted(chat: Chat) -> None:
    await chat.say("a Rebeca me deve 80 do presente da Ju")
    await chat.say("a Rebeca me pagou metade")
    assert "ainda te deve R$ 40,00" in await chat.say("qnt a Rebeca ainda me deve?")
    await chat.say("a Bruna me emprestou 40 pro uber")
    await chat.say("paguei 20 pra Bruna")  # paying back a debt: a note, not an expense
    assert "você ainda deve R$ 20,00 a Bruna" in await chat.say("quanto eu devo pra Bruna?")
    await chat.say("recebi os 40 da Rebeca")
    assert "Rebeca" not in await chat.say("quem me deve?")
    assert await _entries(chat) == 0


async def test_who_owes_me_leaves_out_whoever_paid_back(chat: Chat) -> None:
    await chat.say("o Marcos me deve 100")
    await chat.say("a Julia me deve 50")
    await chat.say("o Marcos me pagou")
    said = await chat.say("quem me deve?")
    assert "Julia" in said
    assert "Marcos" not in said
    await chat.say("a Julia me pagou metade")
    assert "Julia" in await chat.say("quem ta me devendo?")


async def test_a_detail_is_forgotten_by_its_name(chat: Chat) -> None:
    await chat.say("o email do Augusto eh augusto@gmail.com")
    said = await chat.say("esquece o email do Augusto")
    assert "e-mail" in said
    assert (await _person(chat, "Augusto")).email is None
    assert "Não tenho o e-mail de Augusto" in await chat.say("qual o email do Augusto?")


async def test_names_typed_in_lower_case_are_the_people_kept(chat: Chat) -> None:
    await chat.say("o Rafa trabalha na Vale")
    assert "Vale" in await chat.say("onde o rafa trabalha?")
    assert "Vale" in await chat.say("me fala tudo sobre o rafa")
    assert await _notes(chat) == ["o Rafa trabalha na Vale"]


async def test_a_correction_after_a_read_back_revises_that_person(chat: Chat) -> None:
    await chat.say("a Carla mora em SP")
    await chat.say("o q vc sabe da Carla?")
    said = await chat.say("na vdd ela mudou pra Floripa")
    assert "Floripa" in said
    assert await _notes(chat) == ["Carla mudou pra Floripa"]


async def test_a_birthday_corrected_by_its_day_keeps_its_month(chat: Chat) -> None:
    await chat.say("o niver da Bia eh 12 de maio")
    assert "13/05" in await chat.say("na vdd eh dia 13")
    birthday = (await _person(chat, "Bia")).birthday
    assert birthday is not None
    assert (birthday.month, birthday.day) == (5, 13)


async def test_a_birthday_reminder_repeats_every_year_ahead_of_the_day(chat: Chat) -> None:
    await chat.say("o niver da Carla eh 20 de maio")
    said = await chat.say("me lembra do niver da Carla um dia antes")
    assert "19/05" in said
    assert "todo ano" in said
    # 19 May 09:00 in São Paulo
    assert await _reminders(chat) == [
        ("aniversário de Carla", datetime(2026, 5, 19, 12, 0, tzinfo=UTC), "FREQ=YEARLY")
    ]
    listed = await chat.say("quais aniversarios tenho anotado?")
    assert "20/05: Carla" in listed


async def test_a_birthday_reminder_asks_the_day_it_does_not_know(chat: Chat) -> None:
    assert "Quando" in await chat.say("me lembra do aniversario do Tiago")
    said = await chat.say("3 de julho")
    assert "03/07" in said
    assert (await _person(chat, "Tiago")).birthday == date(2026, 7, 3)
    assert [r[2] for r in await _reminders(chat)] == ["FREQ=YEARLY"]


async def test_a_warning_ahead_of_the_event_just_told(chat: Chat) -> None:
    await chat.say("dia 15 tenho prova de calculo as 8h")
    said = await chat.say("me avisa na vespera")
    assert "14/03 às 20:00" in said
    await chat.say("sexta tenho dentista as 14h")
    await chat.say("me lembra 2h antes")
    times = sorted((due, text) for text, due, _ in await _reminders(chat))
    assert times == [
        (datetime(2026, 3, 6, 15, 0, tzinfo=UTC), "Dentista"),  # Friday 12:00, 2h ahead
        (datetime(2026, 3, 14, 23, 0, tzinfo=UTC), "Prova de calculo"),
    ]


async def test_a_question_is_never_taken_for_the_answer_awaited(chat: Chat) -> None:
    assert "quê" in await chat.say("me lembra amanha")
    said = await chat.say("o q vc sabe do Rafa")
    assert "Rafa" in said
    assert await _reminders(chat) == []


async def test_how_much_came_in_is_a_question_not_a_record(chat: Chat) -> None:
    await chat.say("recebi 300 de freela")
    said = await chat.say("recebi quanto hj?")
    assert "300,00" in said
    assert await _entries(chat) == 1
    await chat.say("dia 2 de marco 120 no restaurante")
    assert await _entries(chat) == 2


async def test_someone_told_with_their_number_is_saved_and_found_by_role(chat: Chat) -> None:
    assert "Salvei Paulo" in await chat.say("meu contador eh o Paulo, 11 3333-4444")
    assert "11 3333-4444" in await chat.say("qual o telefone do contador?")


async def test_a_reminder_to_fetch_what_was_left_says_what_and_where(chat: Chat) -> None:
    said = await chat.say("levei o carro no conserto, me lembra de buscar amanha as 17h")
    assert "buscar o carro no conserto" in said
    await chat.say("emprestei meu livro pro Joao, me lembra de pedir de volta semana que vem")
    assert await _notes(chat) == ["emprestei meu livro pro Joao"]
    texts = [text for text, _, _ in await _reminders(chat)]
    assert texts == ["buscar o carro no conserto", "pedir de volta"]


async def test_a_correction_right_after_a_list_of_one_changes_that_record(chat: Chat) -> None:
    await chat.say("marca dentista terca as 14h")
    await chat.say("quais meus compromissos?")
    assert "11/03 às 14:00" in await chat.say("ops, eh quarta*")


async def test_a_meeting_moved_takes_its_warning_with_it(chat: Chat) -> None:
    await chat.say("dentista dia 5 as 14h, me avisa 1h antes")
    assert "06/03 às 15:00" in await chat.say("muda o dentista pra dia 6 as 15h")
    due = [d for _, d, _ in await _reminders(chat)]
    assert due == [datetime(2026, 3, 6, 17, 0, tzinfo=UTC)]  # 14:00 in São Paulo


async def test_names_typed_in_lower_case_where_only_a_person_fits(chat: Chat) -> None:
    assert "Rafa" in await chat.say("o rafa faz niver dia 3 de julho")
    assert "03/07" in await chat.say("quando eh o niver do rafa?")
    assert "Tiago" in await chat.say("o tiago me deve 50")
    assert await chat.entries() == []  # a debt noted, not an expense
