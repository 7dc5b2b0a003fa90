"""The path of one message through the sandbox channel, in process, on both databases."""

from __future__ import annotations

import httpx

from tests.conftest import auth
from whatsapp_ai.bootstrap import Container


async def _send(
    client: httpx.AsyncClient, key: str, text: str, msg_id: str, sender: str = "+5511999990001"
) -> httpx.Response:
    return await client.post(
        "/channels/sandbox/messages",
        json={"from": sender, "text": text, "id": msg_id, "profile_name": "Ana Souza"},
        headers=auth(key),
    )


async def _outbox(
    client: httpx.AsyncClient, key: str, to: str = "+5511999990001"
) -> list[dict[str, str]]:
    response = await client.get("/channels/sandbox/outbox", params={"to": to}, headers=auth(key))
    assert response.status_code == 200, response.text
    items: list[dict[str, str]] = response.json()["items"]
    return items


async def test_message_gets_exactly_one_reply(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    response = await _send(client, tenant["key"], "oi", "m-1")
    assert response.status_code == 202, response.text
    assert response.json()["duplicate"] is False

    ran = await container.worker().run_until_idle()
    assert ran == 2  # the turn, then the delivery

    items = await _outbox(client, tenant["key"])
    assert len(items) == 1
    assert items[0]["reply_to_external_id"] == "m-1"
    assert "Ana" in items[0]["body"]
    assert "Padaria Teste" in items[0]["body"]


async def test_redelivered_message_is_stored_once(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    first = await _send(client, tenant["key"], "quanto custa?", "dup-1")
    again = await _send(client, tenant["key"], "quanto custa?", "dup-1")
    assert again.status_code == 202
    assert again.json() == {"message_id": "dup-1", "event_id": None, "duplicate": True}
    assert first.json()["event_id"]
    await container.worker().run_until_idle()
    assert len(await _outbox(client, tenant["key"])) == 1
