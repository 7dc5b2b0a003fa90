"""The Twilio webhook at its edge: signatures, tenants, dedupe, parsing, bad input, account API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import func, select

from tests.conftest import auth, drain
from tests.fakes.twilio import FakeTwilio, new_sid, sign, status_params
from tests.twilio_support import (
    BUSINESS_NUMBER,
    WEBHOOK_URL,
    TwilioTenant,
    connect_tenant,
)
from whatsapp_ai.app import create_app
from whatsapp_ai.channels.models import InboundEvent
from whatsapp_ai.channels.twilio.models import TwilioAccount, TwilioOutbound
from whatsapp_ai.conversation.models import Message
from whatsapp_ai.identity import service as identity
from whatsapp_ai.identity.models import Contact

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
PATH = "/channels/twilio/whatsapp"
STATUS_PATH = "/channels/twilio/status"
LOCAL_URL = f"http://testserver{PATH}"
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hooks.example.com"}
OTHER_TOKEN = "f" * 32

Connect = Callable[..., Awaitable[TwilioTenant]]


@pytest.fixture
async def connect(db_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> AsyncIterator[Connect]:
    """Connect a tenant with Twilio setting overrides (closed at teardown)."""
    made: list[TwilioTenant] = []

    async def _connect(**twilio: Any) -> TwilioTenant:
        tenant = await connect_tenant(db_url, tmp_path, fake_twilio, twilio=twilio)
        made.append(tenant)
        return tenant

    yield _connect
    for tenant in made:
        await tenant.client.aclose()
        await tenant.container.close()


async def events_of(t: TwilioTenant) -> list[InboundEvent]:
    """Every stored inbound event, oldest first."""
    async with t.container.db.read() as session:
        return list(await session.scalars(select(InboundEvent).order_by(InboundEvent.id)))


async def only_event(t: TwilioTenant) -> InboundEvent:
    """The one stored inbound event."""
    [event] = await events_of(t)
    return event


async def assert_nothing_stored(t: TwilioTenant) -> None:
    """No inbound event and no queued job."""
    async with t.container.db.read() as session:
        count = await session.scalar(select(func.count()).select_from(InboundEvent))
    assert count == 0
    assert await t.container.queue.list_jobs() == []


async def post_signed(
    t: TwilioTenant,
    form: dict[str, str],
    *,
    url: str = WEBHOOK_URL,
    token: str | None = None,
    client: httpx.AsyncClient | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a form signed for ``url`` (the public webhook URL unless told otherwise)."""
    signature = sign(url, form, token or t.auth_token)
    return await (client or t.client).post(
        PATH, data=form, headers={"X-Twilio-Signature": signature, **(headers or {})}
    )


def metric(t: TwilioTenant, outcome: str) -> float:
    """inbound_messages_total for the Twilio channel and ``outcome``."""
    value = t.container.metrics.registry.get_sample_value(
        "inbound_messages_total", {"channel": "twilio", "outcome": outcome}
    )
    return value or 0.0


async def rotate(t: TwilioTenant, **changes: Any) -> None:
    """Store the tenant's account again with ``changes`` (e.g. a secondary token), via the API.

    The API is the path that also forgets the webhook's cached view of the account.
    """
    values: dict[str, Any] = {
        "account_sid": t.account_sid,
        "auth_token": t.auth_token,
        "whatsapp_number": BUSINESS_NUMBER,
        "template_content_sid": "HX" + "0" * 32,
    }
    values.update(changes)
    response = await t.client.put("/channels/twilio/account", json=values, headers=auth(t.api_key))
    assert response.status_code == 200, response.text


# ---------------------------------------------------------------------------- signature


async def test_valid_signature_is_acknowledged_with_empty_twiml(
    twilio_tenant: TwilioTenant,
) -> None:
    form = twilio_tenant.form(body="olá")
    response = await twilio_tenant.post_inbound(form)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == EMPTY_TWIML
    event = await only_event(twilio_tenant)
    assert event.external_id == form["MessageSid"]
    assert event.tenant_id == twilio_tenant.tenant_id
    [job] = await twilio_tenant.container.queue.list_jobs()
    assert job.kind == "inbound.handle"
    assert metric(twilio_tenant, "accepted") == 1


