"""The fake Twilio server works with the real twilio SDK, httpx and the SDK's RequestValidator."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes.twilio import (
    FakeTwilio,
    inbound_params,
    new_sid,
    sign,
    status_params,
)

TWILIO_ORIGINS = ("https://api.twilio.com", "https://messaging.twilio.com")
SID_LENGTH = 34

# The SDK (twilio 9.13) still passes aiohttp's deprecated BasicAuth / auth= to aiohttp 3.14.
pytestmark = [
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning"),
]


class RewritingHttpClient(AsyncTwilioHttpClient):
    """AsyncTwilioHttpClient that sends api/messaging.twilio.com requests to the fake instead."""

    def __init__(self, base_url: str) -> None:
        """Build a client without aiohttp_retry (max_retries=None: one HTTP request per call)."""
        super().__init__(max_retries=None)
        self.base_url = base_url

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Rewrite the Twilio origin to the fake's base URL, then send as usual."""
        for origin in TWILIO_ORIGINS:
            if url.startswith(origin + "/"):
                url = self.base_url + url.removeprefix(origin)
                break
        return await super().request(
            method, url, params, data, headers, auth, timeout, allow_redirects
        )


@pytest.fixture(scope="module")
def server() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeTwilio) -> Iterator[FakeTwilio]:
    server.reset()
    yield server
    server.reset()


@pytest.fixture
def account(fake: FakeTwilio) -> tuple[str, str]:
    return fake.create_account()


@pytest.fixture
async def client(fake: FakeTwilio, account: tuple[str, str]) -> AsyncIterator[Client]:
    http = RewritingHttpClient(fake.url)
    try:
        yield Client(account[0], account[1], http_client=http)
    finally:
        await http.close()


async def test_message_create_with_the_real_sdk(
    fake: FakeTwilio, client: Client, account: tuple[str, str]
) -> None:
    message = await client.messages.create_async(
        to="whatsapp:+5511987654321",
        from_="whatsapp:+14155238886",
        body="Olá! Como posso ajudar?",
        status_callback="https://example.test/status",
    )
    assert message.sid is not None
    assert message.sid.startswith("SM")
    assert len(message.sid) == SID_LENGTH
    assert message.status == "queued"
    assert message.direction == "outbound-api"
    assert message.account_sid == account[0]
    assert message.date_created is not None
    assert message.error_code is None

    [sent] = fake.messages
    assert sent.sid == message.sid
    assert sent.auth_ok
    assert sent.to == "whatsapp:+5511987654321"
    assert sent.from_ == "whatsapp:+14155238886"
    assert sent.body == "Olá! Como posso ajudar?"
    assert sent.status_callback == "https://example.test/status"
    assert [r.status for r in fake.message_requests] == [201]


async def test_template_and_repeated_media_urls(fake: FakeTwilio, client: Client) -> None:
    service = new_sid("MG")
    await client.messages.create_async(
        to="whatsapp:+5511987654321",
        messaging_service_sid=service,
        content_sid="HX" + "0" * 32,
        content_variables=json.dumps({"1": "Ana"}),
    )
    await client.messages.create_async(
        to="whatsapp:+5511987654321",
        from_="whatsapp:+14155238886",
        media_url=["https://example.test/a.jpg", "https://example.test/b.jpg"],
    )
    template, media = fake.messages
    assert template.messaging_service_sid == service
    assert template.content_variables == {"1": "Ana"}
    assert media.media_urls == ["https://example.test/a.jpg", "https://example.test/b.jpg"]


async def test_fail_next_raises_twice_then_succeeds(fake: FakeTwilio, client: Client) -> None:
    fake.fail_next(2, 429, 20429, "Too Many Requests", retry_after=1)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as caught:
            await client.messages.create_async(
                to="whatsapp:+5511987654321", from_="whatsapp:+14155238886", body="oi"
            )
        assert caught.value.status == 429
        assert caught.value.code == 20429
    message = await client.messages.create_async(
        to="whatsapp:+5511987654321", from_="whatsapp:+14155238886", body="oi"
    )
    assert [m.sid for m in fake.messages] == [message.sid]
    assert [r.status for r in fake.message_requests] == [429, 429, 201]


async def test_retry_after_header_and_error_json(
    fake: FakeTwilio, account: tuple[str, str]
) -> None:
    fake.fail_next(1, 503, 20503, "Service Unavailable", retry_after=1.5)
    async with httpx.AsyncClient(base_url=fake.url, auth=account) as http:
        response = await http.post(
            f"/2010-04-01/Accounts/{account[0]}/Messages.json",
            data={"To": "whatsapp:+1", "From": "whatsapp:+2", "Body": "x"},
        )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1.5"
    assert response.json() == {
        "code": 20503,
        "message": "Service Unavailable",
        "more_info": "https://www.twilio.com/docs/errors/20503",
        "status": 503,
    }


async def test_fail_for_outside_window(fake: FakeTwilio, client: Client) -> None:
    fake.fail_for(
        lambda form: "Body" in form and "ContentSid" not in form,
        400,
        63016,
        "Failed to send freeform message because you are outside the allowed window.",
    )
    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(
            to="whatsapp:+5511987654321", from_="whatsapp:+14155238886", body="oi"
        )
    assert (caught.value.status, caught.value.code) == (400, 63016)
    await client.messages.create_async(
        to="whatsapp:+5511987654321", from_="whatsapp:+14155238886", content_sid="HX" + "1" * 32
    )
    assert len(fake.messages) == 1
    fake.clear_failures()
    await client.messages.create_async(
        to="whatsapp:+5511987654321", from_="whatsapp:+14155238886", body="oi"
    )
    assert len(fake.messages) == 2


