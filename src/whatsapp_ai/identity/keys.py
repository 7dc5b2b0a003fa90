"""API keys: created with a secret shown once, found by their hash, revoked at once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.http import Principal
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.paging import Slice, by, paginate
from whatsapp_ai.identity.models import ApiKey

KEY_PREFIX = "wai"
LAST_USED_RESOLUTION = timedelta(minutes=1)
SCOPES = frozenset(
    {
        "*",
        "conversations:read",
        "conversations:write",
        "conversations:*",
        "contacts:read",
        "contacts:write",
        "contacts:*",
        "media:read",
        "media:write",
        "media:*",
        "channels:read",
        "channels:write",
        "channels:*",
        "settings:read",
        "settings:write",
        "settings:*",
        "finance:read",
        "finance:write",
        "finance:*",
        "relationships:read",
        "relationships:write",
        "relationships:*",
        "sales:read",
        "sales:write",
        "sales:*",
        "knowledge:read",
        "knowledge:write",
        "knowledge:*",
        "keys:*",
        "users:*",
        "privacy:export",
        "privacy:erase",
    }
)


def secret_hash(secret: str) -> str:
    """What is stored of a secret (API key or session token): its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_api_key(
    session: AsyncSession,
    *,
    tenant_id: str,
    name: str,
    now: datetime,
    scopes: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """Create an API key; the plain key is returned once and never stored."""
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        id=new_id(),
        tenant_id=tenant_id,
        name=name,
        prefix=prefix,
        key_hash=secret_hash(secret),
        scopes=scopes or ["*"],
        created_at=now,
    )
    session.add(key)
    await session.flush()
    return key, secret


async def find_api_key(session: AsyncSession, *, token: str) -> ApiKey | None:
    """The valid, unrevoked key matching ``token``; None otherwise (reads only)."""
    parts = token.split("_")
    if len(parts) < 3 or parts[0] != KEY_PREFIX:
        return None
    key = await session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.key_hash, secret_hash(token)):
        return None
    return key


def key_needs_touch(key: ApiKey, *, now: datetime) -> bool:
    """Whether ``last_used_at`` is stale enough to be written (at most once a minute)."""
    return key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION


async def touch_api_key(session: AsyncSession, *, key_id: str, now: datetime) -> None:
    """Record that a key was used."""
    await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def principal_of(key: ApiKey) -> Principal:
    """The principal a key stands for: its scopes are its permissions."""
    return Principal(tenant_id=key.tenant_id, key_id=key.id, permissions=frozenset(key.scopes))


async def authenticate_api_key(
    session: AsyncSession, *, token: str, now: datetime
) -> Principal | None:
    """The principal of a valid, unrevoked key (recording its use); None otherwise."""
    key = await find_api_key(session, token=token)
    if key is None:
        return None
    if key_needs_touch(key, now=now):
        await touch_api_key(session, key_id=key.id, now=now)
    return principal_of(key)


async def list_api_keys(
    session: AsyncSession, *, tenant_id: str, cursor: str | None, limit: int
) -> Slice[ApiKey]:
    """A page of the tenant's API keys, newest first (hashes never leave this module's
    callers)."""
    query = select(ApiKey)
    return await paginate(
        session,
        query.where(ApiKey.tenant_id == tenant_id),
        order=by(ApiKey.id, descending=True),
        cursor=cursor,
        limit=limit,
    )


async def get_api_key(session: AsyncSession, *, tenant_id: str, key_id: str) -> ApiKey | None:
    """A key of the tenant."""
    return await session.scalar(
        select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id)
    )


async def revoke_api_key(
    session: AsyncSession, *, tenant_id: str, key_id: str, now: datetime
) -> ApiKey | None:
    """Revoke a key of the tenant; None when it is not the tenant's."""
    key = await get_api_key(session, tenant_id=tenant_id, key_id=key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = now
        await session.flush()
    return key
