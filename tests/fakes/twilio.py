"""A fake Twilio REST server (api.twilio.com + messaging.twilio.com) served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from tests.fakes.server import ThreadedServer

API_VERSION = "2010-04-01"
DEFAULT_BUSINESS_NUMBER = "whatsapp:+14155238886"
DEFAULT_CUSTOMER_NUMBER = "whatsapp:+5511987654321"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

Form = dict[str, str | list[str]]
Endpoint = Literal["messages", "typing"]

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


def new_sid(prefix: str) -> str:
    """Return a Twilio-style SID: the two-letter prefix plus 32 lowercase hex characters."""
    return prefix + uuid.uuid4().hex


def sign(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """Return the X-Twilio-Signature value Twilio would send for a form webhook."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    """Return Twilio's (legacy) REST error JSON."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _wa_id(address: str) -> str:
    return "".join(ch for ch in address if ch.isdigit())


def _message_type(
    media: Sequence[tuple[str, str]], button_text: str | None, latitude: str | None
) -> str:
    if button_text is not None:
        return "button"
    if latitude is not None:
        return "location"
    if media:
        kind = media[0][1].split("/", 1)[0]
        return kind if kind in ("image", "audio", "video") else "document"
    return "text"


def inbound_params(
    account_sid: str,
    *,
    body: str = "",
    from_: str = DEFAULT_CUSTOMER_NUMBER,
    to: str = DEFAULT_BUSINESS_NUMBER,
    message_sid: str | None = None,
    messaging_service_sid: str | None = None,
    profile_name: str = "Cliente Teste",
    wa_id: str | None = None,
    media: Sequence[tuple[str, str]] = (),
    num_segments: int = 1,
    button_text: str | None = None,
    button_payload: str | None = None,
    latitude: str | None = None,
    longitude: str | None = None,
    address: str | None = None,
    label: str | None = None,
    referral: Mapping[str, str] | None = None,
    original_replied_message_sid: str | None = None,
    original_replied_message_sender: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Build a realistic WhatsApp inbound-message webhook form (media = [(url, content_type)])."""
    sid = message_sid or new_sid("MM" if media else "SM")
    params: dict[str, str] = {
        "SmsMessageSid": sid,
        "NumMedia": str(len(media)),
        "ProfileName": profile_name,
        "MessageType": _message_type(media, button_text, latitude),
        "SmsSid": sid,
        "WaId": wa_id if wa_id is not None else _wa_id(from_),
        "SmsStatus": "received",
        "Body": body,
        "To": to,
        "NumSegments": str(num_segments),
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": API_VERSION,
    }
    if messaging_service_sid is not None:
        params["MessagingServiceSid"] = messaging_service_sid
    for index, (url, content_type) in enumerate(media):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = content_type
    optional = {
        "ButtonText": button_text,
        "ButtonPayload": button_payload,
        "Latitude": latitude,
        "Longitude": longitude,
        "Address": address,
        "Label": label,
        "OriginalRepliedMessageSid": original_replied_message_sid,
        "OriginalRepliedMessageSender": original_replied_message_sender,
    }
    params.update({key: value for key, value in optional.items() if value is not None})
    for key, value in (referral or {}).items():
        params[key if key.startswith("Referral") else f"Referral{key}"] = value
    params.update(extra or {})
    return params


def status_params(
    message_sid: str,
    status: str,
    account_sid: str,
    *,
    error_code: int | str | None = None,
    error_message: str | None = None,
    from_: str = DEFAULT_BUSINESS_NUMBER,
    to: str = DEFAULT_CUSTOMER_NUMBER,
    messaging_service_sid: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Build a WhatsApp delivery status-callback form (status: queued/sent/delivered/read/...)."""
    params: dict[str, str] = {
        "ChannelPrefix": "whatsapp",
        "ApiVersion": API_VERSION,
        "MessageStatus": status,
        "SmsSid": message_sid,
        "SmsStatus": status,
        "ChannelInstallSid": "XE" + uuid.uuid5(uuid.NAMESPACE_URL, account_sid).hex,
        "To": to,
        "From": from_,
        "MessageSid": message_sid,
        "StructuredMessage": "false",
        "AccountSid": account_sid,
        "ChannelToAddress": to.removeprefix("whatsapp:"),
    }
    if status in ("delivered", "read"):
        params["EventType"] = status.upper()
    if messaging_service_sid is not None:
        params["MessagingServiceSid"] = messaging_service_sid
    if error_code is not None:
        params["ErrorCode"] = str(error_code)
    if error_message is not None:
        params["ErrorMessage"] = error_message
    params.update(extra or {})
    return params


def _first(form: Mapping[str, str | list[str]], key: str) -> str | None:
    value = form.get(key)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _all(form: Mapping[str, str | list[str]], key: str) -> list[str]:
    value = form.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A Messages create call the fake accepted (answered 201)."""

    sid: str
    account_sid: str
    form: Form
    auth_ok: bool
    at: float

    def get(self, key: str) -> str | None:
        """Return the first value of a form field, or None."""
        return _first(self.form, key)

    @property
    def to(self) -> str | None:
        """Return the To field."""
        return self.get("To")

    @property
    def from_(self) -> str | None:
        """Return the From field."""
        return self.get("From")

    @property
    def body(self) -> str | None:
        """Return the Body field."""
        return self.get("Body")

    @property
    def content_sid(self) -> str | None:
        """Return the ContentSid field."""
        return self.get("ContentSid")

    @property
    def content_variables(self) -> dict[str, Any] | None:
        """Return ContentVariables decoded from JSON, or None."""
        raw = self.get("ContentVariables")
        return None if raw is None else dict(json.loads(raw))

    @property
    def messaging_service_sid(self) -> str | None:
        """Return the MessagingServiceSid field."""
        return self.get("MessagingServiceSid")

    @property
    def status_callback(self) -> str | None:
        """Return the StatusCallback field."""
        return self.get("StatusCallback")

    @property
    def media_urls(self) -> list[str]:
        """Return every MediaUrl value (the field may repeat)."""
        return _all(self.form, "MediaUrl")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """Any REST request the fake answered, with the status it answered."""

    method: str
    path: str
    query: str
    form: Form
    status: int
    account_sid: str | None
    at: float


@dataclass(frozen=True, slots=True)
class TypingRecord:
    """An accepted typing-indicator call."""

    account_sid: str
    message_id: str
    channel: str
    at: float


@dataclass(frozen=True, slots=True)
class MediaRequest:
    """A GET on a media URL (Twilio path or /cdn), with whether Authorization was sent/valid."""

    path: str
    had_auth: bool
    auth_ok: bool
    status: int
    at: float


@dataclass(slots=True)
class _Failure:
    endpoint: Endpoint
    status: int
    code: int
    message: str
    retry_after: float | None
    remaining: int | None = None
    predicate: Callable[[Form], bool] | None = None


@dataclass(slots=True)
class _Media:
    account_sid: str
    message_sid: str
    media_sid: str
    content: bytes
    content_type: str
    not_found_remaining: int
    redirect: bool
    redirect_to: str | None
    redirect_status: int


@dataclass(slots=True)
class _State:
    accounts: dict[str, str] = field(default_factory=dict)
    api_keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    messages: list[SentMessage] = field(default_factory=list)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    typing: list[TypingRecord] = field(default_factory=list)
    media_requests: list[MediaRequest] = field(default_factory=list)
    media: dict[str, _Media] = field(default_factory=dict)
    failures: list[_Failure] = field(default_factory=list)
    # Creates that are accepted but answered only after this many seconds (lost responses).
    stalls: list[float] = field(default_factory=list)


def _num_segments(to: str, body: str) -> int:
    if to.startswith("whatsapp:") or not body:
        return 1
    if all(ch in _GSM7 for ch in body):
        return 1 if len(body) <= 160 else -(-len(body) // 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


class FakeTwilio(ThreadedServer):
    """Fake Twilio REST API on 127.0.0.1, run by uvicorn in a background thread."""

    name = "fake-twilio"

    def __init__(self, host: str = "127.0.0.1") -> None:
        """Prepare the server; call start() (or use it as a context manager) to serve."""
        self._lock = threading.Lock()
        self._state = _State()
        super().__init__(Starlette(routes=self._routes()), host)

    # ------------------------------------------------------------ configuration

    def add_account(self, account_sid: str, auth_token: str) -> None:
        """Register an account whose Basic auth account_sid:auth_token is accepted."""
        with self._lock:
            self._state.accounts[account_sid] = auth_token

    def create_account(self) -> tuple[str, str]:
        """Register a new random account and return (account_sid, auth_token)."""
        account_sid, token = new_sid("AC"), uuid.uuid4().hex
        self.add_account(account_sid, token)
        return account_sid, token

    def add_api_key(self, account_sid: str, key_sid: str, secret: str) -> None:
        """Register an API key (Basic auth key_sid:secret) that acts for account_sid."""
        with self._lock:
            self._state.api_keys[key_sid] = (account_sid, secret)

    def fail_next(
        self,
        count: int,
        status: int,
        code: int,
        message: str = "Simulated Twilio error",
        retry_after: float | None = None,
        *,
        endpoint: Endpoint = "messages",
    ) -> None:
        """Make the next `count` authenticated create calls on `endpoint` answer this error."""
        if count <= 0:
            return
        with self._lock:
            self._state.failures.append(
                _Failure(endpoint, status, code, message, retry_after, remaining=count)
            )

    def fail_for(
        self,
        predicate: Callable[[Form], bool],
        status: int,
        code: int,
        message: str = "Simulated Twilio error",
        retry_after: float | None = None,
        *,
        endpoint: Endpoint = "messages",
    ) -> None:
        """Make every authenticated create on `endpoint` whose form matches answer this error."""
        with self._lock:
            self._state.failures.append(
                _Failure(endpoint, status, code, message, retry_after, predicate=predicate)
            )

    def clear_failures(self) -> None:
        """Drop every programmed failure."""
        with self._lock:
            self._state.failures.clear()
            self._state.stalls.clear()

    def stall_next(self, count: int, seconds: float) -> None:
        """Accept the next `count` creates but answer each only after `seconds` (the message
        exists at Twilio even when the client gave up waiting)."""
        with self._lock:
            self._state.stalls.extend([seconds] * count)

    def media_url(self, account_sid: str, message_sid: str, media_sid: str) -> str:
        """Return the media URL a webhook carries for this media."""
        messages = f"{self.url}/{API_VERSION}/Accounts/{account_sid}/Messages"
        return f"{messages}/{message_sid}/Media/{media_sid}"

    def cdn_url(self, media_sid: str) -> str:
        """Return the unauthenticated CDN URL the media URL redirects to."""
        return f"{self.url}/cdn/{media_sid}"

    def add_media(
        self,
        account_sid: str,
        message_sid: str,
        media_sid: str,
        content: bytes,
        content_type: str,
        *,
        not_found_times: int = 0,
        redirect: bool = True,
        redirect_to: str | None = None,
        redirect_status: int = 307,
    ) -> str:
        """Register inbound media and return its Twilio media URL (redirect_to: any Location)."""
        with self._lock:
            self._state.media[media_sid] = _Media(
                account_sid,
                message_sid,
                media_sid,
                content,
                content_type,
                not_found_times,
                redirect,
                redirect_to,
                redirect_status,
            )
        return self.media_url(account_sid, message_sid, media_sid)

    def add_redirect_media(
        self,
        account_sid: str,
        message_sid: str,
        media_sid: str,
        location: str,
        *,
        status: int = 307,
    ) -> str:
        """Register media whose URL redirects to an arbitrary absolute `location`."""
        return self.add_media(
            account_sid,
            message_sid,
            media_sid,
            b"",
            "application/octet-stream",
            redirect_to=location,
            redirect_status=status,
        )

    def reset(self, *, everything: bool = False) -> None:
        """Clear recordings and failures (and accounts, keys and media if everything=True)."""
        with self._lock:
            state = self._state
            state.messages.clear()
            state.resources.clear()
            state.requests.clear()
            state.typing.clear()
            state.media_requests.clear()
            state.failures.clear()
            state.stalls.clear()
            if everything:
                state.accounts.clear()
                state.api_keys.clear()
                state.media.clear()

    # ---------------------------------------------------------------- recordings

    @property
    def messages(self) -> list[SentMessage]:
        """Return a snapshot of accepted Messages creates, oldest first."""
        with self._lock:
            return list(self._state.messages)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Return a snapshot of every REST request answered (any endpoint, any status)."""
        with self._lock:
            return list(self._state.requests)

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """Return a snapshot of every Messages create attempt (any status)."""
        return [
            r for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json")
        ]

    @property
    def typing(self) -> list[TypingRecord]:
        """Return a snapshot of accepted typing-indicator calls."""
        with self._lock:
            return list(self._state.typing)

    @property
    def media_requests(self) -> list[MediaRequest]:
        """Return a snapshot of media GETs (Twilio media paths and /cdn paths)."""
        with self._lock:
            return list(self._state.media_requests)

    async def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[SentMessage]:
        """Poll (without blocking the loop) until `count` messages were accepted; return them."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages
            if len(messages) >= count:
                return messages
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} messages, got {len(messages)}")
            await asyncio.sleep(0.02)

    # ------------------------------------------------------------------ handlers

    def _routes(self) -> list[Route]:
        base = f"/{API_VERSION}/Accounts/{{account_sid}}"
        return [
            Route(f"{base}/Messages.json", self._create_message, methods=["POST"]),
            Route(f"{base}/Messages.json", self._list_messages, methods=["GET"]),
            Route(f"{base}/Messages/{{message_sid}}.json", self._fetch_message, methods=["GET"]),
            Route(
                f"{base}/Messages/{{message_sid}}/Media/{{media_sid}}",
                self._get_media,
                methods=["GET"],
            ),
            Route("/v2/Indicators/Typing.json", self._typing, methods=["POST"]),
            Route("/cdn/{media_sid}", self._cdn, methods=["GET"]),
            Route("/{path:path}", self._not_found, methods=ALL_METHODS),
        ]

    def _authenticate(self, request: Request) -> tuple[bool, str | None]:
        """Return (Authorization header present, authenticated account SID or None)."""
        header = request.headers.get("authorization")
        if header is None:
            return False, None
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return True, None
        try:
            username, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return True, None
        with self._lock:
            if self._state.accounts.get(username) == password:
                return True, username
            key = self._state.api_keys.get(username)
        if key is not None and key[1] == password:
            return True, key[0]
        return True, None

    @staticmethod
    async def _form(request: Request) -> Form:
        raw = (await request.body()).decode("utf-8")
        form: Form = {}
        for key, value in parse_qsl(raw, keep_blank_values=True):
            existing = form.get(key)
            if existing is None:
                form[key] = value
            elif isinstance(existing, list):
                existing.append(value)
            else:
                form[key] = [existing, value]
        return form

    def _record(self, request: Request, form: Form, status: int, account_sid: str | None) -> None:
        record = RecordedRequest(
            request.method,
            request.url.path,
            request.url.query,
            form,
            status,
            account_sid,
            time.time(),
        )
        with self._lock:
            self._state.requests.append(record)

    def _error(
        self,
        request: Request,
        form: Form,
        account_sid: str | None,
        status: int,
        code: int,
        message: str,
        retry_after: float | None = None,
    ) -> JSONResponse:
        self._record(request, form, status, account_sid)
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return JSONResponse(error_body(status, code, message), status_code=status, headers=headers)

    def _unauthorized(
        self, request: Request, form: Form, account_sid: str | None = None
    ) -> JSONResponse:
        return self._error(request, form, account_sid, 401, 20003, "Authenticate")

    def _take_failure(self, endpoint: Endpoint, form: Form) -> _Failure | None:
        with self._lock:
            for failure in self._state.failures:
                if failure.endpoint != endpoint or failure.remaining is None:
                    continue
                if failure.remaining > 0:
                    failure.remaining -= 1
                    if failure.remaining == 0:
                        self._state.failures.remove(failure)
                    return failure
            predicates = [f for f in self._state.failures if f.endpoint == endpoint and f.predicate]
        for failure in predicates:
            assert failure.predicate is not None
            if failure.predicate(form):
                return failure
        return None

    async def _create_message(self, request: Request) -> Response:
        form = await self._form(request)
        path_account = request.path_params["account_sid"]
        _, account_sid = self._authenticate(request)
        if account_sid is None or account_sid != path_account:
            return self._unauthorized(request, form)
        failure = self._take_failure("messages", form)
        if failure is not None:
            return self._error(
                request,
                form,
                account_sid,
                failure.status,
                failure.code,
                failure.message,
                failure.retry_after,
            )
        to = _first(form, "To")
        from_ = _first(form, "From")
        service = _first(form, "MessagingServiceSid")
        body = _first(form, "Body")
        media = _all(form, "MediaUrl")
        if not to:
            return self._error(
                request, form, account_sid, 400, 21604, "A 'To' phone number is required."
            )
        if not from_ and not service:
            return self._error(
                request, form, account_sid, 400, 21603, "A 'From' phone number is required."
            )
        if not body and not media and not _first(form, "ContentSid"):
            return self._error(request, form, account_sid, 400, 21602, "Message body is required.")
        sid = new_sid("SM")
        now = format_datetime(datetime.now(UTC))
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
        resource: dict[str, Any] = {
            "account_sid": account_sid,
            "api_version": API_VERSION,
            "body": body or "",
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service,
            "num_media": str(len(media)),
            "num_segments": str(_num_segments(to, body or "")),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued" if from_ else "accepted",
            "subresource_uris": {
                "media": f"{uri}/Media.json",
                "feedback": f"{uri}/Feedback.json",
            },
            "to": to,
            "uri": f"{uri}.json",
        }
        message = SentMessage(sid, account_sid, form, True, time.time())
        with self._lock:
            self._state.messages.append(message)
            self._state.resources[sid] = resource
            stall = self._state.stalls.pop(0) if self._state.stalls else 0.0
        self._record(request, form, 201, account_sid)
        if stall:
            await asyncio.sleep(stall)
        return JSONResponse(resource, status_code=201)

    async def _list_messages(self, request: Request) -> Response:
        """Messages of the account, newest first, filtered by To and From like Twilio's list."""
        path_account = request.path_params["account_sid"]
        _, account_sid = self._authenticate(request)
        if account_sid is None or account_sid != path_account:
            return self._unauthorized(request, {})
        query = request.query_params
        page_size = int(query.get("PageSize", "50"))
        with self._lock:
            found = [
                resource
                for resource in reversed(list(self._state.resources.values()))
                if resource["account_sid"] == account_sid
                and query.get("To", resource["to"]) == resource["to"]
                and query.get("From", resource["from"]) == resource["from"]
            ][:page_size]
        self._record(request, {}, 200, account_sid)
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        return JSONResponse(
            {
                "messages": found,
                "end": max(0, len(found) - 1),
                "first_page_uri": f"{uri}?PageSize={page_size}&Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": page_size,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{uri}?PageSize={page_size}&Page=0",
            }
        )

    async def _fetch_message(self, request: Request) -> Response:
        path_account = request.path_params["account_sid"]
        _, account_sid = self._authenticate(request)
        if account_sid is None or account_sid != path_account:
            return self._unauthorized(request, {})
        with self._lock:
            resource = self._state.resources.get(request.path_params["message_sid"])
        if resource is None or resource["account_sid"] != account_sid:
            return self._not_found_error(request, {}, account_sid)
        self._record(request, {}, 200, account_sid)
        return JSONResponse(resource)

    async def _typing(self, request: Request) -> Response:
        form = await self._form(request)
        _, account_sid = self._authenticate(request)
        if account_sid is None:
            return self._unauthorized(request, form)
        failure = self._take_failure("typing", form)
        if failure is not None:
            return self._error(
                request,
                form,
                account_sid,
                failure.status,
                failure.code,
                failure.message,
                failure.retry_after,
            )
        message_id = _first(form, "messageId")
        channel = _first(form, "channel")
        if not message_id or not channel:
            missing = "messageId" if not message_id else "channel"
            return self._error(
                request, form, account_sid, 400, 20001, f"Missing required parameter {missing}"
            )
        with self._lock:
            self._state.typing.append(TypingRecord(account_sid, message_id, channel, time.time()))
        self._record(request, form, 200, account_sid)
        return JSONResponse({"success": True})

    def _record_media(self, request: Request, had_auth: bool, auth_ok: bool, status: int) -> None:
        with self._lock:
            self._state.media_requests.append(
                MediaRequest(request.url.path, had_auth, auth_ok, status, time.time())
            )

    async def _get_media(self, request: Request) -> Response:
        path_account = request.path_params["account_sid"]
        had_auth, account_sid = self._authenticate(request)
        auth_ok = account_sid is not None and account_sid == path_account
        if not auth_ok:
            self._record_media(request, had_auth, False, 401)
            return self._unauthorized(request, {})
        media_sid = str(request.path_params["media_sid"])
        with self._lock:
            media = self._state.media.get(media_sid.removesuffix(".json"))
            found = (
                media is not None
                and media.account_sid == path_account
                and media.message_sid == request.path_params["message_sid"]
            )
            if media is not None and found and media.not_found_remaining > 0:
                media.not_found_remaining -= 1
                found = False
        if media is None or not found:
            self._record_media(request, had_auth, True, 404)
            return self._not_found_error(request, {}, account_sid)
        if media_sid.endswith(".json"):
            self._record_media(request, had_auth, True, 200)
            self._record(request, {}, 200, account_sid)
            return JSONResponse(self._media_resource(media))
        if media.redirect_to is not None or media.redirect:
            location = media.redirect_to or self.cdn_url(media.media_sid)
            self._record_media(request, had_auth, True, media.redirect_status)
            self._record(request, {}, media.redirect_status, account_sid)
            return RedirectResponse(location, status_code=media.redirect_status)
        self._record_media(request, had_auth, True, 200)
        self._record(request, {}, 200, account_sid)
        return Response(media.content, headers={"Content-Type": media.content_type})

    def _media_resource(self, media: _Media) -> dict[str, Any]:
        now = format_datetime(datetime.now(UTC))
        return {
            "account_sid": media.account_sid,
            "content_type": media.content_type,
            "date_created": now,
            "date_updated": now,
            "parent_sid": media.message_sid,
            "sid": media.media_sid,
            "uri": f"/{API_VERSION}/Accounts/{media.account_sid}/Messages/"
            f"{media.message_sid}/Media/{media.media_sid}.json",
        }

    async def _cdn(self, request: Request) -> Response:
        had_auth = "authorization" in request.headers
        with self._lock:
            media = self._state.media.get(request.path_params["media_sid"])
        if media is None:
            self._record_media(request, had_auth, False, 404)
            return Response(b"Not Found", status_code=404, media_type="text/plain")
        self._record_media(request, had_auth, False, 200)
        return Response(media.content, headers={"Content-Type": media.content_type})

    def _not_found_error(self, request: Request, form: Form, account_sid: str | None) -> Response:
        return self._error(
            request,
            form,
            account_sid,
            404,
            20404,
            f"The requested resource {request.url.path} was not found",
        )

    async def _not_found(self, request: Request) -> Response:
        form = await self._form(request) if request.method == "POST" else {}
        _, account_sid = self._authenticate(request)
        return self._not_found_error(request, form, account_sid)
