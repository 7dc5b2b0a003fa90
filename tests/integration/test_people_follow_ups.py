"""What people say right after telling something, through the engine on real databases: a
note corrected ("na vdd foi pra Floripa") or forgotten, a detail fixed by its last digits, a
reminder continued without its verb, a warning ahead of the reminder just made, and a time of
day already gone asked about."""

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


async def _notes(chat: Chat) -> list[str]:
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            page = await crm.list_interactions(
                session, tenant_id=chat.tenant_id, contact_id=chat.contact_id
            )
    return [item.summary for item in page.items]


async def _reminders(chat: Chat) -> list[tuple[str, datetime]]:
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            page = await crm.list_reminders(session, tenant_id=chat.tenant_id)
    return sorted((r.text, r.due_at) for r in page.items)


async def test_a_note_corrected_right_after_is_read_back_corrected(chat: Chat) -> None:
    await chat.say("a Julia se mudou pra Curitiba")
    said = await chat.say("na vdd foi pra Floripa")
    assert "Floripa" in said
    assert await _notes(chat) == ["a Julia se mudou pra Floripa"]
    about = await chat.say("onde a Julia mora?")
    assert "Floripa" in about
    assert "Curitiba" not in about


async def test_a_phone_fixed_by_its_last_digits_and_an_email_said_again(chat: Chat) -> None:
    await chat.say("salva o numero do Carlos 11 97777-1234")
    await chat.say("na vdd o final e 4321")
    assert "11 97777-4321" in await chat.say("qual o numero do Carlos?")
    await chat.say("o email do Lucas e lucas@gmail.com")
    await chat.say("corrige, e lucas.s@gmail.com")
    assert "lucas.s@gmail.com" in await chat.say("qual o email do Lucas?")


async def test_a_note_forgotten_right_after(chat: Chat) -> None:
    await chat.say("o Joao me deve 50 conto")
    said = await chat.say("esquece isso")
    assert "50" in said
    assert await _notes(chat) == []


async def test_a_reminder_continued_without_its_verb_or_for_a_warning(chat: Chat) -> None:
    await chat.say("me lembra de ligar pro Joao amanha as 9h")
    await chat.say("e pra Maria tb")
    await chat.say("me lembra de ir na consulta do dermato sexta as 15h")
    await chat.say("e me avisa 1h antes tb")
    assert await _reminders(chat) == [
        ("ir na consulta do dermato", datetime(2026, 3, 6, 17, 0, tzinfo=UTC)),
        ("ir na consulta do dermato", datetime(2026, 3, 6, 18, 0, tzinfo=UTC)),
        ("ligar pra Maria", datetime(2026, 3, 5, 12, 0, tzinfo=UTC)),
        ("ligar pro Joao", datetime(2026, 3, 5, 12, 0, tzinfo=UTC)),
    ]


async def test_a_time_of_day_already_gone_asks_the_day(chat: Chat) -> None:
    chat.now = datetime(2026, 3, 4, 12, 59, 30, tzinfo=UTC)  # 09:59:30 + 30 s: 10:00 sharp
    assert (await chat.say("me lembra de pagar o IPVA as 10h")).endswith("qual dia?")
    await chat.say("dia 12")
    assert await _reminders(chat) == [("pagar o IPVA", datetime(2026, 3, 12, 13, 0, tzinfo=UTC))]


async def test_what_is_told_of_a_person_is_noted_and_read_back(chat: Chat) -> None:
    assert "Globo" in await chat.say("a Bia trabalha na Globo")
    await chat.say("ela e designer")
    about = await chat.say("o que vc sabe da Bia?")
    assert "Globo" in about
    assert "designer" in about
    await chat.say("my boss Rick loves golf")
    assert "golf" in await chat.say("what does Rick like?")
    await chat.say("o pedro vai casar em junho")
    assert "junho" in await chat.say("o que eu sei do Pedro?")
    assert "Não tenho o aniversário de Pedro" in await chat.say("e o aniversario dele?")
    await chat.say("meu dentista e o Dr. Paulo, fica na Av Paulista")
    assert "Paulista" in await chat.say("onde fica o dentista?")
    await chat.say("o email da Carol e carol.m@uol.com.br")
    assert "carol.m@uol.com.br" in await chat.say("qual e-mail da carol?")


