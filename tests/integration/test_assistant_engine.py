"""The assistant end to end on real databases with the offline model: routing, tools that
write and read the contact's records, several requests in one message, and retried turns."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.fakes.openai import FakeOpenAI
from whatsapp_ai.ai.agents.engine import AssistantEngine, offline_model, record_usage
from whatsapp_ai.ai.llm import ProviderSpec, build_chain
from whatsapp_ai.ai.router import IntentRouter
from whatsapp_ai.ai.service import HistoryItem, TurnInput
from whatsapp_ai.bootstrap import Container, assistant
from whatsapp_ai.core.clock import ManualClock
from whatsapp_ai.core.db import tenant_scope
from whatsapp_ai.finance import service as finance
from whatsapp_ai.identity import service as identity
from whatsapp_ai.relationships import service as crm

NOW = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)  # Wednesday 10:00 in São Paulo


@pytest.fixture(scope="module")
def router() -> IntentRouter:
    built = IntentRouter()
    built.warm()
    return built


@pytest.fixture
async def people(container: Container, tenant: dict[str, str]) -> dict[str, str]:
    ids = {}
    async with container.db.transaction() as session:
        for name, address in (("Ana", "+5511999990001"), ("Bruno", "+5511999990002")):
            contact = await identity.get_or_create_contact(
                session, tenant_id=tenant["id"], address=address, profile_name=name, now=NOW
            )
            ids[name] = contact.id
    return ids


def _engine(container: Container, router: IntentRouter) -> AssistantEngine:
    return AssistantEngine(db=container.db, router=router, model=offline_model())


def _turn(
    tenant: dict[str, str], contact_id: str, text: str, message_id: str, **extra: object
) -> TurnInput:
    return TurnInput(
        tenant_id=tenant["id"],
        tenant_name="Padaria Teste",
        contact_id=contact_id,
        contact_name="Ana",
        conversation_id="conv-1",
        text=text,
        message_id=message_id,
        now=NOW,
        contact_timezone="America/Sao_Paulo",
        **extra,  # type: ignore[arg-type]
    )


async def _entries(
    container: Container, tenant_id: str, contact_id: str
) -> list[tuple[str, str, Decimal, str]]:
    with tenant_scope(tenant_id):
        async with container.db.read() as session:
            page = await finance.list_entries(session, tenant_id=tenant_id, contact_id=contact_id)
    return [(e.kind, e.category, e.amount, str(e.occurred_on)) for e in page.items]


async def test_an_expense_is_recorded_and_confirmed(
    container: Container, tenant: dict[str, str], people: dict[str, str], router: IntentRouter
) -> None:
    engine = _engine(container, router)
    reply = await engine.reply(_turn(tenant, people["Ana"], "gastei 50 no mercado", "m1"))
    assert reply.text == "Anotei: gasto de R$ 50,00 em mercado, hoje."
    assert reply.resolved
    assert await _entries(container, tenant["id"], people["Ana"]) == [
        ("expense", "groceries", Decimal("50.00"), "2026-03-04")
    ]
    assert reply.trace is not None
    assert reply.trace["clauses"][0]["intent"] == "finance.add_expense"
    assert reply.trace["tools"][0]["tool"] == "record_expense"


async def test_a_retried_turn_records_once(
    container: Container, tenant: dict[str, str], people: dict[str, str], router: IntentRouter
) -> None:
    engine = _engine(container, router)
    turn = _turn(tenant, people["Ana"], "paguei R$ 120,50 de luz ontem no pix", "m-retry")
    first = await engine.reply(turn)
    again = await engine.reply(turn)
    assert first.text == again.text
    assert await _entries(container, tenant["id"], people["Ana"]) == [
        ("expense", "housing", Decimal("120.50"), "2026-03-03")
    ]


async def test_totals_answer_by_period_and_category_for_that_contact_only(
    container: Container, tenant: dict[str, str], people: dict[str, str], router: IntentRouter
) -> None:
    engine = _engine(container, router)
    for n, text in enumerate(["gastei 50 no mercado", "gastei 30 de uber", "gastei 20 na padaria"]):
        await engine.reply(_turn(tenant, people["Ana"], text, f"a{n}"))
    await engine.reply(_turn(tenant, people["Bruno"], "gastei 999 no mercado", "b1"))
    month = await engine.reply(_turn(tenant, people["Ana"], "quanto gastei esse mês?", "q1"))
    assert month.text.startswith("Em março de 2026 você gastou R$ 100,00")
    assert "mercado R$ 70,00" in month.text
    only = await engine.reply(_turn(tenant, people["Ana"], "quanto gastei com transporte?", "q2"))
    assert "R$ 30,00" in only.text


async def test_fix_and_delete_the_last_entry(
    container: Container, tenant: dict[str, str], people: dict[str, str], router: IntentRouter
) -> None:
    engine = _engine(container, router)
    await engine.reply(_turn(tenant, people["Ana"], "gastei 50 no mercado", "e1"))
    fixed = await engine.reply(_turn(tenant, people["Ana"], "na verdade foi 45", "e2"))
    assert fixed.text.startswith("Corrigi o último lançamento: gasto de R$ 45,00")
    gone = await engine.reply(_turn(tenant, people["Ana"], "apaga esse", "e3"))
    assert gone.text.startswith("Apaguei o último lançamento")
    assert await _entries(container, tenant["id"], people["Ana"]) == []


async def test_two_requests_in_one_message_are_both_done(
    container: Container, tenant: dict[str, str], people: dict[str, str], router: IntentRouter
) -> None:
    engine = _engine(container, router)
    reply = await engine.reply(
        _turn(
            tenant,
            people["Ana"],
            "gastei 50 no mercado e me lembra de ligar pro João amanhã às 15h",
            "multi",
        )
    )
    assert "Anotei: gasto de R$ 50,00 em mercado" in reply.text
    assert "vou te lembrar amanhã às 15:00: ligar pro João" in reply.text
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            reminders = await crm.list_reminders(session, tenant_id=tenant["id"])
    [reminder] = reminders.items
    assert reminder.due_at == datetime(2026, 3, 5, 18, 0, tzinfo=UTC)


async def test_english_and_dollars(
    container: Container, tenant: dict[str, str], people: dict[str, str], router: IntentRouter
) -> None:
    engine = _engine(container, router)
    history = [HistoryItem(author="user", body="hello, how are you doing today?")]
    reply = await engine.reply(
        _turn(tenant, people["Ana"], "I spent $12.50 on lunch", "en1", history=history)
    )
    assert reply.text == "Noted: $12.50 spent on restaurants, today."


async def test_an_amount_without_a_marker_is_in_the_contacts_currency(
    container: Container, tenant: dict[str, str], people: dict[str, str], router: IntentRouter
) -> None:
    engine = _engine(container, router)
    usd = {"currency": "USD", "language": "en"}
    reply = await engine.reply(
        _turn(tenant, people["Ana"], "spent 20 on lunch", "cur1", contact_preferences=usd)
    )
    assert "$20.00" in reply.text
    await engine.reply(
        _turn(tenant, people["Ana"], "also 5 EUR on coffee", "cur2", contact_preferences=usd)
    )
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            page = await finance.list_entries(
                session, tenant_id=tenant["id"], contact_id=people["Ana"]
            )
    assert sorted((e.currency, e.amount) for e in page.items) == [
        ("EUR", Decimal("5.00")),
        ("USD", Decimal("20.00")),
    ]


async def test_off_topic_is_not_pretended(
    container: Container, tenant: dict[str, str], people: dict[str, str], router: IntentRouter
) -> None:
    engine = _engine(container, router)
    reply = await engine.reply(_turn(tenant, people["Ana"], "qual a capital da França?", "x1"))
    assert reply.resolved is False
    assert await _entries(container, tenant["id"], people["Ana"]) == []


async def test_a_missing_amount_is_asked_for(
    container: Container, tenant: dict[str, str], people: dict[str, str], router: IntentRouter
) -> None:
    engine = _engine(container, router)
    reply = await engine.reply(_turn(tenant, people["Ana"], "gastei no mercado hoje", "n1"))
    assert reply.text == "Qual foi o valor?"
    assert await _entries(container, tenant["id"], people["Ana"]) == []


async def test_a_turn_without_its_own_time_is_dated_by_the_platform_clock(
    container: Container, tenant: dict[str, str], people: dict[str, str]
) -> None:
    clock = ManualClock(datetime(2025, 7, 10, 15, 0, tzinfo=UTC))  # Thursday noon in São Paulo
    engine = assistant(container.settings, container.db, clock=clock)
    turn = replace(_turn(tenant, people["Ana"], "gastei 50 no mercado ontem", "c1"), now=None)
    reply = await engine.reply(turn)
    assert reply.text == "Anotei: gasto de R$ 50,00 em mercado, ontem."
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            found = await finance.list_entries(
                session, tenant_id=tenant["id"], contact_id=people["Ana"]
            )
    [entry] = found.items
    assert str(entry.occurred_on) == "2025-07-09"
    assert entry.created_at == clock.now()


# --- hosted models (a fake OpenAI-compatible server on 127.0.0.1) ---------------------------


@pytest.fixture(scope="module")
def hosted() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def _hosted_engine(container: Container, router: IntentRouter, fake: FakeOpenAI) -> AssistantEngine:
    spec = ProviderSpec(
        provider="openai_compatible",
        model="llama-3.1-8b",
        base_url=fake.base_url,
        timeout_s=2.0,
        max_retries=0,
    )
    model = build_chain([spec], offline=offline_model(), sink=record_usage)
    return AssistantEngine(db=container.db, router=router, model=model)


async def test_a_hosted_model_calls_the_tool_and_words_the_answer(
    container: Container,
    tenant: dict[str, str],
    people: dict[str, str],
    router: IntentRouter,
    hosted: FakeOpenAI,
) -> None:
    hosted.reset()
    hosted.tool_call("record_expense", {"amount": "42.90", "category": "groceries"})
    hosted.reply("Pronto, anotei R$ 42,90 no mercado.")
    engine = _hosted_engine(container, router, hosted)
    reply = await engine.reply(_turn(tenant, people["Ana"], "gastei 42,90 no mercado", "h1"))
    assert reply.text == "Pronto, anotei R$ 42,90 no mercado."
    assert await _entries(container, tenant["id"], people["Ana"]) == [
        ("expense", "groceries", Decimal("42.90"), "2026-03-04")
    ]
    first = hosted.requests[0]
    assert "record_expense" in first.tool_names
    system = first.messages[0]["content"]
    assert "[context] now=2026-03-04T10:00:00-03:00" in system
    # The model is never asked for the tenant or contact: they are not tool arguments.
    for tool in first.body["tools"]:
        assert not {"tenant_id", "contact_id"} & set(tool["function"]["parameters"]["properties"])
    assert reply.trace is not None
    assert [u["model"] for u in reply.trace["usage"]] == ["llama-3.1-8b", "llama-3.1-8b"]


async def test_when_the_provider_fails_the_offline_model_answers(
    container: Container,
    tenant: dict[str, str],
    people: dict[str, str],
    router: IntentRouter,
    hosted: FakeOpenAI,
) -> None:
    hosted.reset()
    hosted.fail(429, retry_after=30, times=None)
    engine = _hosted_engine(container, router, hosted)
    reply = await engine.reply(_turn(tenant, people["Ana"], "gastei 50 no mercado", "h2"))
    assert reply.text == "Anotei: gasto de R$ 50,00 em mercado, hoje."
    assert reply.trace is not None
    assert [(u["provider"], u["fallback"]) for u in reply.trace["usage"]][:2] == [
        ("openai_compatible", False),
        ("offline", True),
    ]


async def test_a_model_that_invents_another_contact_cannot_reach_it(
    container: Container,
    tenant: dict[str, str],
    people: dict[str, str],
    router: IntentRouter,
    hosted: FakeOpenAI,
) -> None:
    hosted.reset()
    hosted.tool_call(
        "record_expense", {"amount": "10", "contact_id": people["Bruno"], "tenant_id": "other"}
    )
    hosted.reply("ok")
    engine = _hosted_engine(container, router, hosted)
    await engine.reply(_turn(tenant, people["Ana"], "gastei 10 no mercado", "h3"))
    assert await _entries(container, tenant["id"], people["Bruno"]) == []
    assert await _entries(container, tenant["id"], people["Ana"]) == []