async def test_missing_signature_is_rejected_and_nothing_stored(
    twilio_tenant: TwilioTenant,
) -> None:
    response = await twilio_tenant.client.post(PATH, data=twilio_tenant.form(body="oi"))
    assert response.status_code == 403
    assert metric(twilio_tenant, "bad_signature") == 1
    await assert_nothing_stored(twilio_tenant)


@pytest.mark.parametrize("signature", ["not-a-signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="])
async def test_wrong_signature_is_rejected(twilio_tenant: TwilioTenant, signature: str) -> None:
    response = await twilio_tenant.client.post(
        PATH, data=twilio_tenant.form(body="oi"), headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403
    await assert_nothing_stored(twilio_tenant)


async def test_signature_made_with_another_token_is_rejected(twilio_tenant: TwilioTenant) -> None:
    response = await twilio_tenant.post_inbound(twilio_tenant.form(body="oi"), token=OTHER_TOKEN)
    assert response.status_code == 403
    await assert_nothing_stored(twilio_tenant)


async def test_unknown_extra_parameters_are_part_of_the_signed_form(
    twilio_tenant: TwilioTenant,
) -> None:
    form = twilio_tenant.form(body="oi", extra={"SomeNewTwilioField": "x", "ChannelMetadata": "{}"})
    response = await twilio_tenant.post_inbound(form)
    assert response.status_code == 200, response.text
    assert len(await events_of(twilio_tenant)) == 1


async def test_parameter_added_after_signing_is_rejected(twilio_tenant: TwilioTenant) -> None:
    form = twilio_tenant.form(body="oi")
    signature = sign(WEBHOOK_URL, form, twilio_tenant.auth_token)
    response = await twilio_tenant.client.post(
        PATH,
        data={**form, "SomeNewTwilioField": "x"},
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 403
    await assert_nothing_stored(twilio_tenant)


async def test_token_rotation_accepts_either_token(twilio_tenant: TwilioTenant) -> None:
    new_token = "0123456789abcdef" * 2
    before = await twilio_tenant.post_inbound(twilio_tenant.form(body="1"), token=new_token)
    assert before.status_code == 403

    await rotate(twilio_tenant, secondary_auth_token=new_token)

    old = await twilio_tenant.post_inbound(twilio_tenant.form(body="2"))
    new = await twilio_tenant.post_inbound(twilio_tenant.form(body="3"), token=new_token)
    other = await twilio_tenant.post_inbound(twilio_tenant.form(body="4"), token=OTHER_TOKEN)
    assert (old.status_code, new.status_code, other.status_code) == (200, 200, 403)
    assert [event.body for event in await events_of(twilio_tenant)] == ["2", "3"]


async def test_signature_validation_off_accepts_unsigned_and_warns(connect: Connect) -> None:
    with structlog.testing.capture_logs() as logs:
        t = await connect(validate_signature=False)
    assert any(
        entry["event"] == "twilio.signature_validation_off" and entry["log_level"] == "warning"
        for entry in logs
    ), logs
    response = await t.client.post(PATH, data=t.form(body="sem assinatura"))
    assert response.status_code == 200, response.text
    assert (await only_event(t)).body == "sem assinatura"


async def test_signature_validation_on_does_not_warn(twilio_tenant: TwilioTenant) -> None:
    with structlog.testing.capture_logs() as logs:
        create_app(twilio_tenant.container)
    assert not [e for e in logs if e["event"] == "twilio.signature_validation_off"]


# ---------------------------------------------------------------------------- URL reconstruction


async def test_forwarded_headers_from_trusted_proxy_rebuild_the_public_url(
    connect: Connect,
) -> None:
    t = await connect(public_base_url="", trusted_proxies="127.0.0.1")
    response = await post_signed(t, t.form(body="via proxy"), headers=FORWARDED)
    assert response.status_code == 200, response.text
    # Signed for the internal URL: the proxy's view wins, so this one no longer matches.
    internal = await post_signed(t, t.form(body="interno"), url=LOCAL_URL, headers=FORWARDED)
    assert internal.status_code == 403
    assert [event.body for event in await events_of(t)] == ["via proxy"]


async def test_forwarded_headers_from_untrusted_client_are_ignored(connect: Connect) -> None:
    t = await connect(public_base_url="", trusted_proxies="")
    forwarded = await post_signed(t, t.form(body="forjado"), headers=FORWARDED)
    assert forwarded.status_code == 403
    direct = await post_signed(t, t.form(body="direto"), url=LOCAL_URL, headers=FORWARDED)
    assert direct.status_code == 200, direct.text
    assert [event.body for event in await events_of(t)] == ["direto"]


async def test_forwarded_headers_ignored_when_client_is_not_the_trusted_proxy(
    connect: Connect,
) -> None:
    t = await connect(public_base_url="", trusted_proxies="10.0.0.0/8")
    transport = httpx.ASGITransport(app=create_app(t.container), client=("203.0.113.9", 4321))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as outsider:
        forged = await post_signed(t, t.form(body="x"), client=outsider, headers=FORWARDED)
        plain = await post_signed(t, t.form(body="y"), url=LOCAL_URL, client=outsider)
    assert (forged.status_code, plain.status_code) == (403, 200)


# ---------------------------------------------------------------------------- tenant resolution


async def test_unknown_account_sid_is_rejected_and_counted(twilio_tenant: TwilioTenant) -> None:
    form = twilio_tenant.form(body="oi")
    form["AccountSid"] = new_sid("AC")
    response = await twilio_tenant.post_inbound(form)
    assert response.status_code == 403
    assert metric(twilio_tenant, "unknown_tenant") == 1
    assert metric(twilio_tenant, "accepted") == 0
    await assert_nothing_stored(twilio_tenant)


async def test_number_that_is_not_the_tenants_is_rejected(twilio_tenant: TwilioTenant) -> None:
    response = await twilio_tenant.post_inbound(
        twilio_tenant.form(body="oi", to="whatsapp:+15550009999")
    )
    assert response.status_code == 403
    assert metric(twilio_tenant, "unknown_tenant") == 1
    await assert_nothing_stored(twilio_tenant)


async def test_messaging_service_resolves_the_tenant_whatever_the_number(
    twilio_tenant: TwilioTenant,
) -> None:
    service_sid = new_sid("MG")
    await rotate(twilio_tenant, messaging_service_sid=service_sid)
    form = twilio_tenant.form(
        body="pelo serviço", to="whatsapp:+15550009999", messaging_service_sid=service_sid
    )
    response = await twilio_tenant.post_inbound(form)
    assert response.status_code == 200, response.text
    event = await only_event(twilio_tenant)
    assert event.tenant_id == twilio_tenant.tenant_id
    assert event.payload["messaging_service_sid"] == service_sid


async def test_messaging_service_of_another_account_is_rejected(
    twilio_tenant: TwilioTenant,
) -> None:
    service_sid = new_sid("MG")
    await rotate(twilio_tenant, messaging_service_sid=service_sid)
    form = twilio_tenant.form(body="oi", messaging_service_sid=service_sid)
    form["AccountSid"] = new_sid("AC")
    response = await twilio_tenant.post_inbound(form)
    assert response.status_code == 403
    await assert_nothing_stored(twilio_tenant)


# ---------------------------------------------------------------------------- dedupe


async def test_redelivered_message_is_stored_queued_and_answered_once(
    twilio_tenant: TwilioTenant,
) -> None:
    form = twilio_tenant.form(body="qual o horário de vocês?")
    first = await twilio_tenant.post_inbound(form)
    second = await twilio_tenant.post_inbound(form)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.text == EMPTY_TWIML
    assert len(await events_of(twilio_tenant)) == 1
    assert len(await twilio_tenant.container.queue.list_jobs()) == 1
    assert (metric(twilio_tenant, "accepted"), metric(twilio_tenant, "duplicate")) == (1, 1)

    await twilio_tenant.container.worker().run_until_idle()
    third = await twilio_tenant.post_inbound(form)
    assert third.status_code == 200
    await twilio_tenant.container.worker().run_until_idle()

    [sent] = twilio_tenant.fake.messages
    assert sent.to == form["From"]
    assert (await only_event(twilio_tenant)).status == "processed"


# ---------------------------------------------------------------------------- parsing


async def test_body_nul_characters_are_stripped(twilio_tenant: TwilioTenant) -> None:
    form = twilio_tenant.form(body="bo\x00m d\x00ia", profile_name="Jo\x00ão")
    response = await twilio_tenant.post_inbound(form)
    assert response.status_code == 200, response.text
    event = await only_event(twilio_tenant)
    assert event.body == "bom dia"
    assert event.payload["body"] == "bom dia"
    assert event.profile_name == "João"


async def test_profile_name_and_wa_id_are_kept(twilio_tenant: TwilioTenant) -> None:
    form = twilio_tenant.form(body="oi", profile_name="Maria Lima", wa_id="5511987654321")
    assert (await twilio_tenant.post_inbound(form)).status_code == 200
    event = await only_event(twilio_tenant)
    assert event.profile_name == "Maria Lima"
    assert event.payload["profile_name"] == "Maria Lima"
    assert event.payload["wa_id"] == "5511987654321"
    assert event.payload["from_raw"] == "whatsapp:+5511987654321"
    assert event.sender == "+5511987654321"


async def test_several_media_are_listed_in_order(twilio_tenant: TwilioTenant) -> None:
    base = f"https://api.twilio.com/2010-04-01/Accounts/{twilio_tenant.account_sid}/Messages"
    media = [(f"{base}/MM1/Media/ME1", "image/JPEG"), (f"{base}/MM1/Media/ME2", "audio/ogg")]
    form = twilio_tenant.form(body="", media=media)
    assert form["NumMedia"] == "2"
    assert (await twilio_tenant.post_inbound(form)).status_code == 200
    event = await only_event(twilio_tenant)
    assert event.payload["media"] == [
        {"url": media[0][0], "content_type": "image/jpeg"},
        {"url": media[1][0], "content_type": "audio/ogg"},
    ]


async def test_button_reply_text_reaches_the_assistant(twilio_tenant: TwilioTenant) -> None:
    form = twilio_tenant.form(
        body="", button_text="Sim, confirmar", button_payload="confirm_appointment_42"
    )
    assert (await twilio_tenant.post_inbound(form)).status_code == 200
    event = await only_event(twilio_tenant)
    assert "Sim, confirmar" in event.body
    assert event.payload["button_text"] == "Sim, confirmar"
    assert event.payload["button_payload"] == "confirm_appointment_42"


async def test_location_is_kept_and_described_when_body_is_empty(
    twilio_tenant: TwilioTenant,
) -> None:
    form = twilio_tenant.form(
        body="",
        latitude="-23.5505200",
        longitude="-46.6333080",
        address="Praça da Sé, São Paulo",
        label="Catedral",
    )
    assert (await twilio_tenant.post_inbound(form)).status_code == 200
    event = await only_event(twilio_tenant)
    assert event.payload["location"] == {
        "latitude": -23.55052,
        "longitude": -46.633308,
        "address": "Praça da Sé, São Paulo",
        "label": "Catedral",
    }
    assert "localização" in event.body
    assert "Catedral" in event.body
    assert "-23.55052" in event.body
    assert "-46.63331" in event.body


async def test_referral_fields_are_kept(twilio_tenant: TwilioTenant) -> None:
    referral = {
        "Body": "Óculos com 30% de desconto",
        "SourceUrl": "https://fb.me/abc123",
        "CtwaClid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0",
    }
    form = twilio_tenant.form(body="quero saber mais", referral=referral)
    assert (await twilio_tenant.post_inbound(form)).status_code == 200
    event = await only_event(twilio_tenant)
    assert event.payload["referral"] == referral
    assert event.body == "quero saber mais"


async def test_replied_message_sid_is_kept(twilio_tenant: TwilioTenant) -> None:
    replied = new_sid("SM")
    form = twilio_tenant.form(
        body="esse aqui",
        original_replied_message_sid=replied,
        original_replied_message_sender="whatsapp:+14155238886",
    )
    assert (await twilio_tenant.post_inbound(form)).status_code == 200
    event = await only_event(twilio_tenant)
    assert event.payload["replied_to_sid"] == replied
    assert event.payload["replied_to_sender"] == "whatsapp:+14155238886"


async def test_brazilian_number_with_or_without_ninth_digit_is_one_contact(
    twilio_tenant: TwilioTenant,
) -> None:
    with_nine, without_nine = "whatsapp:+5511987654321", "whatsapp:+551187654321"
    for from_, body in ((with_nine, "oi"), (without_nine, "tudo bem?")):
        response = await twilio_tenant.post_inbound(twilio_tenant.form(body=body, from_=from_))
        assert response.status_code == 200, response.text
    assert {e.sender for e in await events_of(twilio_tenant)} == {"+5511987654321"}

    await drain(twilio_tenant.container)  # the second reply leaves after the first

    async with twilio_tenant.container.db.read() as session:
        contacts = list(await session.scalars(select(Contact)))
    assert [c.address for c in contacts] == ["+5511987654321"]
    sent = twilio_tenant.fake.messages
    assert len(sent) == 2
    assert sorted(m.to or "" for m in sent) == sorted([with_nine, without_nine])


async def test_business_scoped_user_id_is_accepted(twilio_tenant: TwilioTenant) -> None:
    form = twilio_tenant.form(body="oi", from_="whatsapp:BR.1a2b3c4d5e", wa_id="")
    response = await twilio_tenant.post_inbound(form)
    assert response.status_code == 200, response.text
    event = await only_event(twilio_tenant)
    assert event.sender == "bsuid:BR.1a2b3c4d5e"
    assert event.payload["wa_id"] is None

    await twilio_tenant.container.worker().run_until_idle()
    [sent] = twilio_tenant.fake.messages
    assert sent.to == "whatsapp:BR.1a2b3c4d5e"


# ---------------------------------------------------------------------------- bad input


async def test_json_body_is_unsupported_media_type(twilio_tenant: TwilioTenant) -> None:
    form = twilio_tenant.form(body="oi")
    response = await twilio_tenant.client.post(
        PATH, json=form, headers={"X-Twilio-Signature": sign(WEBHOOK_URL, form, "x" * 32)}
    )
    assert response.status_code == 415
    assert "form" in response.json()["error"]["message"]
    await assert_nothing_stored(twilio_tenant)


async def test_form_without_message_sid(twilio_tenant: TwilioTenant) -> None:
    form = twilio_tenant.form(body="oi")
    del form["MessageSid"]
    unsigned = await twilio_tenant.client.post(PATH, data=form)
    assert unsigned.status_code == 403
    signed = await twilio_tenant.post_inbound(form)
    assert signed.status_code == 400
    assert "MessageSid" in signed.json()["error"]["message"]
    assert metric(twilio_tenant, "invalid") == 1
    await assert_nothing_stored(twilio_tenant)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"NumMedia": "abc"}, "NumMedia"),
        ({"NumMedia": "1"}, "MediaUrl0"),
        ({"NumMedia": "11"}, "NumMedia"),
        ({"Latitude": "norte", "Longitude": "1"}, "Latitude"),
        ({"MessageSid": "SM123"}, "MessageSid"),
    ],
)
async def test_malformed_form_is_a_bad_request(
    twilio_tenant: TwilioTenant, changes: dict[str, str], reason: str
) -> None:
    form = {**twilio_tenant.form(body="oi"), **changes}
    response = await twilio_tenant.post_inbound(form)
    assert response.status_code == 400, response.text
    assert reason in response.json()["error"]["message"]
    await assert_nothing_stored(twilio_tenant)