async def test_who_owes_lists_everyone_noted_as_owing(chat: Chat) -> None:
    await chat.say("o Joao me deve 50 conto")
    await chat.say("o Marcos me deve 100")
    said = await chat.say("quem ta me devendo?")
    assert "Joao" in said
    assert "Marcos" in said
    assert await chat.entries() == []


async def test_how_the_last_expense_was_paid_or_what_it_was_said_after_it(chat: Chat) -> None:
    await chat.say("gastei 25 ontem")
    await chat.say("foi de uber")
    await chat.say("gastei 80 no mercado")
    await chat.say("foi no cartao de credito")
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            page = await finance.list_entries(
                session, tenant_id=chat.tenant_id, contact_id=chat.contact_id
            )
    assert sorted((e.category, e.amount, e.payment_method) for e in page.items) == [
        ("groceries", Decimal("80.00"), "credit_card"),
        ("transport", Decimal("25.00"), None),
    ]


async def test_people_named_after_what_they_are_to_the_contact(chat: Chat) -> None:
    await chat.say("meu chefe, o Augusto, prefere reuniao de manha e odeia audio no whats")
    assert "manha" in await chat.say("o que eu sei do Augusto?")
    await chat.say("a vizinha do 42, dona Cida, rega minhas plantas qnd viajo, tel 11 3456-7788")
    assert "7788" in await chat.say("qual o tel da dona Cida?")
    await chat.say("my sister Amy's birthday is on september 14")
    assert "14/09" in await chat.say("when's Amy's birthday?")
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            meetings = await crm.list_meetings(session, tenant_id=chat.tenant_id)
    assert list(meetings.items) == []


async def test_people_asked_after_by_role_as_typed_and_never_by_another_name(chat: Chat) -> None:
    await chat.say("salva o encanador Jorge 11 97777-2222")
    await chat.say("anota que o Pedro tem email pedro@x.com")
    assert "97777-2222" in await chat.say("cade o numero do encanador")
    await chat.say("met Rob for coffee yesterday")
    assert "yesterday" in await chat.say("last time I talked to Rob?")
    assert "Pedro" not in await chat.say("last time I talked to Robson?")
    listed = await chat.say("quais contatos eu tenho?")
    assert "Jorge" in listed
    assert "Rob" in listed


async def test_remind_me_what_someone_said_is_a_question_about_them(chat: Chat) -> None:
    await chat.say("a Ana me pediu pra levar o livro dela")
    await chat.say("falei com a Carla anteontem, ela pediu o orcamento")
    assert "livro" in await chat.say("me lembra o que a Ana me pediu")
    assert "02/03" in await chat.say("faz quanto tempo que nao falo com a Carla?")
    with tenant_scope(chat.tenant_id):
        async with chat.container.db.read() as session:
            page = await crm.list_reminders(session, tenant_id=chat.tenant_id)
    assert list(page.items) == []


async def test_a_person_told_of_right_after_an_expense_is_noted_not_spent(chat: Chat) -> None:
    await chat.say("gastei 45 no mercado")
    assert "Globo" in await chat.say("a Bia trabalha na Globo")
    assert "Globo" in await chat.say("o que vc sabe da Bia?")
    assert len(await chat.entries()) == 1


async def test_what_someone_just_saved_is_told_with_a_pronoun(chat: Chat) -> None:
    await chat.say("salva o dr Marcelo 11 3333-4444")
    assert "cardiologista" in await chat.say("ele e meu cardiologista")
    assert "3333-4444" in await chat.say("qual o tel do cardiologista?")
    assert "Por nada" in await chat.say("obg")
