"""Fetching remote files without being turned against the network we run in (SSRF-safe)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx


class FetchRefusedError(Exception):
    """The fetch was refused before or while downloading; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FetchNotFoundError(Exception):
    """The server answered 404 (the file may not be ready yet)."""


@dataclass(frozen=True)
class Fetched:
    """A downloaded file."""

    content: bytes
    content_type: str
    final_url: str


UrlCheck = Callable[[httpx.URL, int], str | None]


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable, also for IPv4 addresses carried inside IPv6 ones."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = (
            address.ipv4_mapped
            or address.sixtofour
            or (address.teredo[1] if address.teredo else None)
        )
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and int(address) >> 32 == 0:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)  # ::a.b.c.d
        if embedded is not None and not embedded.is_global:
            return False
    return address.is_global


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchRefusedError(f"cannot resolve {host}") from exc
    return [str(info[4][0]) for info in infos]


async def pin_address(host: str, port: int, *, resolver: Resolver, allow_private: bool) -> str:
    """The one address to connect to for ``host``, checked once and then used as is.

    Connecting by name again would resolve again, and a second answer (DNS rebinding) could
    point at an address that was never checked; so the request goes to this address.
    """
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in await resolver(host, port)]
    else:
        addresses = [literal]
    if not addresses:
        raise FetchRefusedError(f"cannot resolve {host}")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise FetchRefusedError(f"{host} resolves to a non-public address ({address})")
    return str(addresses[0])


def pinned_request(client: httpx.AsyncClient, target: httpx.URL, address: str) -> httpx.Request:
    """A GET of ``target`` sent to ``address``, with the original Host header and TLS name."""
    host_header = target.host if target.port is None else f"{target.host}:{target.port}"
    return client.build_request(
        "GET",
        target.copy_with(host=address),
        headers={"Host": host_header},
        # The certificate is checked against the name, not the address connected to.
        extensions={"sni_hostname": target.host},
    )


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    check: UrlCheck,
    max_bytes: int,
    auth: tuple[str, str] | None = None,
    allow_private: bool = False,
    max_redirects: int = 3,
    deadline_s: float = 60.0,
    resolver: Resolver = resolve,
) -> Fetched:
    """GET ``url`` following only redirects that ``check`` accepts, with a size cap.

    ``check(url, hop)`` returns None to accept or a reason to refuse; hop 0 is the first URL.
    Credentials go to the first URL only, never to a redirect target. The whole download,
    redirects included, must finish within ``deadline_s``.
    """
    try:
        async with asyncio.timeout(deadline_s):
            return await _fetch(
                client, url, check, max_bytes, auth, allow_private, max_redirects, resolver
            )
    except TimeoutError as exc:
        raise FetchRefusedError(f"download took longer than {deadline_s:g} s") from exc


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    check: UrlCheck,
    max_bytes: int,
    auth: tuple[str, str] | None,
    allow_private: bool,
    max_redirects: int,
    resolver: Resolver,
) -> Fetched:
    target = httpx.URL(url)
    for hop in range(max_redirects + 1):
        refusal = check(target, hop)
        if refusal is not None:
            raise FetchRefusedError(refusal)
        if not allow_private:
            if target.scheme != "https":
                raise FetchRefusedError(f"only https is allowed: {target.scheme}://{target.host}")
            if target.port not in (None, 443):
                raise FetchRefusedError(f"only port 443 is allowed: {target.host}:{target.port}")
        port = target.port or (443 if target.scheme == "https" else 80)
        address = await pin_address(
            target.host, port, resolver=resolver, allow_private=allow_private
        )
        request = pinned_request(client, target, address)
        response = await client.send(
            request, stream=True, follow_redirects=False, auth=auth if hop == 0 else None
        )
        try:
            if response.is_redirect:
                location = response.headers.get("location")
                if not location:
                    raise FetchRefusedError("redirect without a location")
                target = target.join(location)
                continue
            if response.status_code == 404:
                raise FetchNotFoundError(str(target))
            if response.status_code != 200:
                raise FetchRefusedError(f"HTTP {response.status_code} from {target.host}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchRefusedError(f"file of {declared} bytes is over {max_bytes}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchRefusedError(f"file is over {max_bytes} bytes")
                chunks.append(chunk)
            content_type = response.headers.get("content-type", "application/octet-stream")
            return Fetched(b"".join(chunks), content_type.split(";")[0].strip(), str(target))
        finally:
            await response.aclose()
    raise FetchRefusedError(f"more than {max_redirects} redirects")
