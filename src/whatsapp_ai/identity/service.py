"""Identity service: tenants, API keys and contacts; the caller owns the transaction."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.billing import service as billing
from whatsapp_ai.core.db import insert_ignore
from whatsapp_ai.core.http import PlatformPrincipal, Principal
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.privacy import ContactRef, Erased
from whatsapp_ai.identity.models import (
    ApiKey,
    Contact,
    ErasureRecord,
    Tenant,
    User,
    UserSession,
)

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
            "preferences": {},
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


# --- people, roles and console sessions ---------------------------------------------------

ROLES = ("admin", "operator", "member")
PLATFORM_ADMIN = "platform_admin"
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"*"}),
    "operator": frozenset(
        {
            "conversations:*",
            "contacts:*",
            "media:*",
            "channels:read",
            "settings:read",
            "relationships:read",
            "finance:read",
            "knowledge:read",
            "sales:read",
        }
    ),
    "member": frozenset(
        {"conversations:read", "contacts:read", "media:read", "channels:read", "settings:read"}
    ),
}
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
SESSION_TTL = timedelta(hours=12)
_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so a wrong e-mail costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class DuplicateEmailError(ValueError):
    """A user with this e-mail exists already."""


def _normal_email(email: str) -> str:
    return email.strip().lower()


async def create_user(
    session: AsyncSession,
    *,
    tenant_id: str | None,
    email: str,
    name: str,
    role: str,
    password: str,
    now: datetime,
) -> User:
    """Create a console user (password stored as an argon2 hash)."""
    if role not in (*ROLES, PLATFORM_ADMIN) or (role == PLATFORM_ADMIN) != (tenant_id is None):
        raise ValueError(f"invalid role {role!r} for this user")
    email = _normal_email(email)
    if await session.scalar(select(User.id).where(User.email == email)):
        raise DuplicateEmailError(email)
    user = User(
        id=new_id(),
        tenant_id=tenant_id,
        email=email,
        name=name,
        role=role,
        password_hash=_hasher.hash(password),
        created_at=now,
    )
    session.add(user)
    await session.flush()
    return user


async def check_password(session: AsyncSession, *, email: str, password: str) -> User | None:
    """The enabled user with this e-mail and password; None otherwise (same cost either way)."""
    user = await session.scalar(select(User).where(User.email == _normal_email(email)))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


async def open_session(
    session: AsyncSession, *, user: User, now: datetime
) -> tuple[str, UserSession]:
    """A new console session; the token goes in the cookie and is never stored."""
    token = secrets.token_urlsafe(32)
    record = UserSession(
        id=new_id(),
        user_id=user.id,
        token_hash=_hash_key(token),
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + SESSION_TTL,
    )
    session.add(record)
    user.last_login_at = now
    await session.flush()
    return token, record


async def find_session(
    session: AsyncSession, *, token: str, now: datetime
) -> tuple[User, UserSession] | None:
    """The live session and its enabled user for a cookie token."""
    row = (
        await session.execute(
            select(User, UserSession)
            .join(UserSession, UserSession.user_id == User.id)
            .where(UserSession.token_hash == _hash_key(token))
        )
    ).first()
    if row is None:
        return None
    user, record = row
    if record.revoked_at is not None or record.expires_at <= now or user.disabled_at:
        return None
    return user, record


async def close_session(session: AsyncSession, *, token: str, now: datetime) -> None:
    """Sign out: the session can no longer be used."""
    await session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _hash_key(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def session_principal(user: User, record: UserSession) -> Principal | PlatformPrincipal:
    """What a console session may do."""
    if user.role == PLATFORM_ADMIN or user.tenant_id is None:
        return PlatformPrincipal(user_id=user.id, csrf_token=record.csrf_token)
    return Principal(
        tenant_id=user.tenant_id,
        user_id=user.id,
        permissions=ROLE_PERMISSIONS.get(user.role, frozenset()),
        csrf_token=record.csrf_token,
    )


async def list_users(session: AsyncSession, *, tenant_id: str) -> list[User]:
    """The tenant's users."""
    return list(
        await session.scalars(select(User).where(User.tenant_id == tenant_id).order_by(User.id))
    )


async def get_user(session: AsyncSession, *, tenant_id: str, user_id: str) -> User | None:
    """A user of the tenant."""
    return await session.scalar(select(User).where(User.tenant_id == tenant_id, User.id == user_id))


async def list_tenants(session: AsyncSession) -> list[Tenant]:
    """Every tenant (platform admins only)."""
    return list(await session.scalars(select(Tenant).order_by(Tenant.id)))


# --- API keys -------------------------------------------------------------------------------


async def list_api_keys(session: AsyncSession, *, tenant_id: str) -> list[ApiKey]:
    """The tenant's API keys, newest first (hashes never leave this module's callers)."""
    return list(
        await session.scalars(
            select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.id.desc())
        )
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
    key = await session.scalar(
        select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id)
    )
    if key is not None and key.revoked_at is None:
        key.revoked_at = now
        await session.flush()
    return key


