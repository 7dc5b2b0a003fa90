"""Plans sold through Stripe, on real SQLite and PostgreSQL, with the real `stripe` SDK against a
fake Stripe on 127.0.0.1 and webhook events signed as Stripe signs them: subscribe, upgrade,
downgrade, payment failure and recovery, pause, cancellation, duplicate and out-of-order
events, bad signatures, old timestamps, replays and unknown customers."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, update

from tests.conftest import as_app_role, auth, drain, make_settings
from tests.fakes.stripe import FakeStripe, signature_header
from whatsapp_ai.app import create_app
from whatsapp_ai.billing import overage
from whatsapp_ai.billing import plans as catalogue
from whatsapp_ai.billing import service as billing
from whatsapp_ai.billing.models import PlanChange, Subscription, UsageCounter
from whatsapp_ai.billing.stripe_models import StripeCustomer
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.db import system_scope, tenant_scope
from whatsapp_ai.core.events import Event
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.queue.sql import JobRow
from whatsapp_ai.core.stripe_events import StripeEvent
from whatsapp_ai.identity import service as identity

SECRET = "whsec_platform0123456789abcdef"
PLATFORM_KEY = "sk_test_platform0123456789"
PRICES = {"pro": "price_pro_month", "enterprise": "price_enterprise_month"}
GRACE_DAYS = 3


@pytest.fixture(scope="module")
def stripe_server() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def fake(stripe_server: FakeStripe) -> FakeStripe:
    stripe_server.reset()
    return stripe_server


@pytest.fixture
async def container(db_url: str, tmp_path: Path, fake: FakeStripe) -> AsyncIterator[Container]:
    """The platform selling plans through the fake Stripe; on PostgreSQL as the app role, so
    row-level security holds on every path of an event."""
    url = as_app_role(db_url) if db_url.startswith("postgresql") else db_url
    settings = make_settings(
        url,
        tmp_path,
        stripe={
            "api_base": fake.url,
            "max_network_retries": 0,
            "request_timeout_s": 5,
            "secret_key": PLATFORM_KEY,
            "webhook_secrets": f"whsec_old0123456789abcdef, {SECRET}",
            "prices": PRICES,
            "success_url": "https://app.example.com/billing/done",
            "cancel_url": "https://app.example.com/billing",
            "portal_return_url": "https://app.example.com/billing",
            "grace_days": GRACE_DAYS,
            "overage_meters": {"messages": "whatsapp_messages_overage"},
        },
        queue={"max_attempts": 2},
    )
    built = bootstrap(settings)
    yield built
    await built.close()


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def tenant(container: Container) -> dict[str, str]:
    """A tenant on Free, with an admin's API key."""
    now = container.clock.now()
    with system_scope():
        async with container.db.transaction() as session:
            created = await identity.create_tenant(
                session, name="Padaria Teste", slug=f"t-{new_id().lower()[-10:]}", now=now
            )
            _key, secret = await identity.create_api_key(
                session, tenant_id=created.id, name="admin", now=now
            )
            await billing.start_subscription(session, tenant_id=created.id, plan="free", now=now)
    return {"id": created.id, "key": secret}


async def _post(
    client: httpx.AsyncClient,
    event: dict[str, Any],
    *,
    secret: str = SECRET,
    at: int | None = None,
    header: str | None = None,
) -> httpx.Response:
    body = json.dumps(event)
    signed = header if header is not None else signature_header(body, secret, at)
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["Stripe-Signature"] = signed
    return await client.post("/billing/stripe/webhook", content=body, headers=headers)


async def _deliver(container: Container, client: httpx.AsyncClient, event: dict[str, Any]) -> None:
    response = await _post(client, event)
    assert response.status_code == 200, response.text
    await drain(container)


async def _subscription(container: Container, tenant_id: str) -> Subscription | None:
    with tenant_scope(tenant_id):
        async with container.db.read() as session:
            return await billing.get_subscription(session, tenant_id=tenant_id)


async def _plan(container: Container, tenant_id: str) -> tuple[str, str]:
    found = await _subscription(container, tenant_id)
    assert found is not None
    return found.plan, found.status


async def _changes(container: Container, tenant_id: str) -> list[PlanChange]:
    with tenant_scope(tenant_id):
        async with container.db.read() as session:
            rows = await session.scalars(
                select(PlanChange)
                .where(PlanChange.tenant_id == tenant_id)
                .order_by(PlanChange.at, PlanChange.id)
            )
            return list(rows)


async def _stored_event(container: Container, event_id: str) -> StripeEvent | None:
    with system_scope():
        async with container.db.read() as session:
            return await session.get(StripeEvent, ("billing", event_id))