def lenient_client(t: TwilioTenant) -> httpx.AsyncClient:
    """A client that sees a 500 as a response instead of the app's exception."""
    app = create_app(t.container)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_nul_in_referral_is_stripped_and_stored(twilio_tenant: TwilioTenant) -> None:
    form = twilio_tenant.form(body="oi", referral={"Body": "promo\x00 de verão"})
    async with lenient_client(twilio_tenant) as client:
        response = await post_signed(twilio_tenant, form, client=client)
    assert response.status_code == 200, response.text
    event = await only_event(twilio_tenant)
    assert event.payload["referral"] == {"Body": "promo de verão"}


async def test_longest_business_scoped_id_the_parser_accepts_is_stored(
    twilio_tenant: TwilioTenant,
) -> None:
    user_id = "BR." + "a1b2c3" * 9 + "d"  # 58 characters: "bsuid:" + id fits 64
    form = twilio_tenant.form(body="oi", from_=f"whatsapp:{user_id}", wa_id="")
    response = await post_signed(twilio_tenant, form)
    assert response.status_code == 200, response.text
    assert (await only_event(twilio_tenant)).sender == f"bsuid:{user_id}"

    too_long = twilio_tenant.form(body="oi", from_=f"whatsapp:{user_id}xy", wa_id="")
    assert (await post_signed(twilio_tenant, too_long)).status_code == 200
    assert metric(twilio_tenant, "refused_sender") == 1
    assert len(await events_of(twilio_tenant)) == 1, "the over-long id is not stored"


