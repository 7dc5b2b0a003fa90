"""Hosted models for what the router is unsure of, through the real pipeline on real databases
and fake OpenAI-compatible servers on 127.0.0.1: the offline planner answers what the router is
sure of, a cheap hosted model the rest (a strong one when the cheap answer is unusable), never
past the tenant's monthly budget, and the offline planner when no hosted answer is usable."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import auth, drain, make_settings
from tests.fakes.openai import FakeOpenAI
from whatsapp_ai.ai.agents.engine import AGENTS, AssistantEngine
from whatsapp_ai.ai.router import IntentRouter
from whatsapp_ai.billing import plans as catalogue
from whatsapp_ai.billing import service as billing
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.db import system_scope, tenant_scope
from whatsapp_ai.finance import service as finance
from whatsapp_ai.relationships import service as crm

ANA = "+5511999990001"
# Below this router score a request counts as unsure (the router itself accepts from 0.34).
CONFIDENT = 0.5
# The router reads this as a note about someone, at 0.37: unsure.
UNSURE_REMINDER = "a sogra faz aniversário sexta, segura essa pra mim"
PRICE = {"input_per_mtok": 10.0, "output_per_mtok": 10.0}


@pytest.fixture(scope="module")
def cheap() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(scope="module")
def strong() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(scope="module")
def router() -> IntentRouter:
    built = IntentRouter()
    built.warm()
    return built


def _spec(fake: FakeOpenAI, model: str, tier: str) -> dict[str, Any]:
    return {
        "provider": "openai_compatible",
        "model": model,
        "base_url": fake.base_url,
        # Room for a loaded machine; the slow fake (20 s) still times out.
        "timeout_s": 8,
        "max_retries": 0,
        "tier": tier,
    }


@pytest.fixture
async def container(
    db_url: str, tmp_path: Path, cheap: FakeOpenAI, strong: FakeOpenAI, router: IntentRouter
) -> AsyncIterator[Container]:
    """The platform with a cheap and a strong hosted model configured, both priced."""
    cheap.reset()
    strong.reset()
    settings = make_settings(
        db_url,
        tmp_path,
        ai={
            "providers": [
                _spec(cheap, "cheap-model", "cheap"),
                _spec(strong, "strong-model", "strong"),
            ],
            "prices": {
                "openai_compatible:cheap-model": PRICE,
                "openai_compatible:strong-model": PRICE,
            },
            "confident_score": CONFIDENT,
        },
    )
    built = bootstrap(settings)
    assert isinstance(built.reply_step, AssistantEngine)
    built.reply_step.router = router  # the catalogue embedded once for the module
    yield built
    await built.close()


async def _say(client: httpx.AsyncClient, key: str, text: str, n: int) -> None:
    response = await client.post(
        "/channels/sandbox/messages",
        json={"from": ANA, "text": text, "id": f"h-{n}", "profile_name": "Ana"},
        headers=auth(key),
    )
    assert response.status_code == 202, response.text


async def _last_trace(client: httpx.AsyncClient, key: str) -> dict[str, Any]:
    listed = (await client.get("/assistant/traces", headers=auth(key))).json()
    newest = listed["items"][0]["id"]
    return dict((await client.get(f"/assistant/traces/{newest}", headers=auth(key))).json())


async def _reminders(container: Container, tenant_id: str) -> list[str]:
    with tenant_scope(tenant_id):
        async with container.db.read() as session:
            page = await crm.list_reminders(session, tenant_id=tenant_id)
    return [reminder.text for reminder in page.items]


async def _expenses(container: Container, tenant_id: str) -> int:
    with tenant_scope(tenant_id):
        async with container.db.read() as session:
            return len((await finance.list_entries(session, tenant_id=tenant_id)).items)


def _friday(container: Container) -> str:
    return (container.clock.now() + timedelta(days=3)).replace(microsecond=0).isoformat()


def _outbound(trace: dict[str, Any]) -> list[str]:
    return [clause.get("route") for clause in trace["detail"]["clauses"]]


async def test_an_unsure_request_goes_to_the_cheap_model_which_calls_the_tool(
    container: Container,
    client: httpx.AsyncClient,
    tenant: dict[str, str],
    cheap: FakeOpenAI,
    strong: FakeOpenAI,
) -> None:
    cheap.tool_call("add_reminder", {"text": "aniversário da sogra", "due_at": _friday(container)})
    cheap.reply("Combinado, te lembro do aniversário da sogra na sexta.")
    await _say(client, tenant["key"], UNSURE_REMINDER, 1)
    await drain(container)

    assert await _reminders(container, tenant["id"]) == ["aniversário da sogra"]
    assert [r.model for r in cheap.requests] == ["cheap-model", "cheap-model"]
    assert strong.requests == []
    # Every enabled agent's tools at once, the router's guess not among the instructions.
    offered = set(cheap.requests[0].tool_names)
    # Every agent's tools but the shop's: this personal assistant has no catalog.
    assert offered == {
        tool.name for name, agent in AGENTS.items() if name != "sales" for tool in agent.tools
    }
    assert "[route]" not in cheap.requests[0].messages[0]["content"]
    trace = await _last_trace(client, tenant["key"])
    assert trace["model"] == "cheap-model"
    assert _outbound(trace) == ["low-confidence-hosted"]
    [clause] = trace["detail"]["clauses"]
    assert clause["tool_calls"] == ["add_reminder"]
    assert clause["hosted"] == [
        {"tier": "cheap", "models": "openai_compatible:cheap-model", "outcome": "answered"}
    ]
    assert trace["cost_usd"] > 0


async def test_a_request_the_router_is_sure_of_never_reaches_a_hosted_model(
    container: Container,
    client: httpx.AsyncClient,
    tenant: dict[str, str],
    cheap: FakeOpenAI,
    strong: FakeOpenAI,
) -> None:
    await _say(client, tenant["key"], "gastei 50 no mercado", 2)
    await drain(container)

    assert await _expenses(container, tenant["id"]) == 1
    assert cheap.requests == []
    assert strong.requests == []
    trace = await _last_trace(client, tenant["key"])
    assert trace["model"] == "offline-planner"
    assert _outbound(trace) == ["confident-offline"]
    assert trace["cost_usd"] == 0.0


async def test_when_every_hosted_model_fails_the_offline_planner_answers(
    container: Container,
    client: httpx.AsyncClient,
    tenant: dict[str, str],
    cheap: FakeOpenAI,
    strong: FakeOpenAI,
) -> None:
    cheap.fail(500, times=None)
    strong.slow(20.0, times=None)
    await _say(client, tenant["key"], UNSURE_REMINDER, 3)
    await drain(container)

    assert len(cheap.requests) == 1
    assert len(strong.requests) <= 1  # a timed-out request is not retried
    trace = await _last_trace(client, tenant["key"])
    assert trace["model"] == "offline-planner"
    assert _outbound(trace) == ["fallback"]
    [clause] = trace["detail"]["clauses"]
    assert [a["outcome"] for a in clause["hosted"]] == [
        "failed: OpenAIAPIError",
        "failed: TimeoutError",
    ]
    # The offline planner read the request as the router did, as it does without hosted models.
    assert clause["agent"] == "crm"
    assert clause["intent"] == "crm.log_interaction"
    assert await _reminders(container, tenant["id"]) == []


@pytest.mark.parametrize(
    ("cheap_answer", "why"),
    [
        ({"content": "UNSURE"}, "unusable: unsure"),
        ({"content": "Que legal, parabéns pra sua sogra!"}, "unusable: no tool call"),
        ({"tool": ("add_reminder", {"text": "aniversário"})}, "unusable: invalid arguments"),
        ({"tool": ("launch_rocket", {})}, "unusable: unknown tool launch_rocket"),
    ],
)
async def test_an_unusable_cheap_answer_is_escalated_to_the_strong_model(
    container: Container,
    client: httpx.AsyncClient,
    tenant: dict[str, str],
    cheap: FakeOpenAI,
    strong: FakeOpenAI,
    cheap_answer: dict[str, Any],
    why: str,
) -> None:
    if "tool" in cheap_answer:
        cheap.tool_call(*cheap_answer["tool"])
    else:
        cheap.reply(cheap_answer["content"])
    strong.tool_call("add_reminder", {"text": "aniversário da sogra", "due_at": _friday(container)})
    strong.reply("Anotado: aniversário da sogra na sexta.")
    await _say(client, tenant["key"], UNSURE_REMINDER, 4)
    await drain(container)

    assert len(cheap.requests) == 1
    assert [r.model for r in strong.requests] == ["strong-model", "strong-model"]
    assert await _reminders(container, tenant["id"]) == ["aniversário da sogra"]
    trace = await _last_trace(client, tenant["key"])
    assert trace["model"] == "strong-model"
    assert _outbound(trace) == ["escalated"]
    [clause] = trace["detail"]["clauses"]
    cheap_try, strong_try = clause["hosted"]
    assert cheap_try["outcome"].startswith(why)
    assert strong_try == {
        "tier": "strong",
        "models": "openai_compatible:strong-model",
        "outcome": "answered",
    }


async def test_a_question_back_is_a_usable_answer(
    container: Container,
    client: httpx.AsyncClient,
    tenant: dict[str, str],
    cheap: FakeOpenAI,
    strong: FakeOpenAI,
) -> None:
    cheap.reply("Quer que eu te lembre do aniversário na sexta? Que horas?")
    await _say(client, tenant["key"], UNSURE_REMINDER, 5)
    await drain(container)

    assert len(cheap.requests) == 1
    assert strong.requests == []
    trace = await _last_trace(client, tenant["key"])
    assert _outbound(trace) == ["low-confidence-hosted"]


async def test_only_the_tools_of_the_agents_switched_on_reach_the_model(
    container: Container,
    client: httpx.AsyncClient,
    tenant: dict[str, str],
    cheap: FakeOpenAI,
) -> None:
    changed = await client.patch(
        "/assistant/settings",
        json={"enabled_agents": ["agenda", "knowledge"]},
        headers=auth(tenant["key"]),
    )
    assert changed.status_code == 200, changed.text
    cheap.tool_call("add_reminder", {"text": "aniversário da sogra", "due_at": _friday(container)})
    cheap.reply("Combinado.")
    await _say(client, tenant["key"], UNSURE_REMINDER, 6)
    await drain(container)

    offered = set(cheap.requests[0].tool_names)
    expected = {tool.name for name in ("crm", "knowledge") for tool in AGENTS[name].tools}
    assert offered == expected
    assert not offered & {tool.name for tool in AGENTS["finance"].tools}
    assert not offered & {tool.name for tool in AGENTS["sales"].tools}
    system = cheap.requests[0].messages[0]["content"]
    assert "- crm:" in system
    assert "- finance:" not in system
    assert await _reminders(container, tenant["id"]) == ["aniversário da sogra"]


async def test_once_the_monthly_budget_is_spent_only_the_offline_model_answers(
    container: Container,
    client: httpx.AsyncClient,
    tenant: dict[str, str],
    cheap: FakeOpenAI,
    strong: FakeOpenAI,
) -> None:
    refused = await client.patch(
        "/assistant/settings", json={"monthly_ai_budget_usd": -1}, headers=auth(tenant["key"])
    )
    assert refused.status_code == 422
    changed = await client.patch(
        "/assistant/settings", json={"monthly_ai_budget_usd": 0.05}, headers=auth(tenant["key"])
    )
    assert changed.json()["monthly_ai_budget_usd"] == 0.05
    # 5000 tokens at USD 10 per million: 0.05, the whole budget, in the first reply.
    cheap.tool_call(
        "add_reminder",
        {"text": "aniversário da sogra", "due_at": _friday(container)},
        prompt_tokens=4000,
        completion_tokens=500,
    )
    cheap.reply("Combinado.", prompt_tokens=400, completion_tokens=100)
    await _say(client, tenant["key"], UNSURE_REMINDER, 7)
    await drain(container)
    assert len(cheap.requests) == 2

    usage = (await client.get("/assistant/usage", headers=auth(tenant["key"]))).json()
    assert usage["budget"]["monthly_ai_budget_usd"] == 0.05
    assert usage["budget"]["spent_usd"] == pytest.approx(0.05)
    assert usage["budget"]["remaining_usd"] == 0.0
    assert [m["model"] for m in usage["models"]] == ["cheap-model"]

    cheap.reset()
    strong.reset()
    await _say(client, tenant["key"], UNSURE_REMINDER, 8)
    await drain(container)

    assert cheap.requests == []
    assert strong.requests == []
    trace = await _last_trace(client, tenant["key"])
    assert trace["model"] == "offline-planner"
    assert _outbound(trace) == ["budget-exhausted"]
    assert trace["detail"]["budget"] == {"monthly_usd": 0.05, "spent_usd": pytest.approx(0.05)}
    assert trace["cost_usd"] == 0.0


async def test_the_plans_ai_token_quota_holds_a_turn_and_then_only_offline_answers(
    container: Container,
    client: httpx.AsyncClient,
    tenant: dict[str, str],
    cheap: FakeOpenAI,
    strong: FakeOpenAI,
) -> None:
    # A turn holds up to 8000 tokens before its first hosted call and settles what it used.
    with system_scope():
        async with container.db.transaction() as session:
            await billing.set_plan(
                session,
                tenant_id=tenant["id"],
                plan="free",
                actor="test",
                now=container.clock.now(),
            )
            await catalogue.update_plan(
                session,
                code="free",
                changes={"features": {billing.AI_TOKENS: 10_000}},
                now=container.clock.now(),
            )
    cheap.tool_call(
        "add_reminder",
        {"text": "aniversário da sogra", "due_at": _friday(container)},
        prompt_tokens=4000,
        completion_tokens=500,
    )
    cheap.reply("Combinado.", prompt_tokens=400, completion_tokens=100)
    await _say(client, tenant["key"], UNSURE_REMINDER, 11)
    await drain(container)
    assert len(cheap.requests) == 2
    usage = (await client.get("/billing/usage", headers=auth(tenant["key"]))).json()
    tokens = {q["feature"]: q for q in usage["quotas"]}[billing.AI_TOKENS]
    assert (tokens["used"], tokens["quota"], tokens["remaining"]) == (5000, 10_000, 5000), tokens

    cheap.reset()
    strong.reset()
    await _say(client, tenant["key"], UNSURE_REMINDER, 12)
    await drain(container)
    assert cheap.requests == []  # 5000 left cannot hold a turn's 8000
    assert strong.requests == []
    trace = await _last_trace(client, tenant["key"])
    assert trace["model"] == "offline-planner"
    assert trace["detail"]["quota"] == billing.AI_TOKENS


async def test_raising_the_budget_lets_hosted_models_answer_again(
    container: Container,
    client: httpx.AsyncClient,
    tenant: dict[str, str],
    cheap: FakeOpenAI,
) -> None:
    await client.patch(
        "/assistant/settings", json={"monthly_ai_budget_usd": 0}, headers=auth(tenant["key"])
    )
    await _say(client, tenant["key"], UNSURE_REMINDER, 9)
    await drain(container)
    assert cheap.requests == []
    assert _outbound(await _last_trace(client, tenant["key"])) == ["budget-exhausted"]

    await client.patch(
        "/assistant/settings", json={"monthly_ai_budget_usd": None}, headers=auth(tenant["key"])
    )
    cheap.reply("Que horas na sexta?")
    await _say(client, tenant["key"], UNSURE_REMINDER, 10)
    await drain(container)
    assert len(cheap.requests) == 1
    usage = (await client.get("/assistant/usage", headers=auth(tenant["key"]))).json()
    assert usage["budget"]["monthly_ai_budget_usd"] is None
    assert usage["budget"]["remaining_usd"] is None
