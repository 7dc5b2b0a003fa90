"""Identity service: tenants, API keys and contacts; the caller owns the transaction."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.db import insert_ignore
from whatsapp_ai.core.http import Principal
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.identity.models import ApiKey, Contact, Tenant

KEY_PREFIX = "wai"
LAST_USED_RESOLUTION = timedelta(minutes=1)
_ADDRESS = re.compile(r"^\+[1-9]\d{7,14}$")
# Stored as "bsuid:<id>" in 64-character address columns.
_BSUID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,57}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class InvalidAddressError(ValueError):
    """A sender address that is not an E.164 phone number."""


def normalize_address(raw: str) -> str:
    """E.164 form of a phone number given with or without '+', spaces, dashes or parentheses."""
    cleaned = re.sub(r"[\s().-]", "", raw.removeprefix("whatsapp:"))
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not cleaned.startswith("+"):
        cleaned = "+" + cleaned
    if not _ADDRESS.match(cleaned):
        raise InvalidAddressError(f"not a phone number in E.164 form (+CCNNNN...): {raw!r}")
    return _with_brazilian_ninth_digit(cleaned)


def _with_brazilian_ninth_digit(e164: str) -> str:
    # Brazilian mobiles gained a leading 9 (2012-2016); WhatsApp still reports many without it.
    # Both forms must reach the same contact, so the canonical form always has it.
    if e164.startswith("+55") and len(e164) == 13 and e164[5] in "6789":
        return f"{e164[:5]}9{e164[5:]}"
    return e164


def whatsapp_address(raw: str) -> str:
    """Canonical contact address for a WhatsApp sender: E.164, or 'bsuid:' + a user id."""
    value = raw.strip().removeprefix("whatsapp:")
    if value.startswith("+") or value.isdigit():
        return normalize_address(value)
    if not _BSUID.match(value):
        raise InvalidAddressError(f"not a WhatsApp phone number or user id: {raw!r}")
    return f"bsuid:{value}"


def _hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_tenant(session: AsyncSession, *, name: str, slug: str, now: datetime) -> Tenant:
    """Create a tenant."""
    if not _SLUG.match(slug):
        raise ValueError(f"slug must be lowercase letters, digits and dashes: {slug!r}")
    tenant = Tenant(id=new_id(), slug=slug, name=name, created_at=now)
    session.add(tenant)
    await session.flush()
    return tenant


async def get_tenant(session: AsyncSession, *, tenant_id: str) -> Tenant | None:
    """A tenant by id."""
    return await session.get(Tenant, tenant_id)


async def get_tenant_by_slug(session: AsyncSession, *, slug: str) -> Tenant | None:
    """A tenant by its slug."""
    return await session.scalar(select(Tenant).where(Tenant.slug == slug))


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
        key_hash=_hash_key(secret),
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
    if not hmac.compare_digest(key.key_hash, _hash_key(token)):
        return None
    return key


def key_needs_touch(key: ApiKey, *, now: datetime) -> bool:
    """Whether ``last_used_at`` is stale enough to be written (at most once a minute)."""
    return key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION


async def touch_api_key(session: AsyncSession, *, key_id: str, now: datetime) -> None:
    """Record that a key was used."""
    await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def principal_of(key: ApiKey) -> Principal:
    """The principal a key stands for."""
    return Principal(tenant_id=key.tenant_id, key_id=key.id, scopes=frozenset(key.scopes))


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


async def get_or_create_contact(
    session: AsyncSession,
    *,
    tenant_id: str,
    address: str,
    profile_name: str | None,
    now: datetime,
) -> Contact:
    """The tenant's contact for ``address``, created on first contact; profile name kept fresh."""
    contact = await session.scalar(
        select(Contact).where(Contact.tenant_id == tenant_id, Contact.address == address)
    )
    if contact is not None:
        if profile_name and contact.profile_name != profile_name:
            contact.profile_name = profile_name
            contact.updated_at = now
        return contact
    await insert_ignore(
        session,
        Contact,
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "address": address,
            "profile_name": profile_name,
            "attributes": {},
            "created_at": now,
            "updated_at": now,
        },
        conflict=["tenant_id", "address"],
    )
    contact = await session.scalar(
        select(Contact).where(Contact.tenant_id == tenant_id, Contact.address == address)
    )
    assert contact is not None
    if profile_name and contact.profile_name != profile_name:
        contact.profile_name = profile_name
        contact.updated_at = now
    return contact


async def get_contact(session: AsyncSession, *, tenant_id: str, contact_id: str) -> Contact | None:
    """A contact of the tenant by id."""
    return await session.scalar(
        select(Contact).where(Contact.tenant_id == tenant_id, Contact.id == contact_id)
    )
