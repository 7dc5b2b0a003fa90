"""Handoff through the real Twilio SDK against the fake Twilio server: the contact's request,
the operator's replies on WhatsApp (template outside the 24-hour window), and a contact that
cannot be reached."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import auth, drain
from tests.desk_support import sign_in
from tests.fakes.twilio import FakeTwilio
from tests.twilio_support import TwilioTenant, connect_tenant
from whatsapp_ai.core.clock import ManualClock

TEMPLATE_SID = "HX" + "0" * 32
Connect = Callable[..., Awaitable[TwilioTenant]]


@pytest.fixture
async def connect(db_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> AsyncIterator[Connect]:
    made: list[TwilioTenant] = []

    async def make(**kwargs: Any) -> TwilioTenant:
        tenant = await connect_tenant(db_url, tmp_path / str(len(made)), fake_twilio, **kwargs)
        made.append(tenant)
        return tenant

    yield make
    for tenant in made:
        await tenant.client.aclose()
        await tenant.container.close()


async def _thread(t: TwilioTenant) -> dict[str, Any]:
    listed = await t.client.get("/conversations", headers=auth(t.api_key))
    return max(listed.json()["items"], key=lambda c: c["id"])  # type: ignore[no-any-return]


async def test_handoff_and_operator_replies_over_whatsapp(connect: Connect) -> None:
    t = await connect()
    marta = await sign_in(t.container, t.client, t.tenant_id, "Marta Lima")
    form = t.form(body="quero falar com um atendente", profile_name="Ana")
    assert (await t.post_inbound(form)).status_code == 200
    await drain(t.container)
    [ack] = t.fake.messages
    assert ack.to == form["From"]
    assert ack.body is not None
    assert ack.body.startswith("Certo, vou chamar uma pessoa da nossa equipe.")
    assert "Marta da nossa equipe assumiu" in ack.body
    thread = await _thread(t)
    assert (thread["status"], thread["assignee_id"]) == ("with_human", marta.user_id)

    sent = await t.client.post(
        f"/conversations/{thread['id']}/messages",
        json={"body": "Oi Ana, sou a Marta. Como posso ajudar?"},
        headers=marta.headers,
    )
    assert sent.status_code == 201, sent.text
    await drain(t.container)
    assert t.fake.messages[-1].body == "Oi Ana, sou a Marta. Como posso ajudar?"
    assert t.fake.messages[-1].to == form["From"]

    assert (await t.post_inbound(t.form(body="meu pedido atrasou"))).status_code == 200
    await drain(t.container)
    assert len(t.fake.messages) == 2  # the message went to Marta only

    back = await t.client.post(f"/conversations/{thread['id']}/return", headers=marta.headers)
    assert back.status_code == 200, back.text
    await drain(t.container)
    assert (t.fake.messages[-1].body or "").startswith("O atendimento com a equipe terminou")


async def test_an_operator_reply_after_24_hours_goes_as_the_template(connect: Connect) -> None:
    clock = ManualClock()
    t = await connect(clock=clock)
    await sign_in(t.container, t.client, t.tenant_id, "Marta Lima")
    await t.post_inbound(t.form(body="quero falar com um atendente"))
    await drain(t.container)
    thread = await _thread(t)
    clock.advance(hours=25)
    sent = await t.client.post(
        f"/conversations/{thread['id']}/messages",
        json={"body": "Desculpe a demora! Seu pedido foi enviado."},
        headers=auth(t.api_key),  # an integration replying for the team
    )
    assert sent.status_code == 201, sent.text
    await drain(t.container)
    last = t.fake.messages[-1]
    assert last.content_sid == TEMPLATE_SID
    assert last.content_variables == {"1": "Desculpe a demora! Seu pedido foi enviado."}


async def test_a_contact_that_cannot_be_reached_fails_the_conversation(connect: Connect) -> None:
    t = await connect()
    t.fake.fail_for(lambda f: True, 400, 21610, "Attempt to send to unsubscribed recipient")
    await t.post_inbound(t.form(body="oi"))
    await drain(t.container)
    thread = await _thread(t)
    assert (thread["status"], thread["closed_by"]) == ("failed", "system")
    assert "21610" in thread["close_reason"]
    history = await t.client.get(
        f"/conversations/{thread['id']}/transitions", headers=auth(t.api_key)
    )
    assert [(h["to_status"], h["actor"]) for h in history.json()["items"]] == [("failed", "system")]

    t.fake.clear_failures()
    await t.post_inbound(t.form(body="oi de novo"))
    await drain(t.container)
    newer = await _thread(t)
    assert newer["id"] != thread["id"]
    assert newer["previous_id"] == thread["id"]
