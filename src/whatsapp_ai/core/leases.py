"""Named leases in the database: one holder at a time, taken over only after expiry."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.db import Base, Database, UTCDateTime, insert_ignore
from whatsapp_ai.core.privacy import ContactRef, Erased


class LeaseRow(Base):
    """Who holds a named lease and until when."""

    __tablename__ = "leases"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Leases:
    """Acquire, renew, check and release named leases (conversation turns, scheduler leader)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def acquire(self, key: str, owner: str, ttl: timedelta) -> bool:
        """Take or renew ``key`` for ``owner``; False while someone else holds it."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            inserted = await insert_ignore(
                session,
                LeaseRow,
                {"key": key, "owner": owner, "expires_at": now + ttl},
                conflict=["key"],
            )
            if inserted is not None:
                return True
            result = await session.execute(
                update(LeaseRow)
                .where(
                    LeaseRow.key == key,
                    or_(LeaseRow.owner == owner, LeaseRow.expires_at <= now),
                )
                .values(owner=owner, expires_at=now + ttl)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def holds(self, session: AsyncSession, key: str, owner: str) -> bool:
        """Inside the caller's transaction: does ``owner`` still hold ``key``?"""
        expires = await session.scalar(
            select(LeaseRow.expires_at).where(LeaseRow.key == key, LeaseRow.owner == owner)
        )
        return expires is not None and expires > self._clock.now()

    @asynccontextmanager
    async def hold(self, key: str, owner: str, ttl: timedelta) -> AsyncIterator[bool]:
        """Hold ``key`` while the block runs, renewing it every third of ``ttl``.

        Yields False (and holds nothing) when someone else has it. A short ``ttl`` renewed
        in the background frees the key soon after a crashed holder stops renewing.
        """
        if not await self.acquire(key, owner, ttl):
            yield False
            return
        renewer = asyncio.create_task(self._renew(key, owner, ttl))
        try:
            yield True
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            await self.release(key, owner)

    async def _renew(self, key: str, owner: str, ttl: timedelta) -> None:
        while True:
            await asyncio.sleep(ttl.total_seconds() / 3)
            with contextlib.suppress(Exception):
                # A failed renewal is caught before commit by holds().
                await self.acquire(key, owner, ttl)

    async def release(self, key: str, owner: str) -> None:
        """Give ``key`` up if ``owner`` holds it."""
        async with self._db.transaction() as session:
            await session.execute(
                delete(LeaseRow).where(LeaseRow.key == key, LeaseRow.owner == owner)
            )


def _contact_lease(ref: ContactRef) -> tuple[Any, Any]:
    # Escaped: addresses may hold '_' or '%', which LIKE would treat as wildcards.
    return (
        LeaseRow.key.startswith(f"turn:{ref.tenant_id}:", autoescape=True),
        LeaseRow.key.endswith(f":{ref.address}", autoescape=True),
    )


async def erase_contact_leases(session: AsyncSession, ref: ContactRef) -> Erased:
    """Delete leftover turn leases named after the contact's number (a crashed worker's)."""
    result = await session.execute(delete(LeaseRow).where(*_contact_lease(ref)))
    return Erased(rows=int(result.rowcount))  # type: ignore[attr-defined]


async def export_contact_leases(session: AsyncSession, ref: ContactRef) -> list[str]:
    """Turn leases named after the contact (normally none outside a running turn)."""
    keys = await session.scalars(select(LeaseRow.key).where(*_contact_lease(ref)))
    return list(keys)
