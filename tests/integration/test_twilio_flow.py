"""A WhatsApp message through Twilio end to end: webhook, turn, reply via the REST API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fakes.twilio import FakeTwilio, new_sid
from tests.twilio_support import BUSINESS_NUMBER, TwilioTenant, connect_tenant
from whatsapp_ai.ai.service import Reply, TurnInput
from whatsapp_ai.identity import service as identity


async def test_inbound_message_is_answered_through_twilio(twilio_tenant: TwilioTenant) -> None:
    form = twilio_tenant.form(body="oi, tudo bem?", profile_name="Maria Lima")
    response = await twilio_tenant.post_inbound(form)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'

    await twilio_tenant.container.worker().run_until_idle()

    [sent] = twilio_tenant.fake.messages
    assert sent.to == form["From"]
    assert sent.from_ == f"whatsapp:{BUSINESS_NUMBER}"
    assert sent.body is not None
    assert "Maria" in sent.body
    assert sent.status_callback == "https://hooks.example.com/channels/twilio/status"


class SlowReply:
    """Takes a while, like a hosted model."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def reply(self, turn: TurnInput) -> Reply:
        await asyncio.sleep(self.seconds)
        return Reply(text=f"resposta para: {turn.text}", model="slow", language="pt")


@pytest.mark.parametrize(("seconds", "typing_calls"), [(0.4, 1), (0.0, 0)])
async def test_typing_indicator_only_before_slow_replies(
    db_url: str, tmp_path: Path, fake_twilio: FakeTwilio, seconds: float, typing_calls: int
) -> None:
    tenant = await connect_tenant(
        db_url,
        tmp_path,
        fake_twilio,
        twilio={"typing_indicator": True},
        reply_step=SlowReply(seconds),
    )
    tenant.container.settings.conversation.typing_after_s = 0.1
    try:
        form = tenant.form(body="qual o horário?")
        assert (await tenant.post_inbound(form)).status_code == 200
        await tenant.container.worker().run_until_idle()
        assert [record.message_id for record in fake_twilio.typing] == [
            form["MessageSid"]
        ] * typing_calls
        [sent] = fake_twilio.messages
        assert sent.body == "resposta para: qual o horário?"
    finally:
        await tenant.client.aclose()
        await tenant.container.close()


async def test_operators_list_download_and_delete_media(twilio_tenant: TwilioTenant) -> None:
    t = twilio_tenant
    image = b"\xff\xd8\xff\xe0" + b"foto-do-produto" * 100
    message_sid = new_sid("MM")
    url = t.fake.add_media(t.account_sid, message_sid, new_sid("ME"), image, "image/jpeg")
    form = t.form(body="", message_sid=message_sid, media=[(url, "image/jpeg")])
    assert (await t.post_inbound(form)).status_code == 200
    await t.container.worker().run_until_idle()
    headers = {"Authorization": f"Bearer {t.api_key}"}

    [thread] = (await t.client.get("/conversations", headers=headers)).json()["items"]
    page = (await t.client.get(f"/conversations/{thread['id']}/messages", headers=headers)).json()
    user, reply = page["items"]
    assert "Recebi seu arquivo" in reply["body"]
    listed = await t.client.get(
        f"/channels/events/{user['source_event_id']}/media", headers=headers
    )
    [media] = listed.json()
    assert (media["status"], media["content_type"], media["size_bytes"]) == (
        "stored",
        "image/jpeg",
        len(image),
    )

    async with t.container.db.transaction() as session:
        _tenant = await identity.create_tenant(
            session, name="Outra", slug="outra", now=t.container.clock.now()
        )
        _key, other_key = await identity.create_api_key(
            session, tenant_id=_tenant.id, name="k", now=t.container.clock.now()
        )
    other = {"Authorization": f"Bearer {other_key}"}
    assert (await t.client.get(f"/channels/media/{media['id']}", headers=other)).status_code == 404
    assert (
        await t.client.delete(f"/channels/media/{media['id']}", headers=other)
    ).status_code == 404

    download = await t.client.get(f"/channels/media/{media['id']}", headers=headers)
    assert download.status_code == 200
    assert download.content == image
    assert download.headers["content-type"] == "image/jpeg"

    assert (
        await t.client.delete(f"/channels/media/{media['id']}", headers=headers)
    ).status_code == 204
    assert (
        await t.client.get(f"/channels/media/{media['id']}", headers=headers)
    ).status_code == 404
    [after] = (
        await t.client.get(f"/channels/events/{user['source_event_id']}/media", headers=headers)
    ).json()
    assert after["status"] == "deleted"