# --- contacts -------------------------------------------------------------------------------


async def list_contacts(
    session: AsyncSession, *, tenant_id: str, after: str | None, limit: int
) -> list[Contact]:
    """The tenant's contacts, oldest first, after the cursor."""
    query = select(Contact).where(Contact.tenant_id == tenant_id).order_by(Contact.id).limit(limit)
    if after:
        query = query.where(Contact.id > after)
    return list(await session.scalars(query))


async def update_contact(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    changes: dict[str, Any],
    now: datetime,
) -> Contact | None:
    """Change a contact's name, language, timezone or preferences."""
    contact = await get_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    if contact is None:
        return None
    for field_name in ("display_name", "language", "timezone", "preferences"):
        if field_name in changes:
            value = changes[field_name]
            # null preferences mean "none": the stored value is always an object.
            setattr(
                contact, field_name, {} if field_name == "preferences" and value is None else value
            )
    contact.updated_at = now
    await session.flush()
    return contact


# --- data subject rights ----------------------------------------------------------------------


@dataclass(frozen=True)
class ContactContext:
    """What the assistant may know of the person it talks to."""

    name: str | None
    language: str | None
    timezone: str | None
    preferences: dict[str, Any]


def contact_context(contact: Contact) -> ContactContext:
    """The contact's context for the assistant: the name they chose over their profile's."""
    return ContactContext(
        name=contact.display_name or contact.profile_name,
        language=contact.language,
        timezone=contact.timezone,
        preferences=dict(contact.preferences or {}),
    )


ERASURE_CONFIRM_WINDOW = timedelta(minutes=10)


def erasure_pending(requested_at: datetime | None, *, now: datetime) -> bool:
    """Whether a chat request to erase is waiting for its confirmation."""
    return requested_at is not None and now - requested_at < ERASURE_CONFIRM_WINDOW


async def set_erasure_request(
    session: AsyncSession, *, tenant_id: str, contact_id: str, at: datetime | None
) -> None:
    """Remember (or, with None, forget) that the contact asked in chat to be erased."""
    await session.execute(
        update(Contact)
        .where(Contact.tenant_id == tenant_id, Contact.id == contact_id)
        .values(erasure_requested_at=at)
    )


def contact_ref(contact: Contact) -> ContactRef:
    """The reference other modules use to find what they hold about this contact."""
    return ContactRef(tenant_id=contact.tenant_id, contact_id=contact.id, address=contact.address)


async def export_contact(session: AsyncSession, ref: ContactRef) -> dict[str, Any]:
    """The contact's profile."""
    contact = await get_contact(session, tenant_id=ref.tenant_id, contact_id=ref.contact_id)
    if contact is None:
        return {}
    return {
        name: getattr(contact, name)
        for name in (
            "id",
            "address",
            "profile_name",
            "display_name",
            "language",
            "timezone",
            "preferences",
            "created_at",
            "updated_at",
        )
    }


async def erase_contact(session: AsyncSession, ref: ContactRef) -> Erased:
    """Delete the contact itself (registered last: other rows point at it)."""
    result = await session.execute(
        delete(Contact).where(Contact.tenant_id == ref.tenant_id, Contact.id == ref.contact_id)
    )
    return Erased(rows=int(result.rowcount))  # type: ignore[attr-defined]


async def record_erasure(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    requested_by: str,
    removed: dict[str, int],
    now: datetime,
) -> ErasureRecord:
    """Keep proof of the erasure (ids and counts only)."""
    record = ErasureRecord(
        id=new_id(),
        tenant_id=tenant_id,
        contact_id=contact_id,
        requested_by=requested_by,
        removed=removed,
        erased_at=now,
    )
    session.add(record)
    await session.flush()
    return record


# --- self-service registration --------------------------------------------------------------


class DuplicateSlugError(ValueError):
    """A tenant with this slug exists already."""


def slug_for(name: str) -> str:
    """A URL-safe slug from a business name ("Padaria São João" → "padaria-sao-joao")."""
    folded = unicodedata.normalize("NFKD", name.lower())
    ascii_only = "".join(c for c in folded if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")[:50]
    return slug if len(slug) >= 2 else f"tenant-{secrets.token_hex(3)}"


async def register_tenant(
    session: AsyncSession,
    *,
    business_name: str,
    slug: str | None,
    email: str,
    name: str,
    password: str,
    now: datetime,
) -> tuple[Tenant, User]:
    """Tenant, its first admin and its Free subscription, all in the caller's transaction."""
    slug = slug or slug_for(business_name)
    if await get_tenant_by_slug(session, slug=slug):
        raise DuplicateSlugError(slug)
    tenant = await create_tenant(session, name=business_name, slug=slug, now=now)
    admin = await create_user(
        session,
        tenant_id=tenant.id,
        email=email,
        name=name,
        role="admin",
        password=password,
        now=now,
    )
    await billing.start_subscription(session, tenant_id=tenant.id, plan="free", now=now)
    return tenant, admin
