"""The HTTP surface: middleware, error mapping, health, metrics, sandbox and conversation APIs."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from tests.conftest import auth, drain, make_settings
from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.identity import service as identity

MESSAGES = "/channels/sandbox/messages"
OUTBOX = "/channels/sandbox/outbox"
SENDER = "+5511999990001"
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
SMALL_LIMIT = 2048
# Nothing listens on port 1: every connection attempt is refused at once.
DOWN_DB_URL = "postgresql+asyncpg://u:p@127.0.0.1:1/x"


async def _new_tenant(container: Container, name: str) -> dict[str, str]:
    async with container.db.transaction() as session:
        created = await identity.create_tenant(
            session, name=name, slug=f"t-{new_id().lower()[-10:]}", now=container.clock.now()
        )
        _key, secret = await identity.create_api_key(
            session, tenant_id=created.id, name="test", now=container.clock.now()
        )
    return {"id": created.id, "key": secret}


async def _send(
    client: httpx.AsyncClient, key: str, body: str, msg_id: str, sender: str = SENDER
) -> httpx.Response:
    return await client.post(
        MESSAGES,
        json={"from": sender, "text": body, "id": msg_id, "profile_name": "Ana Souza"},
        headers=auth(key),
    )


async def _nothing_stored(container: Container) -> None:
    stats = await container.queue.stats()
    assert sum(stats.by_status.values()) == 0, stats
    async with container.db.read() as session:
        events = await session.scalar(text("SELECT count(*) FROM inbound_events"))
    assert events == 0


def _error(response: httpx.Response) -> dict[str, Any]:
    """The one error shape: {"error": {"code", "message", ...}}."""
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["code"]
    assert error["message"]
    return error


def _samples(exposition: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    ]


def _client(app: Any, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def small(
    db_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Container, httpx.AsyncClient, str]]:
    """(container, client, api key) of an application that accepts at most 2048-byte bodies."""
    container = bootstrap(make_settings(db_url, tmp_path, app={"max_body_bytes": SMALL_LIMIT}))
    created = await _new_tenant(container, "Loja Pequena")
    async with _client(create_app(container)) as http:
        yield container, http, created["key"]
    await container.close()


@pytest.fixture
async def down(tmp_path: Path) -> AsyncIterator[tuple[Container, httpx.AsyncClient]]:
    """An application whose PostgreSQL refuses every connection."""
    container = bootstrap(make_settings(DOWN_DB_URL, tmp_path))
    # The 503 response is sent by Starlette's outermost middleware, which re-raises afterwards
    # for the server to log; a real server still delivers the response, so do not raise here.
    async with _client(create_app(container), raise_app_exceptions=False) as http:
        yield container, http
    await container.close()


def _oversized_body() -> bytes:
    return json.dumps({"from": SENDER, "text": "a" * (SMALL_LIMIT * 2)}).encode()


async def _chunks(data: bytes, size: int = 512) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


# --- POST /channels/sandbox/messages ---------------------------------------------------------


async def test_accepted_message_is_stored_and_queued(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    response = await _send(client, tenant["key"], "oi", "m-1")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["message_id"] == "m-1"
    assert body["duplicate"] is False
    assert ULID.match(body["event_id"])
    stats = await container.queue.stats()
    assert stats.by_status["queued"] == 1


async def test_message_without_id_gets_a_generated_one(
    client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    response = await client.post(
        MESSAGES, json={"from": "11 98765-4321", "text": "oi"}, headers=auth(tenant["key"])
    )
    assert response.status_code == 202, response.text
    assert ULID.match(response.json()["message_id"])


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-header"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, id="basic-scheme"),
        pytest.param({"Authorization": "Bearer   "}, id="empty-token"),
    ],
)
async def test_missing_api_key_is_401_with_reason(
    container: Container,
    client: httpx.AsyncClient,
    tenant: dict[str, str],
    headers: dict[str, str],
) -> None:
    response = await client.post(MESSAGES, json={"from": SENDER, "text": "oi"}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    error = _error(response)
    assert error["code"] == "unauthorized"
    assert "Authorization: Bearer" in error["message"]
    await _nothing_stored(container)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("wai_abcdef123456_xxx", id="unknown-key"),
        pytest.param("not-a-key-at-all", id="garbage"),
        pytest.param("wai_onlytwo", id="too-few-parts"),
    ],
)
async def test_unknown_api_key_is_401(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str], token: str
) -> None:
    response = await client.post(MESSAGES, json={"from": SENDER, "text": "oi"}, headers=auth(token))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "unknown or revoked" in _error(response)["message"]
    await _nothing_stored(container)


async def test_key_with_right_prefix_but_wrong_secret_is_401(
    client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    prefix, _, secret = tenant["key"].rpartition("_")
    forged = f"{prefix}_{'x' * len(secret)}"
    response = await client.post(
        MESSAGES, json={"from": SENDER, "text": "oi"}, headers=auth(forged)
    )
    assert response.status_code == 401


async def test_malformed_json_is_422_naming_the_problem(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    response = await client.post(
        MESSAGES,
        content=b'{"from": "+5511999990001", "text": ',
        headers={**auth(tenant["key"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_error"
    assert "JSON" in error["message"]
    assert [field["type"] for field in error["fields"]] == ["json_invalid"]
    await _nothing_stored(container)


async def test_missing_text_is_422_naming_the_field(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    response = await client.post(MESSAGES, json={"from": SENDER}, headers=auth(tenant["key"]))
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_error"
    assert "text" in error["message"]
    assert error["fields"] == [
        {"field": "body.text", "message": "Field required", "type": "missing"}
    ]
    await _nothing_stored(container)


async def test_unknown_field_is_rejected(client: httpx.AsyncClient, tenant: dict[str, str]) -> None:
    response = await client.post(
        MESSAGES,
        json={"from": SENDER, "text": "oi", "tenant_id": "someone-else"},
        headers=auth(tenant["key"]),
    )
    assert response.status_code == 422
    assert "tenant_id" in _error(response)["message"]


@pytest.mark.parametrize("sender", ["hello there", "+0123", "+55 11 9"])
async def test_sender_that_is_not_a_phone_is_422(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str], sender: str
) -> None:
    response = await client.post(
        MESSAGES, json={"from": sender, "text": "oi"}, headers=auth(tenant["key"])
    )
    assert response.status_code == 422
    error = _error(response)
    assert "E.164" in error["message"]
    assert repr(sender) in error["message"]
    await _nothing_stored(container)


async def test_body_over_limit_with_content_length_is_413_and_stores_nothing(
    small: tuple[Container, httpx.AsyncClient, str],
) -> None:
    container, http, key = small
    data = _oversized_body()
    response = await http.post(
        MESSAGES,
        content=data,
        headers={**auth(key), "Content-Type": "application/json", "X-Request-ID": "big-1"},
    )
    assert response.status_code == 413
    assert response.headers["x-request-id"] == "big-1"
    error = _error(response)
    assert error["code"] == "body_too_large"
    assert str(SMALL_LIMIT) in error["message"]
    await _nothing_stored(container)


async def test_body_at_limit_is_accepted(small: tuple[Container, httpx.AsyncClient, str]) -> None:
    container, http, key = small
    envelope = json.dumps({"from": SENDER, "text": ""}).encode()
    data = json.dumps({"from": SENDER, "text": "a" * (SMALL_LIMIT - len(envelope))}).encode()
    assert len(data) == SMALL_LIMIT
    response = await http.post(
        MESSAGES, content=data, headers={**auth(key), "Content-Type": "application/json"}
    )
    # The schema caps text at 4096 characters, so 2048 bytes pass the size check and the schema.
    assert response.status_code == 202, response.text
    assert (await container.queue.stats()).by_status["queued"] == 1


async def test_chunked_body_over_limit_stores_nothing(
    small: tuple[Container, httpx.AsyncClient, str],
) -> None:
    container, http, key = small
    request = http.build_request(
        "POST",
        MESSAGES,
        content=_chunks(_oversized_body()),
        headers={**auth(key), "Content-Type": "application/json"},
    )
    assert "content-length" not in request.headers
    response = await http.send(request)
    assert 400 <= response.status_code < 500
    await _nothing_stored(container)


async def test_chunked_body_over_limit_is_413(
    small: tuple[Container, httpx.AsyncClient, str],
) -> None:
    _container, http, key = small
    response = await http.post(
        MESSAGES,
        content=_chunks(_oversized_body()),
        headers={**auth(key), "Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert _error(response)["code"] == "body_too_large"


# --- database unavailable ----------------------------------------------------------------------


async def test_database_down_is_503_with_retry_after(
    down: tuple[Container, httpx.AsyncClient],
) -> None:
    _container, http = down
    response = await http.post(
        MESSAGES,
        json={"from": SENDER, "text": "oi", "id": "m-1"},
        headers=auth("wai_abcdef123456_secret"),
    )
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    error = _error(response)
    assert error["code"] == "service_unavailable"
    assert "nothing was stored" in error["message"]


async def test_readyz_names_unreachable_database(
    down: tuple[Container, httpx.AsyncClient],
) -> None:
    _container, http = down
    response = await http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"].startswith("unreachable")
    assert body["checks"]["migrations"] != "ok"
    assert body["checks"]["queue"].startswith("unreachable")


async def test_database_down_503_echoes_request_id(
    down: tuple[Container, httpx.AsyncClient],
) -> None:
    _container, http = down
    response = await http.post(
        MESSAGES,
        json={"from": SENDER, "text": "oi"},
        headers={**auth("wai_abcdef123456_secret"), "X-Request-ID": "down-1"},
    )
    assert response.status_code == 503
    assert response.headers.get("x-request-id") == "down-1"


async def test_database_down_503_is_counted_as_503(
    down: tuple[Container, httpx.AsyncClient],
) -> None:
    _container, http = down
    response = await http.post(
        MESSAGES, json={"from": SENDER, "text": "oi"}, headers=auth("wai_abcdef123456_secret")
    )
    assert response.status_code == 503
    counted = [
        labels["status"]
        for name, labels, _value in _samples((await http.get("/metrics")).text)
        if name == "http_request_duration_seconds_count" and labels["route"] == MESSAGES
    ]
    assert counted == ["503"]


# --- health, readiness, request id --------------------------------------------------------------


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_ok_on_migrated_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "queue": "ok"},
    }


async def test_readyz_reports_migrations_not_at_head(
    container: Container, client: httpx.AsyncClient
) -> None:
    async with container.db.transaction() as session:
        await session.execute(text("UPDATE alembic_version SET version_num = 'fake0000rev'"))
    response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["queue"] == "ok"
    assert body["checks"]["migrations"].startswith("at fake0000rev, head is ")


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


async def test_request_id_is_generated_when_absent(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert ULID.match(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_overlong_request_id_is_truncated(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "r" * 500})
    assert response.headers["x-request-id"] == "r" * 64


async def test_request_id_on_error_responses(client: httpx.AsyncClient) -> None:
    response = await client.post(
        MESSAGES, json={"from": SENDER, "text": "oi"}, headers={"X-Request-ID": "err-1"}
    )
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "err-1"


async def test_unknown_route_uses_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/route")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


# --- /metrics -----------------------------------------------------------------------------------


async def test_metrics_label_route_templates_and_queue_depth(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    for n in range(2):
        assert (await _send(client, tenant["key"], "oi", f"m-{n}")).status_code == 202
    await client.post(MESSAGES, json={"from": SENDER}, headers=auth(tenant["key"]))
    conversation_id = new_id()
    assert (
        await client.get(f"/conversations/{conversation_id}/messages", headers=auth(tenant["key"]))
    ).status_code == 404
    await client.get(f"/no/such/{conversation_id}")

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    assert conversation_id not in response.text  # raw paths never become labels

    def count(route: str, status: str) -> float:
        return sum(
            value
            for name, labels, value in samples
            if name == "http_request_duration_seconds_count"
            and labels == {"method": labels["method"], "route": route, "status": status}
        )

    assert count(MESSAGES, "202") == 2
    assert count(MESSAGES, "422") == 1
    assert count("/conversations/{conversation_id}/messages", "404") == 1
    assert count("unmatched", "404") == 1
    buckets = [
        labels
        for name, labels, _value in samples
        if name == "http_request_duration_seconds_bucket" and labels["route"] == MESSAGES
    ]
    assert buckets
    assert 'route="/channels/sandbox/messages"' in response.text

    gauges = {
        (name, labels.get("status")): value
        for name, labels, value in samples
        if name in ("queue_jobs", "queue_oldest_ready_job_age_seconds")
    }
    assert gauges[("queue_jobs", "queued")] == 2
    assert gauges[("queue_jobs", "done")] == 0
    assert gauges[("queue_oldest_ready_job_age_seconds", None)] >= 0

    await drain(container)
    after = {
        labels["status"]: value
        for name, labels, value in _samples((await client.get("/metrics")).text)
        if name == "queue_jobs"
    }
    assert after["queued"] == 0
    assert after["done"] == 4  # two turns, two deliveries


# --- tenant isolation and paging ----------------------------------------------------------------


async def test_tenant_cannot_read_another_tenants_data(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    other = await _new_tenant(container, "Outra Loja")
    assert (await _send(client, tenant["key"], "oi", "a-1")).status_code == 202
    await container.worker().run_until_idle()

    mine = await client.get("/conversations", headers=auth(tenant["key"]))
    assert mine.status_code == 200
    assert len(mine.json()["items"]) == 1
    conversation_id = mine.json()["items"][0]["id"]
    own_messages = await client.get(
        f"/conversations/{conversation_id}/messages", headers=auth(tenant["key"])
    )
    assert len(own_messages.json()["items"]) == 2
    own_outbox = await client.get(OUTBOX, params={"to": SENDER}, headers=auth(tenant["key"]))
    assert len(own_outbox.json()["items"]) == 1

    theirs = await client.get("/conversations", headers=auth(other["key"]))
    assert theirs.status_code == 200
    assert theirs.json() == {"items": [], "next_cursor": None}
    foreign = await client.get(
        f"/conversations/{conversation_id}/messages", headers=auth(other["key"])
    )
    assert foreign.status_code == 404
    assert _error(foreign)["code"] == "not_found"
    outbox = await client.get(OUTBOX, params={"to": SENDER}, headers=auth(other["key"]))
    assert outbox.status_code == 200
    assert outbox.json() == {"items": [], "cursor": None}


async def test_conversation_list_holds_only_the_callers(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    other = await _new_tenant(container, "Outra Loja")
    await _send(client, tenant["key"], "oi", "a-1", sender="+5511999990001")
    await _send(client, tenant["key"], "oi", "a-2", sender="+5511999990002")
    await _send(client, other["key"], "oi", "b-1", sender="+5511999990003")
    await container.worker().run_until_idle()

    mine = (await client.get("/conversations", headers=auth(tenant["key"]))).json()["items"]
    theirs = (await client.get("/conversations", headers=auth(other["key"]))).json()["items"]
    assert len(mine) == 2
    assert len(theirs) == 1
    assert not {c["id"] for c in mine} & {c["id"] for c in theirs}
    assert [c["last_message_at"] for c in mine] == sorted(
        (c["last_message_at"] for c in mine), reverse=True
    )
    limited = await client.get("/conversations", params={"limit": 1}, headers=auth(tenant["key"]))
    assert [c["id"] for c in limited.json()["items"]] == [mine[0]["id"]]
    rest = await client.get(
        "/conversations",
        params={"limit": 1, "cursor": limited.json()["next_cursor"]},
        headers=auth(tenant["key"]),
    )
    assert [c["id"] for c in rest.json()["items"]] == [mine[1]["id"]]
    assert rest.json()["next_cursor"] is None


async def test_messages_page_with_cursor_in_order(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    for n in range(3):
        text = f"gastei {n + 1}0 reais no mercado"
        assert (await _send(client, tenant["key"], text, f"p-{n}")).status_code == 202
    await container.worker().run_until_idle()
    headers = auth(tenant["key"])
    (conversation,) = (await client.get("/conversations", headers=headers)).json()["items"]
    path = f"/conversations/{conversation['id']}/messages"

    everything = (await client.get(path, params={"limit": 200}, headers=headers)).json()
    assert everything["next_cursor"] is None
    assert len(everything["items"]) == 6

    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200
        page = response.json()
        pages.append(page["items"])
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
        assert len(pages) < 10

    paged = [item for page in pages for item in page]
    # Three full pages: the last one says so (no empty page after it).
    assert [len(page) for page in pages] == [2, 2, 2]
    assert paged == everything["items"]
    ids = [item["id"] for item in paged]
    assert ids == sorted(ids)
    assert [(m["direction"], m["body"]) for m in paged[::2]] == [
        ("in", f"gastei {n + 1}0 reais no mercado") for n in range(3)
    ]
    for question, answer in zip(paged[::2], paged[1::2], strict=True):
        assert answer["direction"] == "out"
        assert answer["reply_to_id"] == question["id"]


async def test_message_paging_rejects_bad_limit(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    response = await client.get(
        f"/conversations/{new_id()}/messages", params={"limit": 0}, headers=auth(tenant["key"])
    )
    assert response.status_code == 422
    assert "limit" in _error(response)["message"]
    conversation = await client.get(
        "/conversations", params={"cursor": "not-a-cursor"}, headers=auth(tenant["key"])
    )
    assert conversation.status_code == 422
    assert [f["field"] for f in _error(conversation)["fields"]] == ["query.cursor"]


# --- outbox long-poll ---------------------------------------------------------------------------


async def test_outbox_long_poll_returns_when_reply_arrives(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    assert (await _send(client, tenant["key"], "oi", "lp-1")).status_code == 202

    async def work_later() -> int:
        await asyncio.sleep(0.3)
        return await container.worker().run_until_idle()

    async def poll() -> tuple[httpx.Response, float]:
        started = time.monotonic()
        response = await client.get(
            OUTBOX, params={"to": SENDER, "wait": 10}, headers=auth(tenant["key"])
        )
        return response, time.monotonic() - started

    (response, elapsed), ran = await asyncio.gather(poll(), work_later())
    assert ran == 2
    assert response.status_code == 200
    page = response.json()
    assert [item["reply_to_external_id"] for item in page["items"]] == ["lp-1"]
    assert page["cursor"] == page["items"][-1]["id"]
    assert 0.3 <= elapsed < 5  # woke on the reply, not at the end of the wait

    again = await client.get(
        OUTBOX, params={"to": SENDER, "after": page["cursor"]}, headers=auth(tenant["key"])
    )
    assert again.json() == {"items": [], "cursor": page["cursor"]}


async def test_outbox_long_poll_returns_empty_after_wait(
    client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    started = time.monotonic()
    response = await client.get(
        OUTBOX, params={"to": SENDER, "wait": 0.6}, headers=auth(tenant["key"])
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json() == {"items": [], "cursor": None}
    assert elapsed >= 0.6


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"to": SENDER, "wait": 61}, "wait", id="wait-too-long"),
        pytest.param({"to": SENDER, "wait": -1}, "wait", id="negative-wait"),
        pytest.param({}, "to", id="missing-to"),
    ],
)
async def test_outbox_rejects_bad_query(
    client: httpx.AsyncClient, tenant: dict[str, str], params: dict[str, Any], field: str
) -> None:
    response = await client.get(OUTBOX, params=params, headers=auth(tenant["key"]))
    assert response.status_code == 422
    assert field in _error(response)["message"]


async def test_outbox_requires_api_key(client: httpx.AsyncClient) -> None:
    response = await client.get(OUTBOX, params={"to": SENDER})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
