"""Identity API: console sign-in, CSRF, failure throttling, roles, users, API keys, contacts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from tests.conftest import auth, drain
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.core.http import SESSION_COOKIE
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.identity import service as identity
from whatsapp_ai.identity.models import ApiKey, Contact, User

LOGIN = "/identity/login"
LOGOUT = "/identity/logout"
USERS = "/identity/users"
KEYS = "/identity/api-keys"
CONTACTS = "/identity/contacts"
TENANTS = "/identity/tenants"
CONVERSATIONS = "/conversations"
SANDBOX = "/channels/sandbox/messages"
TWILIO_ACCOUNT = "/channels/twilio/account"
PASSWORD = "correct horse battery staple"
SENDER = "+5511999990001"
WRONG_LOGIN = "wrong e-mail or password"


@dataclass(frozen=True)
class Session:
    """A signed-in console user: the cookie token and the CSRF token."""

    token: str
    csrf: str
    body: dict[str, Any]

    def headers(self, *, csrf: bool = True) -> dict[str, str]:
        """Headers that present this session (and its CSRF token unless told otherwise)."""
        sent = {"Cookie": f"{SESSION_COOKIE}={self.token}"}
        if csrf:
            sent["X-CSRF-Token"] = self.csrf
        return sent


def _email(label: str) -> str:
    return f"{label}-{new_id().lower()[-8:]}@example.com"


async def _new_tenant(container: Container, name: str = "Outra Loja") -> dict[str, str]:
    async with container.db.transaction() as session:
        created = await identity.create_tenant(
            session, name=name, slug=f"t-{new_id().lower()[-10:]}", now=container.clock.now()
        )
        _key, secret = await identity.create_api_key(
            session, tenant_id=created.id, name="test", now=container.clock.now()
        )
    return {"id": created.id, "key": secret}


async def _user(
    container: Container,
    tenant_id: str | None,
    role: str,
    *,
    email: str | None = None,
    password: str = PASSWORD,
) -> User:
    async with container.db.transaction() as session:
        return await identity.create_user(
            session,
            tenant_id=tenant_id,
            email=email or _email(role.replace("_", "-")),
            name=f"A {role}",
            role=role,
            password=password,
            now=container.clock.now(),
        )


async def _login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Session:
    """Sign in; the client's cookie jar is emptied so each session is sent explicitly."""
    response = await client.post(LOGIN, json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token = response.cookies[SESSION_COOKIE]
    client.cookies.clear()
    body: dict[str, Any] = response.json()
    return Session(token=token, csrf=body["csrf_token"], body=body)


async def _contact(container: Container, tenant_id: str, address: str = SENDER) -> Contact:
    async with container.db.transaction() as session:
        return await identity.get_or_create_contact(
            session,
            tenant_id=tenant_id,
            address=address,
            profile_name="Ana Souza",
            now=container.clock.now(),
        )


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    return error


def _account_body() -> dict[str, Any]:
    return {
        "account_sid": "AC" + secrets.token_hex(16),
        "auth_token": "primary-token-0123456789",
        "whatsapp_number": "+551130001234",
    }


def _cookie_attributes(set_cookie: str) -> dict[str, str]:
    parts = [part.strip() for part in set_cookie.split(";")]
    attributes: dict[str, str] = {}
    for part in parts[1:]:
        name, _, value = part.partition("=")
        attributes[name.lower()] = value
    return attributes


# ------------------------------------------------------------------------------- sign-in


async def test_login_sets_an_http_only_cookie_and_hides_the_password(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    email = _email("admin")
    user = await _user(container, tenant["id"], "admin", email=email)
    async with container.db.read() as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None
    assert stored.startswith("$argon2")
    assert PASSWORD not in stored

    response = await client.post(LOGIN, json={"email": email.upper(), "password": PASSWORD})

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"user", "csrf_token", "expires_at"}
    assert body["user"]["id"] == user.id
    assert body["user"]["email"] == email
    assert body["user"]["tenant_id"] == tenant["id"]
    assert body["user"]["role"] == "admin"
    assert body["user"]["last_login_at"] is not None
    assert "password" not in response.text
    assert "argon2" not in response.text
    assert stored not in response.text
    assert len(body["csrf_token"]) >= 16

    headers = response.headers.get_list("set-cookie")
    assert len(headers) == 1, headers
    cookie = headers[0]
    token = response.cookies[SESSION_COOKIE]
    assert cookie.startswith(f"{SESSION_COOKIE}={token};")
    attributes = _cookie_attributes(cookie)
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "lax"
    assert attributes["path"] == "/"
    assert int(attributes["max-age"]) == int(identity.SESSION_TTL.total_seconds())
    assert token not in body["csrf_token"]

    # The client kept the cookie: it alone signs the next request in.
    users = await client.get(USERS)
    assert users.status_code == 200, users.text
    assert [row["id"] for row in users.json()["items"]] == [user.id]


async def test_wrong_password_and_unknown_email_get_the_same_401(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    email = _email("admin")
    await _user(container, tenant["id"], "admin", email=email)

    wrong_password = await client.post(LOGIN, json={"email": email, "password": "not the password"})
    unknown_email = await client.post(LOGIN, json={"email": _email("nobody"), "password": PASSWORD})

    for response in (wrong_password, unknown_email):
        assert response.status_code == 401, response.text
        assert _error(response) == {"code": "unauthorized", "message": WRONG_LOGIN}
        assert "set-cookie" not in response.headers
    assert not client.cookies


async def test_disabled_user_cannot_log_in_and_their_session_stops(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    admin = await _user(container, tenant["id"], "admin")
    operator = await _user(container, tenant["id"], "operator")
    as_admin = await _login(client, admin.email)
    as_operator = await _login(client, operator.email)
    assert (await client.get(CONVERSATIONS, headers=as_operator.headers())).status_code == 200

    disabled = await client.patch(
        f"{USERS}/{operator.id}", json={"disabled": True}, headers=as_admin.headers()
    )

    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled_at"] is not None
    stale = await client.get(CONVERSATIONS, headers=as_operator.headers())
    assert stale.status_code == 401, stale.text
    again = await client.post(LOGIN, json={"email": operator.email, "password": PASSWORD})
    assert again.status_code == 401, again.text
    assert _error(again)["message"] == WRONG_LOGIN


async def test_logout_ends_the_session(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    user = await _user(container, tenant["id"], "member")
    response = await client.post(LOGIN, json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.cookies[SESSION_COOKIE]
    assert (await client.get(CONVERSATIONS)).status_code == 200

    out = await client.post(LOGOUT)

    assert out.status_code == 204, out.text
    assert SESSION_COOKIE not in client.cookies
    assert (await client.get(CONVERSATIONS)).status_code == 401
    # The old token, replayed, is dead on the server too (not only dropped by the browser).
    replayed = await client.get(CONVERSATIONS, headers={"Cookie": f"{SESSION_COOKIE}={token}"})
    assert replayed.status_code == 401, replayed.text
    assert "sign in again" in _error(replayed)["message"]


# ---------------------------------------------------------------------------------- CSRF


async def test_cookie_writes_need_the_csrf_token_but_reads_and_api_keys_do_not(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    admin = await _user(container, tenant["id"], "admin")
    signed_in = await _login(client, admin.email)
    body = {"name": "ci", "scopes": ["conversations:read"]}

    missing = await client.post(KEYS, json=body, headers=signed_in.headers(csrf=False))
    wrong = await client.post(
        KEYS, json=body, headers={**signed_in.headers(), "X-CSRF-Token": "x" * 32}
    )
    right = await client.post(KEYS, json=body, headers=signed_in.headers())

    for refused in (missing, wrong):
        assert refused.status_code == 403, refused.text
        assert "X-CSRF-Token" in _error(refused)["message"]
    assert right.status_code == 201, right.text
    listed = await client.get(KEYS, headers=signed_in.headers(csrf=False))
    assert listed.status_code == 200, listed.text
    assert [key["name"] for key in listed.json()["items"]].count(
        "ci"
    ) == 1  # refused ones not created

    # Another session's CSRF token does not fit this session.
    other = await _login(client, admin.email)
    crossed = await client.post(
        KEYS, json=body, headers={**signed_in.headers(), "X-CSRF-Token": other.csrf}
    )
    assert crossed.status_code == 403, crossed.text

    # A bearer API key is not ambient authority: no CSRF token needed.
    by_key = await client.post(
        KEYS, json={"name": "by-key", "scopes": ["*"]}, headers=auth(tenant["key"])
    )
    assert by_key.status_code == 201, by_key.text


# ------------------------------------------------------------------------- rate limiting


async def test_repeated_wrong_logins_get_429_with_retry_after(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    user = await _user(container, tenant["id"], "admin")

    statuses = []
    last = None
    for _ in range(12):
        last = await client.post(LOGIN, json={"email": user.email, "password": "guess-guess"})
        statuses.append(last.status_code)

    assert statuses[:10] == [401] * 10, statuses
    assert statuses[-1] == 429, statuses
    assert last is not None
    assert _error(last)["code"] == "rate_limited"
    assert int(last.headers["retry-after"]) >= 1


async def test_a_throttled_client_cannot_keep_guessing_passwords(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    user = await _user(container, tenant["id"], "admin")
    for _ in range(12):
        await client.post(LOGIN, json={"email": user.email, "password": "guess-guess"})

    guess = await client.post(LOGIN, json={"email": user.email, "password": PASSWORD})

    assert guess.status_code == 429, guess.text


async def test_repeated_wrong_api_keys_get_429(
    client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    prefix = tenant["key"].split("_")[1]
    statuses = []
    last = None
    for number in range(12):
        # Both a made-up prefix and the real prefix with a wrong secret count as failures.
        fake = f"wai_{prefix}_wrong{number}" if number % 2 else f"wai_0123abcd{number:04}_x"
        last = await client.get(CONVERSATIONS, headers=auth(fake))
        statuses.append(last.status_code)

    assert statuses[:10] == [401] * 10, statuses
    assert statuses[-1] == 429, statuses
    assert last is not None
    assert int(last.headers["retry-after"]) >= 1


# --------------------------------------------------------------------------------- roles


async def test_operator_works_conversations_and_contacts_but_not_admin_areas(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    operator = await _user(container, tenant["id"], "operator")
    contact = await _contact(container, tenant["id"])
    signed_in = await _login(client, operator.email)
    headers = signed_in.headers()

    assert (await client.get(CONVERSATIONS, headers=headers)).status_code == 200
    patched = await client.patch(
        f"{CONTACTS}/{contact.id}", json={"display_name": "Ana"}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["display_name"] == "Ana"
    # channels:read: allowed through, then 404 because nothing is configured.
    assert (await client.get(TWILIO_ACCOUNT, headers=headers)).status_code == 404
    assert (await client.get("/channels/media/NOPE", headers=headers)).status_code == 404

    refused = [
        await client.get(KEYS, headers=headers),
        await client.post(KEYS, json={"name": "x", "scopes": ["contacts:read"]}, headers=headers),
        await client.get(USERS, headers=headers),
        await client.post(
            USERS,
            json={"email": _email("new"), "name": "New", "role": "admin", "password": PASSWORD},
            headers=headers,
        ),
        await client.put(TWILIO_ACCOUNT, json=_account_body(), headers=headers),
        await client.get(TENANTS, headers=headers),
    ]
    for response in refused:
        assert response.status_code == 403, (response.request.url, response.text)
    async with container.db.read() as session:
        assert await session.scalar(select(User.id).where(User.role == "admin")) is None


async def test_member_reads_but_cannot_change_contacts_or_send(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    member = await _user(container, tenant["id"], "member")
    contact = await _contact(container, tenant["id"])
    signed_in = await _login(client, member.email)
    headers = signed_in.headers()

    assert (await client.get(CONVERSATIONS, headers=headers)).status_code == 200
    got = await client.get(f"{CONTACTS}/{contact.id}", headers=headers)
    assert got.status_code == 200, got.text
    assert (await client.get("/channels/media/NOPE", headers=headers)).status_code == 404

    patch = await client.patch(
        f"{CONTACTS}/{contact.id}", json={"display_name": "Hacked"}, headers=headers
    )
    send = await client.post(SANDBOX, json={"from": SENDER, "text": "oi"}, headers=headers)
    delete_media = await client.delete("/channels/media/NOPE", headers=headers)

    for response in (patch, send, delete_media):
        assert response.status_code == 403, (response.request.url, response.text)
    assert "not allowed" in _error(patch)["message"]
    async with container.db.read() as session:
        stored = await session.get(Contact, contact.id)
        assert stored is not None
        assert stored.display_name is None
    assert (await container.queue.stats()).by_status["queued"] == 0


async def test_admin_can_do_everything_except_demote_or_disable_themselves(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    admin = await _user(container, tenant["id"], "admin")
    contact = await _contact(container, tenant["id"])
    signed_in = await _login(client, admin.email)
    headers = signed_in.headers()

    allowed = [
        (await client.get(CONVERSATIONS, headers=headers), 200),
        (await client.get(KEYS, headers=headers), 200),
        (await client.get(USERS, headers=headers), 200),
        (
            await client.post(
                USERS,
                json={
                    "email": _email("op"),
                    "name": "Op",
                    "role": "operator",
                    "password": PASSWORD,
                },
                headers=headers,
            ),
            201,
        ),
        (await client.put(TWILIO_ACCOUNT, json=_account_body(), headers=headers), 200),
        (await client.post(SANDBOX, json={"from": SENDER, "text": "oi"}, headers=headers), 202),
        (
            await client.patch(
                f"{CONTACTS}/{contact.id}", json={"display_name": "Ana"}, headers=headers
            ),
            200,
        ),
    ]
    for response, expected in allowed:
        assert response.status_code == expected, (response.request.url, response.text)

    demote = await client.patch(f"{USERS}/{admin.id}", json={"role": "operator"}, headers=headers)
    disable = await client.patch(f"{USERS}/{admin.id}", json={"disabled": True}, headers=headers)
    for response in (demote, disable):
        assert response.status_code == 409, response.text
        assert _error(response)["code"] == "conflict"
    async with container.db.read() as session:
        stored = await session.get(User, admin.id)
        assert stored is not None
        assert (stored.role, stored.disabled_at) == ("admin", None)
    assert (await client.get(KEYS, headers=headers)).status_code == 200


async def test_a_role_change_applies_to_open_sessions(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    operator = await _user(container, tenant["id"], "operator")
    contact = await _contact(container, tenant["id"])
    as_operator = await _login(client, operator.email)
    url = f"{CONTACTS}/{contact.id}"
    assert (
        await client.patch(url, json={"display_name": "A"}, headers=as_operator.headers())
    ).status_code == 200

    demoted = await client.patch(
        f"{USERS}/{operator.id}", json={"role": "member"}, headers=auth(tenant["key"])
    )

    assert demoted.status_code == 200, demoted.text
    assert demoted.json()["role"] == "member"
    after = await client.patch(url, json={"display_name": "B"}, headers=as_operator.headers())
    assert after.status_code == 403, after.text


# --------------------------------------------------------------------------------- users


async def test_admin_creates_users_with_rules(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    admin = await _user(container, tenant["id"], "admin")
    headers = (await _login(client, admin.email)).headers()
    email = _email("operator")
    new = {"email": email, "name": "Bia", "role": "operator", "password": PASSWORD}

    created = await client.post(USERS, json=new, headers=headers)

    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["email"], body["role"], body["tenant_id"]) == (email, "operator", tenant["id"])
    assert "password" not in created.text
    assert PASSWORD not in created.text

    short = await client.post(
        USERS, json={**new, "email": _email("short"), "password": "x" * 11}, headers=headers
    )
    assert short.status_code == 422, short.text
    assert "body.password" in [field["field"] for field in _error(short)["fields"]]

    duplicate = await client.post(
        USERS, json={**new, "email": email.upper(), "name": "Copy"}, headers=headers
    )
    assert duplicate.status_code == 409, duplicate.text

    platform = await client.post(
        USERS, json={**new, "email": _email("root"), "role": "platform_admin"}, headers=headers
    )
    assert platform.status_code == 422, platform.text

    listed = await client.get(USERS, headers=headers)
    assert sorted(row["email"] for row in listed.json()["items"]) == sorted([admin.email, email])
    # The new user signs in with the password the admin chose.
    assert (await _login(client, email)).body["user"]["id"] == body["id"]


async def test_users_are_listed_and_changed_within_the_tenant_only(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    other = await _new_tenant(container)
    admin_a = await _user(container, tenant["id"], "admin")
    member_a = await _user(container, tenant["id"], "member")
    admin_b = await _user(container, other["id"], "admin")
    as_a = await _login(client, admin_a.email)
    as_b = await _login(client, admin_b.email)

    seen_by_a = await client.get(USERS, headers=as_a.headers())
    seen_by_b = await client.get(USERS, headers=as_b.headers())

    assert {row["id"] for row in seen_by_a.json()["items"]} == {admin_a.id, member_a.id}
    assert {row["id"] for row in seen_by_b.json()["items"]} == {admin_b.id}
    crossed = [
        await client.patch(
            f"{USERS}/{member_a.id}", json={"disabled": True}, headers=as_b.headers()
        ),
        await client.patch(
            f"{USERS}/{admin_a.id}", json={"role": "member"}, headers=auth(other["key"])
        ),
    ]
    for response in crossed:
        assert response.status_code == 404, response.text
    async with container.db.read() as session:
        member = await session.get(User, member_a.id)
        admin = await session.get(User, admin_a.id)
        assert member is not None
        assert member.disabled_at is None
        assert admin is not None
        assert admin.role == "admin"


# ------------------------------------------------------------------------------ API keys


async def test_api_key_secret_is_shown_once_and_scopes_are_enforced(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    created = await client.post(
        KEYS, json={"name": "reader", "scopes": ["conversations:read"]}, headers=auth(tenant["key"])
    )

    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["key"]
    assert secret.startswith(f"wai_{body['prefix']}_")
    assert len(secret) > len(body["prefix"]) + 30
    assert body["scopes"] == ["conversations:read"]
    assert body["last_used_at"] is None

    assert (await client.get(CONVERSATIONS, headers=auth(secret))).status_code == 200
    send = await client.post(SANDBOX, json={"from": SENDER, "text": "oi"}, headers=auth(secret))
    assert send.status_code == 403, send.text
    assert (await client.get(CONTACTS, headers=auth(secret))).status_code == 403
    assert (await client.get(KEYS, headers=auth(secret))).status_code == 403

    listed = await client.get(KEYS, headers=auth(tenant["key"]))
    assert listed.status_code == 200, listed.text
    async with container.db.read() as session:
        hashes = list(await session.scalars(select(ApiKey.key_hash)))
    assert len(hashes) == 2
    assert secret not in listed.text
    assert tenant["key"] not in listed.text
    for key_hash in hashes:
        assert key_hash not in listed.text
    rows = {row["id"]: row for row in listed.json()["items"]}
    assert all(not {"key", "key_hash"} & set(row) for row in rows.values())
    assert rows[body["id"]]["prefix"] == body["prefix"]
    assert rows[body["id"]]["last_used_at"] is not None


async def test_api_key_scope_rules(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    unknown = await client.post(
        KEYS, json={"name": "x", "scopes": ["conversations:delete"]}, headers=auth(tenant["key"])
    )
    assert unknown.status_code == 422, unknown.text
    assert "conversations:delete" in _error(unknown)["message"]
    assert [f["field"] for f in _error(unknown)["fields"]] == ["body.scopes"]
    empty = await client.post(KEYS, json={"name": "x", "scopes": []}, headers=auth(tenant["key"]))
    assert empty.status_code == 422, empty.text
    # No scopes at all is refused with the reason, never a key with every right.
    omitted = await client.post(KEYS, json={"name": "x"}, headers=auth(tenant["key"]))
    assert omitted.status_code == 422, omitted.text
    assert [f["field"] for f in _error(omitted)["fields"]] == ["body.scopes"]
    assert "required" in _error(omitted)["fields"][0]["message"].lower()
    async with container.db.read() as session:
        assert "x" not in set(await session.scalars(select(ApiKey.name)))

    keys_admin = await client.post(
        KEYS, json={"name": "key-admin", "scopes": ["keys:*"]}, headers=auth(tenant["key"])
    )
    assert keys_admin.status_code == 201, keys_admin.text
    limited = keys_admin.json()["key"]
    star = await client.post(KEYS, json={"name": "s", "scopes": ["*"]}, headers=auth(limited))
    assert star.status_code == 403, star.text
    narrow = await client.post(
        KEYS, json={"name": "n", "scopes": ["keys:*"]}, headers=auth(limited)
    )
    assert narrow.status_code == 201, narrow.text
    async with container.db.read() as session:
        scopes = list(await session.scalars(select(ApiKey.scopes)))
    assert sorted(map(tuple, scopes)) == [("*",), ("keys:*",), ("keys:*",)]


async def test_a_key_cannot_mint_scopes_it_does_not_have(
    client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    keys_admin = await client.post(
        KEYS, json={"name": "key-admin", "scopes": ["keys:*"]}, headers=auth(tenant["key"])
    )
    limited = keys_admin.json()["key"]

    wider = await client.post(
        KEYS, json={"name": "w", "scopes": ["channels:write"]}, headers=auth(limited)
    )

    assert wider.status_code == 403, wider.text


async def test_revoked_key_stops_and_other_tenants_keys_cannot_be_revoked(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    other = await _new_tenant(container)
    created = await client.post(
        KEYS, json={"name": "temp", "scopes": ["*"]}, headers=auth(tenant["key"])
    )
    key_id, secret = created.json()["id"], created.json()["key"]
    assert (await client.get(CONVERSATIONS, headers=auth(secret))).status_code == 200
    async with container.db.read() as session:
        other_key_id = await session.scalar(
            select(ApiKey.id).where(ApiKey.tenant_id == other["id"])
        )
    assert other_key_id is not None

    crossed = await client.delete(f"{KEYS}/{other_key_id}", headers=auth(tenant["key"]))
    assert crossed.status_code == 404, crossed.text
    assert (await client.get(CONVERSATIONS, headers=auth(other["key"]))).status_code == 200
    assert (
        await client.delete(f"{KEYS}/{new_id()}", headers=auth(tenant["key"]))
    ).status_code == 404

    revoked = await client.delete(f"{KEYS}/{key_id}", headers=auth(tenant["key"]))

    assert revoked.status_code == 204, revoked.text
    after = await client.get(CONVERSATIONS, headers=auth(secret))
    assert after.status_code == 401, after.text
    assert "revoked" in _error(after)["message"]
    keys = (await client.get(KEYS, headers=auth(tenant["key"]))).json()["items"]
    listed = {row["id"]: row for row in keys}
    assert listed[key_id]["revoked_at"] is not None
    # The revoked key is no longer the tenant's credential: it cannot revoke anything either.
    assert (await client.delete(f"{KEYS}/{key_id}", headers=auth(secret))).status_code == 401


# ------------------------------------------------------------------------------ contacts


async def test_contact_from_a_sandbox_message_is_listed_and_editable(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    sent = await client.post(
        SANDBOX,
        json={"from": SENDER, "text": "oi", "id": "m-1", "profile_name": "Ana Souza"},
        headers=auth(tenant["key"]),
    )
    assert sent.status_code == 202, sent.text
    await drain(container)

    listed = await client.get(CONTACTS, headers=auth(tenant["key"]))

    assert listed.status_code == 200, listed.text
    [contact] = listed.json()["items"]
    assert (contact["address"], contact["profile_name"]) == (SENDER, "Ana Souza")
    changes = {
        "display_name": "Ana (cliente VIP)",
        "language": "pt-BR",
        "timezone": "America/Sao_Paulo",
        "preferences": {"tone": "formal", "reminders": ["09:00"]},
    }
    patched = await client.patch(
        f"{CONTACTS}/{contact['id']}", json=changes, headers=auth(tenant["key"])
    )
    assert patched.status_code == 200, patched.text
    again = await client.get(f"{CONTACTS}/{contact['id']}", headers=auth(tenant["key"]))
    assert again.status_code == 200, again.text
    for shown in (patched.json(), again.json()):
        assert {name: shown[name] for name in changes} == changes
        assert shown["profile_name"] == "Ana Souza"
    async with container.db.read() as session:
        stored = await session.get(Contact, contact["id"])
        assert stored is not None
        assert (stored.language, stored.timezone) == ("pt-BR", "America/Sao_Paulo")
        assert stored.preferences == changes["preferences"]

    # A partial change leaves the other fields alone.
    partial = await client.patch(
        f"{CONTACTS}/{contact['id']}", json={"language": "en"}, headers=auth(tenant["key"])
    )
    assert partial.status_code == 200, partial.text
    assert partial.json()["display_name"] == changes["display_name"]
    assert partial.json()["timezone"] == changes["timezone"]


async def test_contact_changes_are_validated_and_tenant_scoped(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    other = await _new_tenant(container)
    contact = await _contact(container, tenant["id"])
    url = f"{CONTACTS}/{contact.id}"

    bad_zone = await client.patch(
        url, json={"timezone": "Mars/Olympus"}, headers=auth(tenant["key"])
    )
    assert bad_zone.status_code == 422, bad_zone.text
    fields = {field["field"]: field["message"] for field in _error(bad_zone)["fields"]}
    assert "Mars/Olympus" in fields["body.timezone"]
    for language in ("portuguese", "PT-br", "pt_BR"):
        bad_language = await client.patch(
            url, json={"language": language}, headers=auth(tenant["key"])
        )
        assert bad_language.status_code == 422, (language, bad_language.text)
        assert [field["field"] for field in _error(bad_language)["fields"]] == ["body.language"]
    unknown_field = await client.patch(
        url, json={"address": "+5511000000000"}, headers=auth(tenant["key"])
    )
    assert unknown_field.status_code == 422, unknown_field.text

    foreign_get = await client.get(url, headers=auth(other["key"]))
    foreign_patch = await client.patch(url, json={"display_name": "X"}, headers=auth(other["key"]))
    for response in (foreign_get, foreign_patch):
        assert response.status_code == 404, response.text
    assert (await client.get(CONTACTS, headers=auth(other["key"]))).json() == {
        "items": [],
        "next_cursor": None,
    }
    async with container.db.read() as session:
        stored = await session.get(Contact, contact.id)
        assert stored is not None
        # Unchanged: the time zone is still the one its number gave it when it was created.
        assert (stored.display_name, stored.timezone, stored.language) == (
            None,
            "America/Sao_Paulo",
            None,
        )


async def test_contacts_page_with_a_cursor(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    other = await _new_tenant(container)
    await _contact(container, other["id"], "+5511988887777")
    made = [await _contact(container, tenant["id"], f"+55119900000{n:02}") for n in range(5)]
    expected = sorted(contact.id for contact in made)

    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = await client.get(CONTACTS, params=params, headers=auth(tenant["key"]))
        assert page.status_code == 200, page.text
        ids = [row["id"] for row in page.json()["items"]]
        assert 1 <= len(ids) <= 2
        seen.extend(ids)
        pages += 1
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break

    assert seen == expected
    assert pages == 3
    for limit in (0, 201):
        bad = await client.get(CONTACTS, params={"limit": limit}, headers=auth(tenant["key"]))
        assert bad.status_code == 422, bad.text


# ------------------------------------------------------------------------ platform admin


async def test_platform_admin_sees_tenants_but_no_tenant_data(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    other = await _new_tenant(container)
    root = await _user(container, None, "platform_admin")
    tenant_admin = await _user(container, tenant["id"], "admin")
    as_root = await _login(client, root.email)
    assert as_root.body["user"]["tenant_id"] is None

    tenants = await client.get(TENANTS, headers=as_root.headers())

    assert tenants.status_code == 200, tenants.text
    assert {row["id"] for row in tenants.json()["items"]} == {tenant["id"], other["id"]}
    for url in (CONVERSATIONS, USERS, CONTACTS, KEYS):
        refused = await client.get(url, headers=as_root.headers())
        assert refused.status_code == 403, (url, refused.text)
    as_tenant_admin = await _login(client, tenant_admin.email)
    assert (await client.get(TENANTS, headers=as_tenant_admin.headers())).status_code == 403
    assert (await client.get(TENANTS, headers=auth(tenant["key"]))).status_code == 403
    assert (await client.get(TENANTS)).status_code == 401


async def test_null_preferences_are_refused_or_reset_not_a_server_error(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    contact = await _contact(container, tenant["id"])

    response = await client.patch(
        f"{CONTACTS}/{contact.id}", json={"preferences": None}, headers=auth(tenant["key"])
    )

    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json()["preferences"] == {}
