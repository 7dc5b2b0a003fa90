"""Hardening of identity and privacy: odd input, races, and rights over others."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import auth, drain, make_settings
from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.blobs import LocalBlobStore
from whatsapp_ai.core.leases import LeaseRow, export_contact_leases
from whatsapp_ai.core.privacy import ContactRef
from whatsapp_ai.identity import service as identity
from whatsapp_ai.identity.models import Contact

PASSWORD = "a long enough password"


async def _login(client: httpx.AsyncClient, container: Container, tenant_id: str) -> str:
    async with container.db.transaction() as session:
        await identity.create_user(
            session,
            tenant_id=tenant_id,
            email="boss@example.com",
            name="Boss",
            role="admin",
            password=PASSWORD,
            now=container.clock.now(),
        )
    response = await client.post(
        "/identity/login", json={"email": "boss@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    token: str = response.json()["csrf_token"]
    return token


async def test_non_ascii_csrf_token_is_refused_not_a_crash(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    await _login(client, container, tenant["id"])
    response = await client.post(
        "/identity/api-keys",
        json={"name": "x", "scopes": ["*"]},
        headers={"X-CSRF-Token": "é".encode()},
    )
    assert response.status_code == 403


async def test_a_users_key_cannot_disable_or_demote_an_admin(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    async with container.db.transaction() as session:
        admin = await identity.create_user(
            session,
            tenant_id=tenant["id"],
            email="admin@example.com",
            name="Admin",
            role="admin",
            password=PASSWORD,
            now=container.clock.now(),
        )
        _key, narrow = await identity.create_api_key(
            session,
            tenant_id=tenant["id"],
            name="hr",
            scopes=["users:*", "keys:*"],
            now=container.clock.now(),
        )
        wide, _secret = await identity.create_api_key(
            session, tenant_id=tenant["id"], name="all", now=container.clock.now()
        )
    for change in ({"disabled": True}, {"role": "member"}):
        response = await client.patch(
            f"/identity/users/{admin.id}", json=change, headers=auth(narrow)
        )
        assert response.status_code == 403, response.text
    revoke = await client.delete(f"/identity/api-keys/{wide.id}", headers=auth(narrow))
    assert revoke.status_code == 403


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_nul_characters_are_a_clear_422_on_postgres(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    await client.post(
        "/channels/sandbox/messages",
        json={"from": "+5511999990001", "text": "oi"},
        headers=auth(tenant["key"]),
    )
    await drain(container)
    listed = await client.get("/identity/contacts", headers=auth(tenant["key"]))
    [contact] = listed.json()["items"]
    response = await client.patch(
        f"/identity/contacts/{contact['id']}",
        json={"display_name": "Ana\u0000"},
        headers=auth(tenant["key"]),
    )
    assert response.status_code == 422
    assert (
        await client.get("/identity/contacts/%00", headers=auth(tenant["key"]))
    ).status_code in (
        404,
        422,
    )


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_concurrent_registrations_of_one_name_give_one_tenant(
    container: Container, client: httpx.AsyncClient
) -> None:
    bodies = [
        {
            "business_name": "Ótica Popular",
            "email": f"dono{n}@example.com",
            "name": "Dono",
            "password": PASSWORD,
        }
        for n in range(4)
    ]
    responses = await asyncio.gather(
        *(client.post("/identity/register", json=body) for body in bodies)
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(201) == 1
    assert set(statuses) <= {201, 409}


async def test_lease_patterns_do_not_match_other_contacts(container: Container) -> None:
    async with container.db.transaction() as session:
        for key in ("turn:t1:sandbox:bsuid:BR.a_c", "turn:t1:sandbox:bsuid:BR.abc"):
            session.add(LeaseRow(key=key, owner="w", expires_at=container.clock.now()))
    async with container.db.read() as session:
        keys = await export_contact_leases(
            session, ContactRef(tenant_id="t1", contact_id="c", address="bsuid:BR.a_c")
        )
    assert keys == ["turn:t1:sandbox:bsuid:BR.a_c"]


class FailingOnce(LocalBlobStore):
    """Deleting fails the first time, as a full or read-only disk would."""

    failed = False

    async def delete(self, key: str) -> bool:
        if not self.failed:
            self.failed = True
            raise OSError("disk is read-only")
        return await super().delete(key)


async def test_files_of_an_erased_contact_go_even_if_deleting_them_fails_once(
    db_url: str, tmp_path: Path
) -> None:
    blobs = FailingOnce(tmp_path / "blobs")
    container = bootstrap(make_settings(db_url, tmp_path), blobs=blobs)
    try:
        now = container.clock.now()
        async with container.db.transaction() as session:
            created = await identity.create_tenant(session, name="Loja", slug="loja", now=now)
            _k, key = await identity.create_api_key(
                session, tenant_id=created.id, name="k", now=now
            )
        transport = httpx.ASGITransport(app=create_app(container))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.post(
                "/channels/sandbox/messages",
                json={"from": "+5511999990001", "text": "oi"},
                headers=auth(key),
            )
            await drain(container)
            async with container.db.transaction() as session:
                contact = await session.scalar(select(Contact))
                assert contact is not None
                from whatsapp_ai.channels import service as channels

                [event_id] = list(
                    await session.scalars(
                        select(channels.InboundEvent.id)  # type: ignore[attr-defined]
                    )
                )
                media = await channels.record_media(
                    session,
                    tenant_id=created.id,
                    event_id=event_id,
                    position=0,
                    source_url="https://api.twilio.com/x",
                    declared_type="image/jpeg",
                    now=now,
                )
                await channels.finish_media(
                    session,
                    tenant_id=created.id,
                    media_id=media.id,
                    status="stored",
                    blob_key=f"{created.id}/media/{media.id}",
                    now=now,
                )
            await blobs.put(f"{created.id}/media/{media.id}", b"photo")
            erased = await client.post(
                f"/identity/contacts/{contact.id}/erasure", headers=auth(key)
            )
        assert erased.status_code == 201, erased.text
        assert (erased.json()["files_deleted"], erased.json()["files_pending"]) == (0, 1)
        await drain(container)  # the deletion job finishes the work
        with pytest.raises(KeyError):
            await blobs.get(f"{created.id}/media/{media.id}")
    finally:
        await container.close()
