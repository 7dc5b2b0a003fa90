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


class Resolver:
    """A resolver whose answers change from one lookup to the next (DNS rebinding)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append((host, port))
        return self.answers[min(len(self.lookups), len(self.answers)) - 1]


async def test_the_connection_goes_to_the_checked_address_with_the_original_name() -> None:
    seen: list[httpx.Request] = []

    async def server(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"ok", headers={"Content-Type": "text/plain"})

    # The first answer is public and checked; a second lookup would point inside the network.
    resolver = Resolver(["93.184.216.34"], ["169.254.169.254"])
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
        fetched = await fetch(
            client,
            "https://media.example.com/file",
            check=lambda _u, _h: None,
            max_bytes=10,
            resolver=resolver,
        )

    assert fetched.content == b"ok"
    assert resolver.lookups == [("media.example.com", 443)]
    [request] = seen
    assert (request.url.scheme, request.url.host, request.url.path) == (
        "https",
        "93.184.216.34",
        "/file",
    )
    assert request.headers["host"] == "media.example.com"
    assert request.extensions["sni_hostname"] == "media.example.com"
    assert fetched.final_url == "https://media.example.com/file"


async def test_any_private_answer_refuses_the_name() -> None:
    async def no_network(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request expected, got {request.url}")

    resolver = Resolver(["93.184.216.34", "10.0.0.5"])
    async with httpx.AsyncClient(transport=httpx.MockTransport(no_network)) as client:
        with pytest.raises(FetchRefusedError, match=r"non-public address \(10.0.0.5\)"):
            await fetch(
                client,
                "https://media.example.com/file",
                check=lambda _u, _h: None,
                max_bytes=10,
                resolver=resolver,
            )


async def test_each_redirect_hop_is_resolved_checked_and_pinned_once() -> None:
    seen: list[httpx.Request] = []

    async def server(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers["host"] == "api.example.com":
            return httpx.Response(307, headers={"Location": "https://cdn.example.com/f"})
        return httpx.Response(200, content=b"data")

    resolver = Resolver(["93.184.216.34"], ["10.9.9.9"])
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as client:
        with pytest.raises(FetchRefusedError, match=r"cdn\.example\.com resolves to a non-public"):
            await fetch(
                client,
                "https://api.example.com/m",
                check=lambda _u, _h: None,
                max_bytes=10,
                resolver=resolver,
            )
    assert [r.url.host for r in seen] == ["93.184.216.34"]
    assert resolver.lookups == [("api.example.com", 443), ("cdn.example.com", 443)]
