"""People of a tenant: console users, their roles, passwords and console sessions."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.http import PlatformPrincipal, Principal
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.paging import Slice, by, paginate
from whatsapp_ai.identity.errors import DuplicateEmailError, InvalidRoleError
from whatsapp_ai.identity.keys import secret_hash
from whatsapp_ai.identity.models import User, UserSession

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
SESSION_TTL = timedelta(hours=12)
_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so a wrong e-mail costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


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
        raise InvalidRoleError(f"invalid role {role!r} for this user", field="role")
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
        token_hash=secret_hash(token),
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
            .where(UserSession.token_hash == secret_hash(token))
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
        .where(UserSession.token_hash == secret_hash(token), UserSession.revoked_at.is_(None))
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
    """Every user of the tenant (operators are chosen among them)."""
    return list(
        await session.scalars(select(User).where(User.tenant_id == tenant_id).order_by(User.id))
    )


async def page_users(
    session: AsyncSession, *, tenant_id: str, cursor: str | None, limit: int
) -> Slice[User]:
    """A page of the tenant's users, oldest first."""
    query = select(User)
    return await paginate(
        session,
        query.where(User.tenant_id == tenant_id),
        order=by(User.id),
        cursor=cursor,
        limit=limit,
    )


async def get_user(session: AsyncSession, *, tenant_id: str, user_id: str) -> User | None:
    """A user of the tenant."""
    return await session.scalar(select(User).where(User.tenant_id == tenant_id, User.id == user_id))
