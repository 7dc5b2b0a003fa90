"""Tenants and self-service registration (a tenant, its first admin and its Free plan)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.billing import service as billing
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.paging import Slice, by, paginate
from whatsapp_ai.core.text import strip_accents
from whatsapp_ai.identity.errors import DuplicateSlugError, InvalidSlugError, RegistrationRaceError
from whatsapp_ai.identity.models import Tenant, User
from whatsapp_ai.identity.users import create_user

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


async def create_tenant(session: AsyncSession, *, name: str, slug: str, now: datetime) -> Tenant:
    """Create a tenant."""
    if not _SLUG.match(slug):
        raise InvalidSlugError(
            f"slug must be lowercase letters, digits and dashes: {slug!r}", field="slug"
        )
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


async def list_tenants(session: AsyncSession, *, cursor: str | None, limit: int) -> Slice[Tenant]:
    """A page of every tenant (platform admins only)."""
    return await paginate(session, select(Tenant), order=by(Tenant.id), cursor=cursor, limit=limit)


def slug_for(name: str) -> str:
    """A URL-safe slug from a business name ("Padaria São João" → "padaria-sao-joao")."""
    ascii_only = strip_accents(name.lower())
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
    try:
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
    except IntegrityError as exc:
        # The same name or e-mail registered by a concurrent request a moment earlier.
        raise RegistrationRaceError("this e-mail or business name was just registered") from exc
    await billing.start_subscription(session, tenant_id=tenant.id, plan="free", now=now)
    return tenant, admin