async def test_wrong_credentials_are_401_20003(fake: FakeTwilio, account: tuple[str, str]) -> None:
    http = RewritingHttpClient(fake.url)
    try:
        bad = Client(account[0], "wrong-token", http_client=http)
        with pytest.raises(TwilioRestException) as caught:
            await bad.messages.create_async(to="whatsapp:+1", from_="whatsapp:+2", body="x")
        other_sid, other_token = fake.create_account()
        mismatched = Client(other_sid, other_token, http_client=http)
        with pytest.raises(TwilioRestException) as mismatch:
            await mismatched.api.v2010.accounts(account[0]).messages.create_async(
                to="whatsapp:+1", from_="whatsapp:+2", body="x"
            )
    finally:
        await http.close()
    assert (caught.value.status, caught.value.code) == (401, 20003)
    assert (mismatch.value.status, mismatch.value.code) == (401, 20003)
    assert fake.messages == []


async def test_typing_indicator(fake: FakeTwilio, client: Client, account: tuple[str, str]) -> None:
    message_id = new_sid("SM")
    result = await client.messaging.v2.typing_indicator.create_async(
        channel="whatsapp", message_id=message_id
    )
    assert result.success is True
    [typing] = fake.typing
    assert (typing.account_sid, typing.message_id, typing.channel) == (
        account[0],
        message_id,
        "whatsapp",
    )


async def test_media_with_redirect_auth_and_not_found(
    fake: FakeTwilio, account: tuple[str, str]
) -> None:
    message_sid, media_sid = new_sid("MM"), new_sid("ME")
    content = b"\xff\xd8\xff fake jpeg"
    url = fake.add_media(
        account[0], message_sid, media_sid, content, "image/jpeg", not_found_times=1
    )
    assert (
        url
        == f"{fake.url}/2010-04-01/Accounts/{account[0]}/Messages/{message_sid}/Media/{media_sid}"
    )
    async with httpx.AsyncClient(follow_redirects=True) as http:
        anonymous = await http.get(url)
        assert anonymous.status_code == 401
        assert anonymous.json()["code"] == 20003
        missing = await http.get(url, auth=account)
        assert missing.status_code == 404
        assert missing.json()["code"] == 20404
        found = await http.get(url, auth=account)
    assert found.status_code == 200
    assert found.content == content
    assert found.headers["content-type"] == "image/jpeg"
    assert found.headers["content-length"] == str(len(content))
    assert [r.status_code for r in found.history] == [307]
    assert [(r.had_auth, r.status) for r in fake.media_requests] == [
        (False, 401),
        (True, 404),
        (True, 307),
        (True, 200),
    ]
    assert fake.media_requests[-1].path == f"/cdn/{media_sid}"


async def test_media_direct_and_foreign_redirect(
    fake: FakeTwilio, account: tuple[str, str]
) -> None:
    direct = fake.add_media(
        account[0], new_sid("MM"), new_sid("ME"), b"ogg", "audio/ogg", redirect=False
    )
    foreign = fake.add_redirect_media(
        account[0], new_sid("MM"), new_sid("ME"), "https://evil.example/x"
    )
    async with httpx.AsyncClient(auth=account) as http:
        served = await http.get(direct)
        redirected = await http.get(foreign)
    assert (served.status_code, served.content, served.headers["content-type"]) == (
        200,
        b"ogg",
        "audio/ogg",
    )
    assert redirected.status_code == 307
    assert redirected.headers["location"] == "https://evil.example/x"


def test_sign_matches_request_validator(account: tuple[str, str]) -> None:
    url = "https://platform.example/webhooks/twilio/inbound?tenant=t1"
    params = inbound_params(
        account[0],
        body="quero agendar",
        media=[("https://api.twilio.com/x", "image/jpeg")],
        button_text="Sim",
        referral={"Body": "promo", "CtwaClid": "abc"},
    )
    assert params["MessageSid"].startswith("MM")
    assert params["SmsSid"] == params["SmsMessageSid"] == params["MessageSid"]
    assert params["WaId"] == "5511987654321"
    assert params["NumMedia"] == "1"
    assert params["MediaContentType0"] == "image/jpeg"
    assert params["ReferralBody"] == "promo"
    assert params["ReferralCtwaClid"] == "abc"
    signature = sign(url, params, account[1])
    assert RequestValidator(account[1]).validate(url, params, signature)
    assert not RequestValidator("another-token").validate(url, params, signature)

    status = status_params(new_sid("SM"), "failed", account[0], error_code=63016)
    assert status["MessageStatus"] == status["SmsStatus"] == "failed"
    assert status["ErrorCode"] == "63016"
    assert status["ChannelPrefix"] == "whatsapp"
    assert RequestValidator(account[1]).validate(url, status, sign(url, status, account[1]))


def test_reachable_from_a_subprocess(fake: FakeTwilio) -> None:
    script = (
        "import sys, urllib.request, urllib.error\n"
        "try:\n"
        "    urllib.request.urlopen(sys.argv[1] + '/nope')\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, fake.url], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "404"


async def test_wait_for_messages(fake: FakeTwilio, client: Client) -> None:
    await client.messages.create_async(to="whatsapp:+1", from_="whatsapp:+2", body="x")
    assert len(await fake.wait_for_messages(1, timeout=1)) == 1
    with pytest.raises(TimeoutError):
        await fake.wait_for_messages(2, timeout=0.1)