@pytest.mark.parametrize(
    "sender",
    [
        "whatsapp:123.456.789-09",  # a CPF
        "whatsapp:12345678909",  # WhatsApp always writes the "+"
        "whatsapp:+1",
        "whatsapp:+55 11 98765-4321",
        "whatsapp:+5511",
        "whatsapp:+999123456789",  # no such country
        "whatsapp:+551198765432109",  # too long for Brazil
        "whatsapp:ana@example.com",
        "whatsapp:BR.abc_def",
        "whatsapp:",
    ],
)
async def test_a_sender_that_is_no_whatsapp_address_is_acknowledged_not_served(
    twilio_tenant: TwilioTenant, sender: str
) -> None:
    form = twilio_tenant.form(body="oi", from_=sender, wa_id="")
    with structlog.testing.capture_logs() as logs:
        response = await post_signed(twilio_tenant, form)
    # Answered as Twilio expects (nothing to retry, nothing flagged), but not served.
    assert response.status_code == 200, response.text
    assert response.text == EMPTY_TWIML
    assert metric(twilio_tenant, "refused_sender") == 1
    [refused] = [entry for entry in logs if entry["event"] == "twilio.sender_refused"]
    assert refused["message_sid"] == form["MessageSid"]
    assert "not a WhatsApp" in refused["reason"]
    async with twilio_tenant.container.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Contact)) == 0
    await assert_nothing_stored(twilio_tenant)
    await drain(twilio_tenant.container)
    assert twilio_tenant.fake.messages == []


