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
