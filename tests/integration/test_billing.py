"""Plans as data, gating and metering, on real SQLite and PostgreSQL: plans managed by platform
admins only, 402s naming the feature and the plan, quotas that hold under many workers, the
fixed reply with no model call at the limit, reservations released by failed turns, alerts once
at 80% and 100% (event and signed webhook), and overage with a stable identifier."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from typer.testing import CliRunner

from tests.conftest import auth, drain, make_settings
from tests.fakes.server import ThreadedServer
from whatsapp_ai.ai.service import Reply, ReplyStep, TurnInput
from whatsapp_ai.billing import plans as catalogue
from whatsapp_ai.billing import service as billing
from whatsapp_ai.billing.alerts import ALERT_EVENT, BLOCKED_EVENT, SIGNATURE_HEADER
from whatsapp_ai.billing.models import PlanChange, UsageAlert, UsageCounter, UsageReservation
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.cli import app as cli
from whatsapp_ai.core.db import system_scope, tenant_scope
from whatsapp_ai.core.events import Event
from whatsapp_ai.core.http import SESSION_COOKIE
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.identity import service as identity

PASSWORD = "correct horse battery staple"


@dataclass
class Counting:
    """The real assistant, counting how often a turn asks it (each ask is a model call)."""

    inner: ReplyStep
    calls: int = 0
    fail: bool = False

    async def reply(self, turn: TurnInput) -> Reply:
        self.calls += 1
        if self.fail:
            raise RuntimeError("the model is down")
        return await self.inner.reply(turn)


@dataclass
class Receiver:
    """A tenant's webhook endpoint on 127.0.0.1: keeps each request it gets."""

    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        self.got.append((dict(request.headers), await request.body()))
        return Response(status_code=204)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    got = Receiver()
    app = Starlette(routes=[Route("/hook", got.handle, methods=["POST"])])
    with ThreadedServer(app) as server:
        yield got, f"{server.url}/hook"


@pytest.fixture
async def container(db_url: str, tmp_path: Path) -> AsyncIterator[Container]:
    """The platform with eight jobs at once and alerts allowed to reach 127.0.0.1."""
    settings = make_settings(
        db_url,
        tmp_path,
        queue={"concurrency": 8, "max_attempts": 2},
        usage={"alert_webhook_allow_private": True},
    )
    built = bootstrap(settings)
    built.reply_step = Counting(built.reply_step)
    yield built
    await built.close()


def _counting(container: Container) -> Counting:
    step = container.reply_step
    assert isinstance(step, Counting)
    return step


async def _tenant(container: Container, plan: str | None = "free") -> dict[str, str]:
    now = container.clock.now()
    with system_scope():
        async with container.db.transaction() as session:
            tenant = await identity.create_tenant(
                session, name="Padaria Teste", slug=f"t-{new_id().lower()[-10:]}", now=now
            )
            _key, secret = await identity.create_api_key(
                session, tenant_id=tenant.id, name="test", now=now
            )
            if plan is not None:
                await billing.set_plan(
                    session, tenant_id=tenant.id, plan=plan, actor="test", now=now
                )
    return {"id": tenant.id, "key": secret}


async def _amounts(container: Container, plan: str, **amounts: int | None) -> None:
    with system_scope():
        async with container.db.transaction() as session:
            await catalogue.update_plan(
                session, code=plan, changes={"features": amounts}, now=container.clock.now()
            )


async def _counter(container: Container, tenant_id: str, feature: str) -> UsageCounter | None:
    with tenant_scope(tenant_id):
        async with container.db.read() as session:
            return await session.scalar(
                select(UsageCounter).where(
                    UsageCounter.tenant_id == tenant_id, UsageCounter.feature == feature
                )
            )