async def test_overlong_profile_name_is_cut_not_fatal(twilio_tenant: TwilioTenant) -> None:
    form = twilio_tenant.form(body="oi", profile_name="N" * 250)
    async with lenient_client(twilio_tenant) as client:
        response = await post_signed(twilio_tenant, form, client=client)
    assert response.status_code == 200, response.text
    event = await only_event(twilio_tenant)
    assert event.profile_name is not None
    assert 0 < len(event.profile_name) <= 200


# ---------------------------------------------------------------------------- status callbacks


async def test_unsigned_status_callback_is_rejected(twilio_tenant: TwilioTenant) -> None:
    form = status_params(new_sid("SM"), "delivered", twilio_tenant.account_sid)
    response = await twilio_tenant.client.post(STATUS_PATH, data=form)
    assert response.status_code == 403


async def test_status_callback_for_unknown_message_changes_nothing(
    twilio_tenant: TwilioTenant,
) -> None:
    assert (await twilio_tenant.post_inbound(twilio_tenant.form(body="oi"))).status_code == 200
    await twilio_tenant.container.worker().run_until_idle()

    async def snapshot() -> tuple[list[tuple[str | None, str]], list[str | None]]:
        async with twilio_tenant.container.db.read() as session:
            parts = (
                await session.execute(select(TwilioOutbound.twilio_sid, TwilioOutbound.status))
            ).all()
            statuses = list(
                await session.scalars(
                    select(Message.delivery_status).where(Message.direction == "out")
                )
            )
        return [tuple(p) for p in parts], statuses

    before = await snapshot()
    assert before[0], "the reply was not recorded as sent"
    form = status_params(new_sid("SM"), "read", twilio_tenant.account_sid)
    response = await twilio_tenant.post_status(form)
    assert response.status_code == 204
    assert await snapshot() == before


