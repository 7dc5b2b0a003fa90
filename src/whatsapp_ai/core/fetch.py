"""Fetching remote files without being turned against the network we run in (SSRF-safe)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable
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


async def _public_only(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchRefusedError(f"cannot resolve {host}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise FetchRefusedError(f"{host} resolves to a non-public address ({address})")


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    check: UrlCheck,
    max_bytes: int,
    auth: tuple[str, str] | None = None,
    allow_private: bool = False,
    max_redirects: int = 3,
) -> Fetched:
    """GET ``url`` following only redirects that ``check`` accepts, with a size cap.

    ``check(url, hop)`` returns None to accept or a reason to refuse; hop 0 is the first URL.
    Credentials go to the first URL only, never to a redirect target.
    """
    target = httpx.URL(url)
    for hop in range(max_redirects + 1):
        refusal = check(target, hop)
        if refusal is not None:
            raise FetchRefusedError(refusal)
        if target.scheme != "https" and not allow_private:
            raise FetchRefusedError(f"only https is allowed: {target.scheme}://{target.host}")
        if not allow_private:
            await _public_only(target.host, target.port or 443)
        request = client.build_request("GET", target)
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
