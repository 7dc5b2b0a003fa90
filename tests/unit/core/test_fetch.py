"""SSRF guards of the media fetcher that need no network."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from whatsapp_ai.core.fetch import FetchRefusedError, fetch, is_public


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("::127.0.0.1", False),  # IPv4-compatible
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://media.twiliocdn.com/x", "only https"),
        ("https://media.twiliocdn.com:8443/x", "only port 443"),
        ("https://127.0.0.1/x", "non-public address"),
    ],
)
async def test_refused_before_any_request(url: str, reason: str) -> None:
    async def no_network(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request expected, got {request.url}")

    async with httpx.AsyncClient(transport=httpx.MockTransport(no_network)) as client:
        with pytest.raises(FetchRefusedError, match=reason):
            await fetch(client, url, check=lambda _url, _hop: None, max_bytes=10)


async def test_check_refusal_comes_first() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(FetchRefusedError, match="not ours"):
            await fetch(
                client, "https://example.com/x", check=lambda _u, _h: "not ours", max_bytes=1
            )
