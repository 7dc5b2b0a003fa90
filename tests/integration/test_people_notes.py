"""People-notes through the assistant on real databases: details saved by chat are read back,
the last talk is answered (not recorded again), an ambiguous name is asked about, and a
misspelt one found."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from whatsapp_ai.ai.agents.engine import AssistantEngine, offline_model
from whatsapp_ai.ai.router import IntentRouter
from whatsapp_ai.ai.service import TurnInput
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.core.db import tenant_scope
from whatsapp_ai.finance import service as finance
from whatsapp_ai.identity import service as identity
from whatsapp_ai.relationships import service as crm

NOW = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def router() -> IntentRouter:
    built = IntentRouter()
    built.warm()
    return built


@pytest.fixture
async def ana(container: Container, tenant: dict[str, str]) -> str:
    async with container.db.transaction() as session:
        contact = await identity.get_or_create_contact(
            session, tenant_id=tenant["id"], address="+5511999990001", profile_name="Ana", now=NOW
        )
    return contact.id


class Chat:
    def __init__(self, container: Container, router: IntentRouter, tenant: str, contact: str):
        self.engine = AssistantEngine(db=container.db, router=router, model=offline_model())
        self.tenant, self.contact, self.count = tenant, contact, 0

    async def say(self, text: str) -> str:
        self.count += 1
        turn = TurnInput(
            tenant_id=self.tenant,
            tenant_name="Teste",
            contact_id=self.contact,
            contact_name="Ana",
            conversation_id="conv-1",
            text=text,
            message_id=f"m{self.count}",
            now=NOW,
            contact_timezone="America/Sao_Paulo",
        )
        return (await self.engine.reply(turn)).text


async def test_details_saved_by_chat_are_read_back(
    container: Container, tenant: dict[str, str], ana: str, router: IntentRouter
) -> None:
    chat = Chat(container, router, tenant["id"], ana)
    await chat.say("salva o contato da Maria: 11 98877-6655")
    assert "6655" in await chat.say("qual o telefone da Maria?")
    await chat.say("o telefone da Maria é 11 98888-7777")
    assert "7777" in await chat.say("qual o telefone da Maria?")
    await chat.say("anota que o Bruno gosta de futebol")
    about = await chat.say("o que eu sei sobre o Bruno?")
    assert "futebol" in about
    assert "só consigo" not in about.lower()
    await chat.say("what do I know about Bruno?")
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            found = await crm.list_people(session, tenant_id=tenant["id"], contact_id=ana)
    assert sorted(p.name for p in found.items) == ["Bruno", "Maria"]


async def test_the_last_talk_is_answered_not_recorded(
    container: Container, tenant: dict[str, str], ana: str, router: IntentRouter
) -> None:
    chat = Chat(container, router, tenant["id"], ana)
    await chat.say("encontrei o Pedro dia 17/02, ele pediu um orcamento de reforma")
    answer = await chat.say("quando foi a ultima vez que falei com o Pedro?")
    assert "17" in answer
    assert "orcamento" in answer
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            talks = await crm.list_interactions(session, tenant_id=tenant["id"], contact_id=ana)
    assert [t.happened_at.date().isoformat() for t in talks.items] == ["2026-02-17"]


async def test_a_name_matching_several_people_is_asked_about(
    container: Container, tenant: dict[str, str], ana: str, router: IntentRouter
) -> None:
    chat = Chat(container, router, tenant["id"], ana)
    await chat.say("salva o contato do Pedro Lima: 11 91111-2222")
    await chat.say("salva o contato do Pedro Alves: 11 93333-4444")
    answer = await chat.say("qual o telefone do Pedro?")
    assert "Pedro Lima" in answer
    assert "Pedro Alves" in answer
    assert "2222" not in answer


async def test_a_misspelt_name_finds_the_person_but_not_the_other_gender(
    container: Container, tenant: dict[str, str], ana: str, router: IntentRouter
) -> None:
    chat = Chat(container, router, tenant["id"], ana)
    await chat.say("salva o contato da Fernanda Lima: 11 95555-6666")
    assert "6666" in await chat.say("qual o telefone da Fernada?")
    assert "6666" not in await chat.say("qual o telefone do Fernando?")


async def test_a_question_about_someone_known_reads_their_notes(
    container: Container, tenant: dict[str, str], ana: str, router: IntentRouter
) -> None:
    chat = Chat(container, router, tenant["id"], ana)
    await chat.say("salva a Helena, dermatologista, consultorio na Av. Paulista 1500")
    await chat.say("save Mia, my accountant, 555 0173")
    assert "Paulista" in await chat.say("onde fica o consultorio da Helena?")
    assert "0173" in await chat.say("what's my accountant's number?")
    # A question about nobody the contact keeps is left to the other agents.
    assert "Paulista" not in await chat.say("onde fica o consultorio do Roberto?")


async def test_notes_keep_only_what_was_noted_and_the_list_of_people(
    container: Container, tenant: dict[str, str], ana: str, router: IntentRouter
) -> None:
    chat = Chat(container, router, tenant["id"], ana)
    assert "Você ainda não salvou ninguém" in await chat.say("quem sao meus contatos?")
    noted = await chat.say("anota q o Pedro gosta de cafe")
    assert "gosta de cafe" in noted
    assert "anota" not in noted
    await chat.say("o Marcos me deve 100 conto")
    assert "Marcos" in await chat.say("quem sao meus contatos?")
    assert "me deve 100" in await chat.say("o que eu sei sobre o Marcos?")
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            page = await finance.list_entries(session, tenant_id=tenant["id"], contact_id=ana)
    assert list(page.items) == []  # a debt is not an expense


async def test_family_words_and_what_was_noted_as_it_happened(
    container: Container, tenant: dict[str, str], ana: str, router: IntentRouter
) -> None:
    chat = Chat(container, router, tenant["id"], ana)
    await chat.say("aniversario da minha mae e dia 15 de marco")
    assert "15/03" in await chat.say("qnd e o aniversario da minha mae?")
    await chat.say("o Marcos me deve 100")
    assert "Marcos" in await chat.say("quem me deve dinheiro?")
    assert "Marcos" in await chat.say("quem me deve?")
