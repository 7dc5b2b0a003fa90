"""The official Twilio SDK, pointed at Twilio or (for tests) at another base URL."""

from __future__ import annotations

import asyncio
import base64
import contextvars
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

_TWILIO_HOST = re.compile(r"^https://[a-z0-9.-]*\.twilio\.com(?=/)")
_last_headers: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "twilio_last_headers"
)


def encode_basic_auth(user: str, password: str) -> str:
    """An HTTP Basic Authorization header value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class _HttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """One pooled session for all tenants; keeps response headers (Retry-After) for the caller."""

    def __init__(self, api_base: str, timeout_s: float) -> None:
        super().__init__(timeout=timeout_s)
        self._api_base = api_base.rstrip("/")
        self._timeout_s = timeout_s

    async def request(
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        **kwargs: Any,
    ) -> Response:
        if self._api_base:
            url = _TWILIO_HOST.sub(self._api_base, url)
        headers = dict(headers or {})
        if auth is not None:
            # aiohttp deprecates its BasicAuth; the header is the same thing.
            headers["Authorization"] = encode_basic_auth(*auth)
        # The SDK's async client hands aiohttp no timeout of its own: the whole call gets one.
        async with asyncio.timeout(self._timeout_s):
            response: Response = await super().request(
                method, url, params=params, data=data, headers=headers, **kwargs
            )
        # Awaited in the caller's context, so the caller reads it right after its call.
        _last_headers.set({key.lower(): value for key, value in dict(response.headers).items()})
        return response


@dataclass(frozen=True)
class SendError:
    """A Twilio API failure, classified for retry decisions."""

    status: int
    code: int | None
    message: str
    retry_after_s: float | None

    @property
    def retryable(self) -> bool:
        """429 and 5xx are worth retrying; other 4xx are not."""
        return self.status == 429 or self.status >= 500


def classify(exc: TwilioRestException) -> SendError:
    """The status, Twilio error code and Retry-After of a failed call."""
    retry_after = None
    raw = _last_headers.get({}).get("retry-after")
    if raw:
        try:
            retry_after = max(0.0, float(raw))
        except ValueError:
            retry_after = None
    return SendError(
        status=int(exc.status),
        code=int(exc.code) if exc.code is not None else None,
        message=str(exc.msg),
        retry_after_s=retry_after,
    )


class TwilioClients:
    """Builds SDK clients per account over one shared HTTP session."""

    def __init__(self, *, api_base: str, timeout_s: float) -> None:
        self._api_base = api_base
        self._timeout_s = timeout_s
        self._http: _HttpClient | None = None

    def client(self, account_sid: str, auth_token: str) -> Client:
        """An SDK client for one account (credentials used for this call only)."""
        if self._http is None:
            # aiohttp sessions must be created inside the running event loop.
            self._http = _HttpClient(self._api_base, self._timeout_s)
        return Client(account_sid, auth_token, http_client=self._http)

    async def close(self) -> None:
        """Close the shared HTTP session."""
        if self._http is not None:
            await self._http.close()
            self._http = None
