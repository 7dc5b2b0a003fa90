"""Terminal WhatsApp simulator: talks to the sandbox channel like a WhatsApp user would."""

from __future__ import annotations

import asyncio
import time
from typing import Any, TextIO

import httpx
from ulid import ULID


class ChatError(Exception):
    """The chat could not complete; ``exit_code`` tells the shell why."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ChatSession:
    """One simulated WhatsApp user talking to one tenant."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        sender: str,
        profile_name: str | None,
        timeout_s: float,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.sender = sender
        self.profile_name = profile_name
        self.timeout_s = timeout_s
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._cursor: str | None = None

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url, headers=self._headers, timeout=httpx.Timeout(70.0)
        )

    async def _request(
        self, client: httpx.AsyncClient, method: str, path: str, **kwargs: Any
    ) -> dict[str, Any]:
        try:
            response = await client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ChatError(f"cannot reach {self.base_url}: {exc}", exit_code=3) from exc
        if response.status_code >= 400:
            try:
                reason = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                reason = response.text[:200]
            raise ChatError(f"{method} {path} -> {response.status_code}: {reason}", exit_code=2)
        result: dict[str, Any] = response.json()
        return result

    async def _outbox(self, client: httpx.AsyncClient, wait: float) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"to": self.sender, "wait": wait, "limit": 200}
        if self._cursor:
            params["after"] = self._cursor
        page = await self._request(client, "GET", "/channels/sandbox/outbox", params=params)
        self._cursor = page["cursor"]
        items: list[dict[str, Any]] = page["items"]
        return items

    async def _skip_history(self, client: httpx.AsyncClient) -> None:
        while await self._outbox(client, wait=0):
            pass

    async def _send(self, client: httpx.AsyncClient, text: str) -> str:
        message_id = f"sim-{ULID()}"
        body: dict[str, Any] = {"from": self.sender, "text": text, "id": message_id}
        if self.profile_name:
            body["profile_name"] = self.profile_name
        await self._request(client, "POST", "/channels/sandbox/messages", json=body)
        return message_id

    async def one_turn(self, text: str) -> list[str]:
        """Send ``text`` and return the reply to it (and anything sent just before it)."""
        async with self._client() as client:
            await self._skip_history(client)
            message_id = await self._send(client, text)
            deadline = time.monotonic() + self.timeout_s
            received: list[str] = []
            while (left := deadline - time.monotonic()) > 0:
                for item in await self._outbox(client, wait=min(left, 25.0)):
                    received.append(item["body"])
                    if item["reply_to_external_id"] == message_id:
                        return received
            raise ChatError(
                f"no reply within {self.timeout_s:g} s (when a person has the conversation, "
                "their answer comes when they write; use the interactive chat to wait)",
                exit_code=1,
            )

    async def interactive(self, stdin: TextIO, stdout: TextIO) -> None:
        """Read lines from the user, show every message the platform sends them."""
        async with self._client() as client:
            await self._skip_history(client)
            stdout.write(
                f"WhatsApp simulator: you are {self.sender} on {self.base_url}. "
                "Type a message; Ctrl-D to quit.\n"
            )
            stdout.flush()
            receiver = asyncio.create_task(self._print_incoming(client, stdout))
            try:
                while True:
                    line = await asyncio.to_thread(stdin.readline)
                    if not line:
                        break
                    if line.strip():
                        await self._send(client, line.rstrip("\n"))
            finally:
                receiver.cancel()

    async def _print_incoming(self, client: httpx.AsyncClient, stdout: TextIO) -> None:
        while True:
            try:
                items = await self._outbox(client, wait=25.0)
            except ChatError as exc:
                stdout.write(f"! {exc}\n")
                await asyncio.sleep(2)
                continue
            for item in items:
                stdout.write(f"< {item['body']}\n")
            stdout.flush()
