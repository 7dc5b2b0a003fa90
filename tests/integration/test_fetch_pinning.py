"""The media fetcher over a real socket: it connects to the address it checked, by that address,
so a name the system resolver cannot even resolve is fetched through the checked answer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.fakes.server import ThreadedServer
from whatsapp_ai.core.fetch import fetch

NAME = "media.pinning.invalid"  # .invalid never resolves (RFC 2606)


async def _echo_host(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.headers.get("host", ""))


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(Starlette(routes=[Route("/f", _echo_host)])) as running:
        yield running


async def test_the_request_reaches_the_pinned_address_with_the_name_as_host(
    server: ThreadedServer,
) -> None:
    port = httpx.URL(server.url).port
    assert port is not None
    lookups: list[str] = []

    async def resolver(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    async with httpx.AsyncClient() as client:
        fetched = await fetch(
            client,
            f"http://{NAME}:{port}/f",
            check=lambda _u, _h: None,
            max_bytes=100,
            allow_private=True,
            resolver=resolver,
        )
    assert fetched.content.decode() == f"{NAME}:{port}"
    assert lookups == [NAME]