# ---------------------------------------------------------------------------- account API


def account_body(**changes: Any) -> dict[str, Any]:
    """A PUT /channels/twilio/account body."""
    body: dict[str, Any] = {
        "account_sid": new_sid("AC"),
        "auth_token": "primary-token-0123456789",
        "secondary_auth_token": "secondary-token-9876543210",
        "whatsapp_number": "whatsapp:+55 (11) 3000-1234",
    }
    body.update(changes)
    return body


async def test_account_api_never_shows_tokens(twilio_tenant: TwilioTenant) -> None:
    body = account_body()
    headers = auth(twilio_tenant.api_key)
    put = await twilio_tenant.client.put("/channels/twilio/account", json=body, headers=headers)
    assert put.status_code == 200, put.text
    get = await twilio_tenant.client.get("/channels/twilio/account", headers=headers)
    assert get.status_code == 200, get.text
    for response in (put, get):
        assert body["auth_token"] not in response.text
        assert body["secondary_auth_token"] not in response.text
        shown = response.json()
        assert shown["account_sid"] == body["account_sid"]
        assert shown["whatsapp_number"] == "+551130001234"
        assert shown["has_secondary_auth_token"] is True
        assert not {"auth_token", "secondary_auth_token"} & set(shown)

    async with twilio_tenant.container.db.read() as session:
        stored = await session.scalar(
            select(TwilioAccount).where(TwilioAccount.tenant_id == twilio_tenant.tenant_id)
        )
    assert stored is not None
    assert body["auth_token"] not in stored.auth_token
    assert stored.secondary_auth_token is not None
    assert body["secondary_auth_token"] not in stored.secondary_auth_token
    box = twilio_tenant.container.box
    assert box.decrypt(stored.auth_token) == body["auth_token"]

    # The stored (encrypted) tokens are the ones webhooks are checked against.
    form = twilio_tenant.form(body="conta nova", to="whatsapp:+551130001234")
    form["AccountSid"] = body["account_sid"]
    response = await twilio_tenant.post_inbound(form, token=body["secondary_auth_token"])
    assert response.status_code == 200, response.text