async def _platform_admin(container: Container, client: httpx.AsyncClient) -> dict[str, str]:
    email = f"ops-{new_id().lower()}@example.com"
    with system_scope():
        async with container.db.transaction() as session:
            await identity.create_user(
                session,
                tenant_id=None,
                email=email,
                name="Ops",
                role=identity.PLATFORM_ADMIN,
                password=PASSWORD,
                now=container.clock.now(),
            )
    response = await client.post("/identity/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.cookies[SESSION_COOKIE]
    client.cookies.clear()
    return {"Cookie": f"{SESSION_COOKIE}={token}", "X-CSRF-Token": response.json()["csrf_token"]}


async def _say(client: httpx.AsyncClient, key: str, text: str, sender: str, n: str) -> None:
    response = await client.post(
        "/channels/sandbox/messages",
        json={"from": sender, "text": text, "id": n, "profile_name": "Ana"},
        headers=auth(key),
    )
    assert response.status_code == 202, response.text


async def _outbox(client: httpx.AsyncClient, key: str, to: str) -> list[dict[str, Any]]:
    response = await client.get("/channels/sandbox/outbox", params={"to": to}, headers=auth(key))
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- plans as data, managed by platform admins only -------------------------------------------


async def test_plans_are_seeded_as_data_and_only_platform_admins_manage_them(
    container: Container, client: httpx.AsyncClient
) -> None:
    tenant = await _tenant(container)
    listed = await client.get("/billing/plans", headers=auth(tenant["key"]))
    assert listed.status_code == 200, listed.text
    plans = {plan["code"]: plan for plan in listed.json()["items"]}
    assert list(plans) == ["free", "pro", "enterprise"]
    assert plans["free"]["features"]["messages"] == 500
    assert "voice_notes" not in plans["free"]["features"]
    assert plans["enterprise"]["features"]["contacts"] is None  # unlimited
    assert plans["enterprise"]["allows_overage"] is True

    new_plan = {"code": "mine", "name": "Mine", "price_cents": 0, "features": {"messages": 10**9}}
    for method, path, body in (
        ("post", "/billing/platform/plans", new_plan),
        ("patch", "/billing/platform/plans/free", {"features": {"messages": 10**9}}),
        ("put", f"/billing/platform/tenants/{tenant['id']}/plan", {"plan": "enterprise"}),
        ("get", "/billing/platform/usage", None),
    ):
        refused = await client.request(method, path, json=body, headers=auth(tenant["key"]))
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["error"]["code"] == "forbidden"
    mine = (await client.get("/billing/subscription", headers=auth(tenant["key"]))).json()
    assert (mine["plan"], mine["plan_in_force"]) == ("free", "free")

    admin = await _platform_admin(container, client)
    created = await client.post(
        "/billing/platform/plans",
        json={
            "code": "starter",
            "name": "Starter",
            "price_cents": 1900,
            "features": {"agent.finance": True, "messages": 2000, "console_seats": 3},
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["features"] == {
        "agent.finance": True,
        "messages": 2000,
        "console_seats": 3,
    }
    wrong = await client.post(
        "/billing/platform/plans",
        json={"code": "odd", "name": "Odd", "price_cents": 1, "features": {"messages": True}},
        headers=admin,
    )
    assert wrong.status_code == 422
    changed = await client.patch(
        "/billing/platform/plans/starter", json={"features": {"messages": 3000}}, headers=admin
    )
    assert changed.json()["features"]["messages"] == 3000
    moved = await client.put(
        f"/billing/platform/tenants/{tenant['id']}/plan",
        json={"plan": "starter", "reason": "sales deal"},
        headers=admin,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["plan"] == "starter"
    unknown = await client.put(
        f"/billing/platform/tenants/{tenant['id']}/plan", json={"plan": "gold"}, headers=admin
    )
    assert unknown.status_code == 404
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            audit = list(
                await session.scalars(select(PlanChange).where(PlanChange.to_plan == "starter"))
            )
    assert [(a.from_plan, a.to_plan, a.reason) for a in audit] == [
        ("free", "starter", "sales deal")
    ]
    assert audit[0].actor.startswith("platform:")

    usage = await client.get("/billing/platform/usage", params={"limit": 1}, headers=admin)
    assert usage.status_code == 200, usage.text
    assert len(usage.json()["items"]) == 1


async def test_a_gated_api_answers_402_naming_the_feature_and_the_cheapest_plan(
    container: Container, client: httpx.AsyncClient
) -> None:
    tenant = await _tenant(container)
    seen: list[Event] = []
    async with container.bus.subscribe(tenant["id"]) as events:
        upload = await client.post(
            "/knowledge/documents",
            files={"file": ("faq.md", b"# FAQ\nAbrimos as 8h.", "text/markdown")},
            headers=auth(tenant["key"]),
        )
        while (event := await events.get(timeout=0.5)) is not None:
            seen.append(event)
    assert upload.status_code == 402, upload.text
    # The tenant's operators are told, as when a contact meets the plan in chat.
    assert [(e.kind, e.data["feature"], e.data["source"]) for e in seen] == [
        (BLOCKED_EVENT, "knowledge_base", "api")
    ]
    error = upload.json()["error"]
    assert (error["code"], error["feature"], error["plan"]) == (
        "feature_not_in_plan",
        "knowledge_base",
        "pro",
    )
    assert "pro" in error["message"]

    own = await client.patch(
        "/assistant/settings",
        json={"providers": [{"provider": "groq", "model": "llama", "api_key": "gsk_x"}]},
        headers=auth(tenant["key"]),
    )
    assert own.status_code == 402
    assert (own.json()["error"]["feature"], own.json()["error"]["plan"]) == (
        "own_models",
        "enterprise",
    )

    await _amounts(container, "free", console_seats=0)
    seat = await client.post(
        "/identity/users",
        json={"email": "op@example.com", "name": "Op", "role": "operator", "password": PASSWORD},
        headers=auth(tenant["key"]),
    )
    assert seat.status_code == 402
    assert (seat.json()["error"]["feature"], seat.json()["error"]["plan"]) == (
        "console_seats",
        "pro",
    )
    # A disabled user enabled again takes a seat again: refused while none is free.
    await _amounts(container, "free", console_seats=1)
    made = await client.post(
        "/identity/users",
        json={"email": "op@example.com", "name": "Op", "role": "operator", "password": PASSWORD},
        headers=auth(tenant["key"]),
    )
    assert made.status_code == 201, made.text
    user = made.json()["id"]
    off = await client.patch(
        f"/identity/users/{user}", json={"disabled": True}, headers=auth(tenant["key"])
    )
    assert off.status_code == 200, off.text
    other = await client.post(
        "/identity/users",
        json={"email": "op2@example.com", "name": "Op2", "role": "operator", "password": PASSWORD},
        headers=auth(tenant["key"]),
    )
    assert other.status_code == 201, other.text
    back = await client.patch(
        f"/identity/users/{user}", json={"disabled": False}, headers=auth(tenant["key"])
    )
    assert back.status_code == 402
    assert back.json()["error"]["feature"] == "console_seats"


# --- metering ---------------------------------------------------------------------------------


async def test_fifty_parallel_reservations_never_exceed_a_quota(container: Container) -> None:
    tenant = await _tenant(container)
    await _amounts(container, "free", messages=20)
    meter = container.meter

    async def one(n: int) -> bool:
        try:
            with tenant_scope(tenant["id"]):
                async with container.db.transaction() as session:
                    await meter.reserve(
                        session,
                        tenant_id=tenant["id"],
                        feature=billing.MESSAGES,
                        quantity=1,
                        key=f"k-{n}",
                    )
                async with container.db.transaction() as session:
                    await meter.settle(session, tenant_id=tenant["id"], key=f"k-{n}", actual=1)
        except billing.QuotaExceededError:
            return False
        return True

    granted = await asyncio.gather(*(one(n) for n in range(50)))
    assert sum(granted) == 20
    counter = await _counter(container, tenant["id"], billing.MESSAGES)
    assert counter is not None
    assert (counter.used, counter.reserved) == (20, 0)


async def test_fifty_parallel_turns_never_exceed_the_message_quota(
    container: Container, client: httpx.AsyncClient
) -> None:
    tenant = await _tenant(container)
    await _amounts(container, "free", messages=20)
    senders = [f"+55119{n:08d}" for n in range(50)]
    await asyncio.gather(
        *(_say(client, tenant["key"], "oi", sender, f"c-{n}") for n, sender in enumerate(senders))
    )
    await drain(container, timeout=120)

    replies = [item for sender in senders for item in await _outbox(client, tenant["key"], sender)]
    assert len(replies) == 50  # every contact is answered
    fixed = [r for r in replies if "não pode responder mais mensagens" in r["body"]]
    assert len(fixed) == 30
    assert _counting(container).calls == 20
    counter = await _counter(container, tenant["id"], billing.MESSAGES)
    assert counter is not None
    assert (counter.used, counter.reserved) == (20, 0)


async def test_over_its_message_quota_a_free_tenant_gets_the_fixed_reply_and_no_model_call(
    container: Container, client: httpx.AsyncClient
) -> None:
    tenant = await _tenant(container)
    await _amounts(container, "free", messages=1)
    ana = "+5511999990001"
    await _say(client, tenant["key"], "gastei 50 no mercado", ana, "q-1")
    await drain(container)
    assert _counting(container).calls == 1

    seen: list[Event] = []
    async with container.bus.subscribe(tenant["id"]) as events:
        await _say(client, tenant["key"], "gastei 30 de uber", ana, "q-2")
        await drain(container)
        while (event := await events.get(timeout=0.5)) is not None:
            seen.append(event)
    assert _counting(container).calls == 1  # no model was asked
    last = (await _outbox(client, tenant["key"], ana))[-1]
    assert last["body"].startswith("Desculpe, o assistente de Padaria Teste não pode responder")
    blocked = [e for e in seen if e.kind == BLOCKED_EVENT]
    assert [e.data["feature"] for e in blocked] == ["messages"]
    # The message is stored and the operators see it.
    listed = (await client.get("/conversations", headers=auth(tenant["key"]))).json()["items"]
    messages = (
        await client.get(f"/conversations/{listed[0]['id']}/messages", headers=auth(tenant["key"]))
    ).json()["items"]
    assert "gastei 30 de uber" in [m["body"] for m in messages]
    usage = (await client.get("/billing/usage", headers=auth(tenant["key"]))).json()
    quota = {q["feature"]: q for q in usage["quotas"]}["messages"]
    assert (quota["used"], quota["quota"], quota["remaining"]) == (1, 1, 0)


async def test_new_contacts_over_the_quota_get_the_fixed_reply_once_counted(
    container: Container, client: httpx.AsyncClient
) -> None:
    tenant = await _tenant(container)
    await _amounts(container, "free", contacts=1)
    ana, bruno = "+5511999990001", "+5511999990002"
    await _say(client, tenant["key"], "gastei 50 no mercado", ana, "n-1")
    await _say(client, tenant["key"], "gastei 30 de uber", ana, "n-2")
    await drain(container)
    await _say(client, tenant["key"], "oi", bruno, "n-3")
    await drain(container)
    assert _counting(container).calls == 2  # Ana twice; Bruno, the second new contact, not
    last = (await _outbox(client, tenant["key"], bruno))[-1]
    assert last["body"].startswith("Desculpe, o assistente de Padaria Teste não pode responder")
    counter = await _counter(container, tenant["id"], billing.CONTACTS)
    assert counter is not None
    assert (counter.used, counter.reserved) == (1, 0)  # Ana counted once, Bruno refused
    await _amounts(container, "free", contacts=2)
    await _say(client, tenant["key"], "oi de novo", bruno, "n-4")
    await drain(container)
    assert _counting(container).calls == 3
    usage = (await client.get("/billing/usage", headers=auth(tenant["key"]))).json()
    quota = {q["feature"]: q for q in usage["quotas"]}["contacts"]
    assert (quota["used"], quota["remaining"]) == (2, 0)


async def test_a_failed_turn_releases_its_reservation(
    container: Container, client: httpx.AsyncClient
) -> None:
    tenant = await _tenant(container)
    _counting(container).fail = True
    await _say(client, tenant["key"], "oi", "+5511999990002", "f-1")
    await drain(container)
    reply = (await _outbox(client, tenant["key"], "+5511999990002"))[-1]
    assert "couldn't answer" in reply["body"] or "Desculpe" in reply["body"]
    counter = await _counter(container, tenant["id"], billing.MESSAGES)
    assert counter is not None
    assert (counter.used, counter.reserved) == (0, 0)
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            held = list(await session.scalars(select(UsageReservation)))
    assert [r.status for r in held if r.feature == billing.MESSAGES] == ["released"]


async def test_alerts_fire_once_at_80_and_once_at_100_percent(
    container: Container, client: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    tenant = await _tenant(container)
    await _amounts(container, "free", messages=5)
    hook = await client.put(
        "/billing/alert-webhook", json={"url": url}, headers=auth(tenant["key"])
    )
    assert hook.status_code == 200, hook.text
    secret = hook.json()["secret"]
    meter = container.meter
    seen: list[Event] = []
    async with container.bus.subscribe(tenant["id"]) as events:
        for n in range(6):
            try:
                with tenant_scope(tenant["id"]):
                    async with container.db.transaction() as session:
                        await meter.consume(
                            session,
                            tenant_id=tenant["id"],
                            feature=billing.MESSAGES,
                            quantity=1,
                            key=f"a-{n}",
                        )
            except billing.QuotaExceededError:
                assert n == 5
        await drain(container)
        while (event := await events.get(timeout=0.5)) is not None:
            seen.append(event)
    alerts = [e.data for e in seen if e.kind == ALERT_EVENT]
    assert [(a["threshold"], a["used"], a["quota"]) for a in alerts] == [(80, 4, 5), (100, 5, 5)]
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            stored = list(await session.scalars(select(UsageAlert)))
    assert sorted(a.threshold for a in stored) == [80, 100]

    assert len(got.got) == 2
    thresholds = []
    for headers, body in got.got:
        timestamp = headers["x-billing-timestamp"]
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
        assert headers[SIGNATURE_HEADER.lower()] == "sha256=" + expected.hexdigest()
        thresholds.append(json.loads(body)["threshold"])
    assert sorted(thresholds) == [80, 100]


async def test_enterprise_overage_is_recorded_under_a_stable_identifier(
    container: Container, client: httpx.AsyncClient
) -> None:
    tenant = await _tenant(container, plan="enterprise")
    await _amounts(container, "enterprise", messages=2)
    for n in range(3):
        with tenant_scope(tenant["id"]):
            async with container.db.transaction() as session:
                await container.meter.consume(
                    session,
                    tenant_id=tenant["id"],
                    feature=billing.MESSAGES,
                    quantity=1,
                    key=f"o-{n}",
                )
    usage = (await client.get("/billing/usage", headers=auth(tenant["key"]))).json()
    quota = {q["feature"]: q for q in usage["quotas"]}["messages"]
    assert (quota["used"], quota["overage"]) == (3, 1)
    again = (await client.get("/billing/usage", headers=auth(tenant["key"]))).json()
    assert {q["feature"]: q for q in again["quotas"]}["messages"]["overage_id"] == quota[
        "overage_id"
    ]
    assert quota["overage_id"].startswith(f"ovg_{tenant['id']}_messages_")
    metrics = (await client.get("/metrics")).text
    assert 'billing_overage_total{feature="messages",plan="enterprise"} 1.0' in metrics


async def test_a_past_due_plan_keeps_its_features_until_the_grace_period_ends(
    container: Container,
) -> None:
    tenant = await _tenant(container, plan="pro")
    now = container.clock.now()
    with tenant_scope(tenant["id"]):
        async with container.db.transaction() as session:
            await billing.mark_past_due(session, tenant_id=tenant["id"], actor="test", now=now)
        async with container.db.read() as session:
            within = await billing.entitlements(session, tenant_id=tenant["id"], now=now)
            after = await billing.entitlements(
                session, tenant_id=tenant["id"], now=now + billing.DEFAULT_GRACE * 2
            )
    assert (within.plan_code, after.plan_code) == ("pro", "free")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_plans_commands_list_create_change_and_assign(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHATSAPP_AI_DATABASE__URL", db_url)
    monkeypatch.setenv("WHATSAPP_AI_APP__DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    assert runner.invoke(cli, ["seed"]).exit_code == 0
    listed = runner.invoke(cli, ["plans", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [p["code"] for p in json.loads(listed.output)] == ["free", "pro", "enterprise"]

    made = runner.invoke(
        cli,
        ["plans", "create", "team", "--name", "Team", "--price-cents", "9900",
         "--feature", "agent.finance=true", "--feature", "messages=3000",
         "--feature", "contacts=unlimited"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    bad = runner.invoke(cli, ["plans", "create", "x", "--name", "X", "--feature", "nope=1"])
    assert bad.exit_code == 2
    changed = runner.invoke(cli, ["plans", "change", "team", "--feature", "messages=4000"])
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.output)["features"] == {
        "agent.finance": True,
        "messages": 4000,
        "contacts": None,
    }
    moved = runner.invoke(cli, ["plans", "assign", "demo", "team", "--reason", "pilot"])
    assert moved.exit_code == 0, moved.output
    assert "demo is on team (active)" in moved.output
    assert runner.invoke(cli, ["plans", "assign", "demo", "gold"]).exit_code == 2
