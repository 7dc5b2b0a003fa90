"""Each tenant's assistant: agents switched on or off, its own chat models, PII redaction
before text leaves for a provider, and the reply traces with their retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from tests.conftest import auth, drain
from tests.fakes.openai import FakeOpenAI
from whatsapp_ai.bootstrap import Container, assistant
from whatsapp_ai.core.db import tenant_scope
from whatsapp_ai.finance import service as finance

ANA = "+5511999990001"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


async def _say(client: httpx.AsyncClient, key: str, text: str, n: int) -> None:
    response = await client.post(
        "/channels/sandbox/messages",
        json={"from": ANA, "text": text, "id": f"s-{n}", "profile_name": "Ana"},
        headers=auth(key),
    )
    assert response.status_code == 202, response.text


async def _entries(container: Container, tenant_id: str) -> int:
    with tenant_scope(tenant_id):
        async with container.db.read() as session:
            return len((await finance.list_entries(session, tenant_id=tenant_id)).items)


async def test_every_reply_leaves_a_trace_with_usage(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    await _say(client, tenant["key"], "gastei 50 no mercado", 1)
    await drain(container)
    listed = (await client.get("/assistant/traces", headers=auth(tenant["key"]))).json()
    [trace] = listed["items"]
    assert listed["next_cursor"] is None
    assert trace["intents"] == ["finance.add_expense"]
    assert trace["model"] == "offline-planner"
    assert trace["tokens_in"] > 0
    assert trace["detail"] is None
    one = (await client.get(f"/assistant/traces/{trace['id']}", headers=auth(tenant["key"]))).json()
    assert one["detail"]["tools"][0]["tool"] == "record_expense"
    now = container.clock.now()
    usage = await client.get(
        "/assistant/usage",
        params={
            "from": (now - timedelta(days=1)).isoformat(),
            "to": (now + timedelta(days=1)).isoformat(),
        },
        headers=auth(tenant["key"]),
    )
    assert usage.json()["models"] == [
        {
            "model": "offline-planner",
            "replies": 1,
            "tokens_in": trace["tokens_in"],
            "tokens_out": trace["tokens_out"],
            "cost_usd": 0.0,
        }
    ]
    assert usage.json()["budget"]["monthly_ai_budget_usd"] is None
    assert usage.json()["budget"]["remaining_usd"] is None
    messages = await client.get(
        f"/conversations/{one['conversation_id']}/messages", headers=auth(tenant["key"])
    )
    assert all("trace" not in str(m) for m in messages.json()["items"])


async def test_an_agent_switched_off_does_nothing(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    changed = await client.patch(
        "/assistant/settings", json={"enabled_agents": ["crm"]}, headers=auth(tenant["key"])
    )
    assert changed.status_code == 200, changed.text
    # The legacy name is the agenda, shown by the README's name.
    assert changed.json()["enabled_agents"] == ["agenda"]
    await _say(client, tenant["key"], "gastei 50 no mercado", 2)
    await drain(container)
    assert await _entries(container, tenant["id"]) == 0
    bad = await client.patch(
        "/assistant/settings", json={"enabled_agents": ["astrology"]}, headers=auth(tenant["key"])
    )
    assert bad.status_code == 422


async def test_a_tenants_own_model_gets_redacted_text_and_its_key_stays_hidden(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str], provider: FakeOpenAI
) -> None:
    provider.reset()
    provider.tool_call("record_expense", {"amount": "50", "category": "groceries"})
    provider.reply("Anotado.")
    # Every request goes to the chain, as when the platform sets hosted_for=every_request.
    every = container.settings.ai.model_copy(update={"hosted_for": "every_request"})
    container.reply_step = assistant(
        container.settings.model_copy(update={"ai": every}),
        container.db,
        container.box,
        clock=container.clock,
    )
    spec = {
        "provider": "openai_compatible",
        "model": "tenant-model",
        "base_url": provider.base_url,
        "api_key": "sk-tenant-secret-123456",
        "timeout_s": 2,
        "max_retries": 0,
    }
    changed = await client.patch(
        "/assistant/settings",
        json={"providers": [spec], "redact_pii": True},
        headers=auth(tenant["key"]),
    )
    assert changed.status_code == 200, changed.text
    assert "sk-tenant-secret" not in changed.text
    assert changed.json()["providers"][0]["api_key_set"] is True
    await _say(client, tenant["key"], "meu cpf é 529.982.247-25, gastei 50 no mercado", 3)
    await drain(container)
    sent = " ".join(str(m.get("content")) for r in provider.requests for m in r.messages)
    assert "gastei 50 no mercado" in sent
    assert "529.982.247-25" not in sent
    assert provider.requests[0].model == "tenant-model"
    assert await _entries(container, tenant["id"]) == 1


async def test_traces_are_kept_for_the_retention_period(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    await client.patch(
        "/assistant/settings", json={"trace_retention_days": 7}, headers=auth(tenant["key"])
    )
    await _say(client, tenant["key"], "oi", 4)
    await drain(container)
    assert await container.purge_traces() == 0
    listed = await client.get("/assistant/traces", headers=auth(tenant["key"]))
    assert len(listed.json()["items"]) == 1
    container.clock = _Later(container.clock, timedelta(days=8))  # type: ignore[assignment]
    assert await container.purge_traces() == 1


class _Later:
    def __init__(self, clock: object, delta: timedelta) -> None:
        self.clock, self.delta = clock, delta

    def now(self):  # type: ignore[no-untyped-def]
        return self.clock.now() + self.delta  # type: ignore[attr-defined]