async def test_account_api_requires_a_key(twilio_tenant: TwilioTenant) -> None:
    put = await twilio_tenant.client.put("/channels/twilio/account", json=account_body())
    get = await twilio_tenant.client.get("/channels/twilio/account")
    wrong = await twilio_tenant.client.get(
        "/channels/twilio/account", headers=auth("wai_not_a_real_key")
    )
    assert (put.status_code, get.status_code, wrong.status_code) == (401, 401, 401)


@pytest.mark.parametrize("account_sid", ["AC123", "MG" + "0" * 32, "AC" + "G" * 32])
async def test_account_api_rejects_malformed_account_sid(
    twilio_tenant: TwilioTenant, account_sid: str
) -> None:
    response = await twilio_tenant.client.put(
        "/channels/twilio/account",
        json=account_body(account_sid=account_sid),
        headers=auth(twilio_tenant.api_key),
    )
    assert response.status_code == 422
    assert "account_sid" in response.text
    assert "primary-token-0123456789" not in response.text


async def test_account_api_number_of_another_tenant_is_a_conflict(
    twilio_tenant: TwilioTenant,
) -> None:
    container = twilio_tenant.container
    async with container.db.transaction() as session:
        other = await identity.create_tenant(
            session, name="Outra Loja", slug="outra", now=container.clock.now()
        )
        _key, other_key = await identity.create_api_key(
            session, tenant_id=other.id, name="t", now=container.clock.now()
        )
    response = await twilio_tenant.client.put(
        "/channels/twilio/account",
        json=account_body(account_sid=twilio_tenant.account_sid, whatsapp_number=BUSINESS_NUMBER),
        headers=auth(other_key),
    )
    assert response.status_code == 409, response.text
    missing = await twilio_tenant.client.get("/channels/twilio/account", headers=auth(other_key))
    assert missing.status_code == 404
    # The first tenant still receives its messages.
    assert (await twilio_tenant.post_inbound(twilio_tenant.form(body="oi"))).status_code == 200