async def _count(container: Container, model: Any, *where: Any) -> int:
    with system_scope():
        async with container.db.read() as session:
            found = await session.scalar(select(func.count()).select_from(model).where(*where))
            return int(found or 0)


async def _subscribe(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe, tenant: dict[str, str]
) -> str:
    """Subscribe the tenant to Pro through Checkout; the Stripe subscription's id."""
    response = await client.post(
        "/billing/stripe/checkout", json={"plan": "pro"}, headers=auth(tenant["key"])
    )
    assert response.status_code == 200, response.text
    session = fake.complete_session(response.json()["id"])
    await _deliver(container, client, fake.event("checkout.session.completed", session))
    subscription: str = session["subscription"]
    return subscription


# --- subscribe, upgrade, downgrade, portal ------------------------------------------------------


async def test_subscribe_through_checkout_then_the_webhook_puts_the_tenant_on_the_plan(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    response = await client.post("/billing/stripe/checkout", json={"plan": "pro"}, headers=headers)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["kind"] == "checkout"
    assert out["url"].startswith("https://checkout.stripe.com/")
    [customer] = fake.objects_of("customer")
    assert customer["metadata"] == {"tenant_id": tenant["id"]}
    assert customer["name"] == "Padaria Teste"
    created = fake.sessions[out["id"]]
    assert (created["mode"], created["customer"]) == ("subscription", customer["id"])
    assert created["client_reference_id"] == tenant["id"]
    assert created["line_items"] == [{"price": PRICES["pro"], "quantity": 1}]
    # The platform's key, an idempotency key on every call.
    creates = [r for r in fake.requests if r.method == "POST"]
    assert {r.api_key for r in creates} == {PLATFORM_KEY}
    assert all(r.idempotency_key for r in creates)
    # The same request again: the same session, no second customer.
    again = await client.post("/billing/stripe/checkout", json={"plan": "pro"}, headers=headers)
    assert again.json()["id"] == out["id"]
    assert len(fake.objects_of("customer")) == 1
    assert len(fake.sessions) == 1
    # Nothing changes until Stripe says it is paid.
    assert await _plan(container, tenant["id"]) == ("free", "active")

    session = fake.complete_session(out["id"])
    completed = fake.event("checkout.session.completed", session)
    seen: list[Event] = []
    async with container.bus.subscribe(tenant["id"]) as events:
        await _deliver(container, client, completed)
        while (event := await events.get(timeout=0.5)) is not None:
            seen.append(event)
    assert await _plan(container, tenant["id"]) == ("pro", "active")
    assert [e.data["plan"] for e in seen if e.kind == "billing.plan_changed"] == ["pro"]
    sub = fake.object(session["subscription"])
    await _deliver(container, client, fake.event("customer.subscription.created", sub))
    changes = await _changes(container, tenant["id"])
    assert [(c.from_plan, c.to_plan, c.to_status) for c in changes] == [
        (None, "free", "active"),
        ("free", "pro", "active"),
    ]
    assert changes[-1].actor == f"stripe:{completed['id']}"
    stored = await _stored_event(container, completed["id"])
    assert stored is not None
    assert (stored.outcome, stored.tenant_id) == ("applied", tenant["id"])
    # The tenant's own view, and the plan's features apply at once.
    view = (await client.get("/billing/subscription", headers=headers)).json()
    assert (view["plan"], view["plan_in_force"]) == ("pro", "pro")


async def test_upgrade_goes_through_the_portal_and_downgrade_follows_stripe(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    sub_id = await _subscribe(container, client, fake, tenant)
    # Already on Pro: nothing to pay.
    same = await client.post("/billing/stripe/checkout", json={"plan": "pro"}, headers=headers)
    assert same.status_code == 409, same.text
    assert same.json()["error"]["code"] == "conflict"
    # A live subscription changes plan in the portal, never with a second subscription.
    response = await client.post(
        "/billing/stripe/checkout", json={"plan": "enterprise"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["kind"] == "portal"
    [portal] = fake.objects_of("billing_portal.session")
    item = fake.object(sub_id)["items"]["data"][0]["id"]
    assert portal["flow"] == {
        "type": "subscription_update_confirm",
        "subscription_update_confirm": {
            "subscription": sub_id,
            "items": [{"id": item, "price": PRICES["enterprise"], "quantity": "1"}],
        },
    }
    assert len(fake.sessions) == 1

    upgraded = fake.set_subscription(sub_id, price=PRICES["enterprise"])
    await _deliver(container, client, fake.event("customer.subscription.updated", upgraded))
    assert await _plan(container, tenant["id"]) == ("enterprise", "active")
    downgraded = fake.set_subscription(sub_id, price=PRICES["pro"])
    await _deliver(container, client, fake.event("customer.subscription.updated", downgraded))
    assert await _plan(container, tenant["id"]) == ("pro", "active")
    changes = await _changes(container, tenant["id"])
    assert [(c.from_plan, c.to_plan) for c in changes][1:] == [
        ("free", "pro"),
        ("pro", "enterprise"),
        ("enterprise", "pro"),
    ]
    assert all(c.actor.startswith("stripe:evt_") for c in changes[1:])

    # The portal to manage it, one session per Idempotency-Key.
    key = {**headers, "Idempotency-Key": "portal-1"}
    first = await client.post("/billing/stripe/portal", headers=key)
    second = await client.post("/billing/stripe/portal", headers=key)
    assert first.status_code == 200, first.text
    assert first.json()["kind"] == "portal"
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["url"].startswith("https://billing.stripe.com/")


async def test_checkout_refuses_free_unknown_or_unsold_plans_and_portal_needs_a_customer(
    client: httpx.AsyncClient, fake: FakeStripe, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    for plan in ("free", "gold"):
        response = await client.post(
            "/billing/stripe/checkout", json={"plan": plan}, headers=headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["fields"][0]["field"] == "body.plan"
    response = await client.post("/billing/stripe/portal", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert fake.requests == []


# --- payment failure, grace, recovery, pause, cancellation ------------------------------------


async def test_a_failed_payment_keeps_the_plan_for_the_grace_period_then_recovers(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe, tenant: dict[str, str]
) -> None:
    sub_id = await _subscribe(container, client, fake, tenant)
    invoice = fake.add_invoice(sub_id, status="open")
    fake.set_subscription(sub_id, status="past_due")
    await _deliver(container, client, fake.event("invoice.payment_failed", invoice))
    found = await _subscription(container, tenant["id"])
    assert found is not None
    assert found.grace_until is not None
    assert (found.plan, found.status) == ("pro", "past_due")
    now = container.clock.now()
    assert abs(found.grace_until - (now + timedelta(days=GRACE_DAYS))) < timedelta(minutes=1)
    # Within the grace period the plan stays; after it only Free's features apply.
    assert billing.plan_in_force(found, now) == "pro"
    assert billing.plan_in_force(found, now + timedelta(days=GRACE_DAYS, hours=1)) == "free"
    # A second failure does not move the grace period.
    second = fake.add_invoice(sub_id, status="open")
    await _deliver(container, client, fake.event("invoice.payment_failed", second))
    again = await _subscription(container, tenant["id"])
    assert again is not None
    assert again.grace_until == found.grace_until

    # Recovery: the invoice is paid and Stripe's subscription is active again.
    fake.set_invoice(second["id"], status="paid")
    fake.set_subscription(sub_id, status="active")
    await _deliver(container, client, fake.event("invoice.paid", fake.object(second["id"])))
    recovered = await _subscription(container, tenant["id"])
    assert recovered is not None
    assert (recovered.plan, recovered.status, recovered.grace_until) == ("pro", "active", None)
    statuses = [c.to_status for c in await _changes(container, tenant["id"])]
    assert statuses == ["active", "active", "past_due", "active"]


async def test_pause_resume_and_cancellation(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe, tenant: dict[str, str]
) -> None:
    sub_id = await _subscribe(container, client, fake, tenant)
    paused = fake.set_subscription(sub_id, status="paused")
    await _deliver(container, client, fake.event("customer.subscription.paused", paused))
    found = await _subscription(container, tenant["id"])
    assert found is not None
    assert (found.plan, found.status) == ("pro", "paused")
    assert billing.plan_in_force(found, container.clock.now()) == "free"
    resumed = fake.set_subscription(sub_id, status="active")
    await _deliver(container, client, fake.event("customer.subscription.resumed", resumed))
    assert await _plan(container, tenant["id"]) == ("pro", "active")
    canceled = fake.set_subscription(sub_id, status="canceled")
    await _deliver(container, client, fake.event("customer.subscription.deleted", canceled))
    assert await _plan(container, tenant["id"]) == ("free", "active")
    changes = await _changes(container, tenant["id"])
    assert [(c.to_plan, c.to_status) for c in changes][1:] == [
        ("pro", "active"),
        ("pro", "paused"),
        ("pro", "active"),
        ("free", "active"),
    ]
    # After cancelling, subscribing again is a new Checkout (not the portal).
    response = await client.post(
        "/billing/stripe/checkout", json={"plan": "pro"}, headers=auth(tenant["key"])
    )
    assert response.json()["kind"] == "checkout"


async def test_trial_will_end_tells_the_admins(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe, tenant: dict[str, str]
) -> None:
    sub_id = await _subscribe(container, client, fake, tenant)
    ends = int(time.time()) + 3 * 86400
    trialing = {**fake.set_subscription(sub_id, status="trialing"), "trial_end": ends}
    seen: list[Event] = []
    async with container.bus.subscribe(tenant["id"]) as events:
        await _deliver(
            container, client, fake.event("customer.subscription.trial_will_end", trialing)
        )
        while (event := await events.get(timeout=0.5)) is not None:
            seen.append(event)
    [told] = [e for e in seen if e.kind == "billing.trial_will_end"]
    assert told.data["trial_end"].startswith(time.strftime("%Y-", time.gmtime(ends)))
    assert await _plan(container, tenant["id"]) == ("pro", "active")


# --- duplicates, order, bad input ---------------------------------------------------------------


async def test_an_event_delivered_twice_is_applied_once(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe, tenant: dict[str, str]
) -> None:
    sub_id = await _subscribe(container, client, fake, tenant)
    upgraded = fake.set_subscription(sub_id, price=PRICES["enterprise"])
    event = fake.event("customer.subscription.updated", upgraded)
    first = await _post(client, event, at=int(time.time()) - 5)
    second = await _post(client, event)  # Stripe's retry: signed anew
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    await drain(container)
    assert await _count(container, JobRow, JobRow.kind == "billing.stripe_event") == 2
    changes = await _changes(container, tenant["id"])
    assert [c.to_plan for c in changes].count("enterprise") == 1


async def test_events_out_of_order_end_where_stripe_is(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe, tenant: dict[str, str]
) -> None:
    sub_id = await _subscribe(container, client, fake, tenant)
    # Stripe: upgraded, then cancelled; the events arrive the other way round.
    upgraded = fake.event(
        "customer.subscription.updated", fake.set_subscription(sub_id, price=PRICES["enterprise"])
    )
    deleted = fake.event(
        "customer.subscription.deleted", fake.set_subscription(sub_id, status="canceled")
    )
    await _deliver(container, client, deleted)
    await _deliver(container, client, upgraded)
    assert await _plan(container, tenant["id"]) == ("free", "active")
    assert "enterprise" not in [c.to_plan for c in await _changes(container, tenant["id"])]


async def test_a_late_payment_failure_after_the_invoice_was_paid_changes_nothing(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe, tenant: dict[str, str]
) -> None:
    sub_id = await _subscribe(container, client, fake, tenant)
    invoice = fake.add_invoice(sub_id, status="open")
    failed = fake.event("invoice.payment_failed", invoice)
    paid = fake.event("invoice.paid", fake.set_invoice(invoice["id"], status="paid"))
    await _deliver(container, client, paid)
    await _deliver(container, client, failed)
    found = await _subscription(container, tenant["id"])
    assert found is not None
    assert (found.plan, found.status, found.grace_until) == ("pro", "active", None)


async def test_unsigned_badly_signed_stale_replayed_or_broken_events_are_refused(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe, tenant: dict[str, str]
) -> None:
    sub_id = await _subscribe(container, client, fake, tenant)
    before = await _count(container, StripeEvent)
    jobs = await _count(container, JobRow)
    event = fake.event(
        "customer.subscription.deleted", fake.set_subscription(sub_id, status="canceled")
    )
    body = json.dumps(event)
    refused = [
        await _post(client, event, header=""),  # unsigned
        await _post(client, event, secret="whsec_someoneelse0123456789"),
        await _post(client, event, header=signature_header(body + " ", SECRET)),  # body changed
        await _post(client, event, at=int(time.time()) - 301),  # older than 300 s
        await _post(client, event, header="t=abc,v1=def"),
    ]
    for response in refused:
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "bad_webhook"
        assert error["message"]
    not_json = "not json at all"
    broken = await client.post(
        "/billing/stripe/webhook",
        content=not_json,
        headers={"Stripe-Signature": signature_header(not_json, SECRET)},
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "bad_webhook"
    assert await _count(container, StripeEvent) == before
    assert await _count(container, JobRow) == jobs
    # A captured delivery sent again (same signature) is a replay: refused, nothing changes.
    header = signature_header(body, SECRET)
    assert (await _post(client, event, header=header)).status_code == 200
    replay = await _post(client, event, header=header)
    assert replay.status_code == 400
    assert "replayed" in replay.json()["error"]["message"]
    # The secret being rotated out still verifies.
    other = fake.event("customer.subscription.updated", fake.object(sub_id))
    assert (await _post(client, other, secret="whsec_old0123456789abcdef")).status_code == 200
    await drain(container)
    assert await _plan(container, tenant["id"]) == ("free", "active")


async def test_an_event_for_an_unknown_customer_is_recorded_and_acknowledged(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe, tenant: dict[str, str]
) -> None:
    stranger = {
        "id": "sub_stranger",
        "object": "subscription",
        "customer": "cus_nobody",
        "status": "active",
    }
    event = fake.event("customer.subscription.updated", stranger)
    response = await _post(client, event)
    assert response.status_code == 200
    await drain(container)
    stored = await _stored_event(container, event["id"])
    assert stored is not None
    assert (stored.outcome, stored.tenant_id) == ("unknown_customer", None)
    ignored = fake.event("customer.created", {"id": "cus_x", "object": "customer"})
    assert (await _post(client, ignored)).status_code == 200
    stored = await _stored_event(container, ignored["id"])
    assert stored is not None
    assert stored.outcome == "ignored"
    assert await _plan(container, tenant["id"]) == ("free", "active")
    assert await _count(container, StripeCustomer) == 0


async def test_stripe_down_or_not_configured_changes_nothing(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    fake.fail(500, times=None)
    response = await client.post("/billing/stripe/checkout", json={"plan": "pro"}, headers=headers)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "stripe_unavailable"
    assert "sk_test" not in response.text
    assert await _count(container, StripeCustomer) == 0
    fake.reset()
    container.settings.stripe.secret_key = SecretStr("")
    response = await client.post("/billing/stripe/checkout", json={"plan": "pro"}, headers=headers)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "stripe_not_configured"
    assert fake.requests == []
    assert await _plan(container, tenant["id"]) == ("free", "active")


# --- overage ---------------------------------------------------------------------------------


async def _overage_of(container: Container, tenant_id: str, quantity: int, key: str) -> None:
    with tenant_scope(tenant_id):
        async with container.db.transaction() as session:
            await container.meter.consume(
                session, tenant_id=tenant_id, feature=billing.MESSAGES, quantity=quantity, key=key
            )


async def test_overage_is_reported_to_stripe_once_per_increase_and_retries_are_counted_once(
    container: Container, client: httpx.AsyncClient, fake: FakeStripe, tenant: dict[str, str]
) -> None:
    await _subscribe(container, client, fake, tenant)
    with system_scope():
        async with container.db.transaction() as session:
            await catalogue.update_plan(
                session,
                code="pro",
                changes={"allows_overage": True, "features": {billing.MESSAGES: 1}},
                now=container.clock.now(),
            )
    settings = container.settings.stripe
    await _overage_of(container, tenant["id"], 3, "m-1")  # 2 past the quota
    assert await overage.report(container.db, settings) == 1
    assert await overage.report(container.db, settings) == 0  # nothing new
    [first] = fake.objects_of("billing.meter_event")
    customer = fake.objects_of("customer")[0]["id"]
    assert first["event_name"] == "whatsapp_messages_overage"
    assert first["payload"] == {"stripe_customer_id": customer, "value": "2"}

    # Stripe down: nothing is recorded as reported; the next run sends it.
    await _overage_of(container, tenant["id"], 1, "m-2")
    fake.fail(500, times=1)
    assert await overage.report(container.db, settings) == 0
    assert await overage.report(container.db, settings) == 1
    values = [e["payload"]["value"] for e in fake.objects_of("billing.meter_event")]
    assert values == ["2", "1"]

    # Sent, then the record of it lost (a crash in between): the same identifier goes again
    # and Stripe, which has it, counts it once.
    with system_scope():
        async with container.db.transaction() as session:
            await session.execute(
                update(UsageCounter)
                .where(UsageCounter.tenant_id == tenant["id"])
                .values(overage_reported=2)
            )
    assert await overage.report(container.db, settings) == 1
    assert len(fake.objects_of("billing.meter_event")) == 2
    rejected = [
        r for r in fake.requests if r.path == "/v1/billing/meter_events" and r.status == 400
    ]
    assert len(rejected) == 1
    with system_scope():
        async with container.db.read() as session:
            counter = await session.scalar(
                select(UsageCounter).where(UsageCounter.tenant_id == tenant["id"])
            )
    assert counter is not None
    assert (counter.overage, counter.overage_reported) == (3, 3)
