"""A WhatsApp message through Twilio end to end: webhook, turn, reply via the REST API."""

from __future__ import annotations

from tests.twilio_support import (
    BUSINESS_NUMBER,
    TwilioTenant,
    fake_twilio,
    fake_twilio_server,
    twilio_tenant,
)

__all__ = ["fake_twilio", "fake_twilio_server", "twilio_tenant"]


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
