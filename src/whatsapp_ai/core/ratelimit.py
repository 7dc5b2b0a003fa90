"""A rate limit shared by every process through the database (one slot per 1/rate seconds)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.db import Base, Database, UTCDateTime, insert_ignore


class RateSlotRow(Base):
    """When the next send under a key may happen."""

    __tablename__ = "rate_slots"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    next_free_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SharedRateLimiter:
    """Hands out send slots in order; callers wait until their slot."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def reserve(
        self, key: str, per_second: float, *, max_wait: timedelta | None = None
    ) -> tuple[bool, timedelta]:
        """Reserve the next slot for ``key``: (reserved, how long until it).

        A slot further away than ``max_wait`` is not reserved, so a caller that gives up and
        retries later takes no capacity from anyone meanwhile.
        """
        now = self._clock.now()
        spacing = timedelta(seconds=1 / per_second)
        async with self._db.transaction() as session:
            await insert_ignore(
                session,
                RateSlotRow,
                {"key": key, "next_free_at": now},
                conflict=["key"],
            )
            current = await session.scalar(
                select(RateSlotRow.next_free_at).where(RateSlotRow.key == key).with_for_update()
            )
            assert current is not None
            slot = max(current, now)
            if max_wait is not None and slot - now > max_wait:
                return False, slot - now
            await session.execute(
                update(RateSlotRow)
                .where(RateSlotRow.key == key)
                .values(next_free_at=slot + spacing)
            )
        return True, slot - now

    async def release(self, key: str, per_second: float) -> None:
        """Give back one slot reserved under ``key`` (an attempt that turned out not to count)."""
        now = self._clock.now()
        spacing = timedelta(seconds=1 / per_second)
        async with self._db.transaction() as session:
            current = await session.scalar(
                select(RateSlotRow.next_free_at).where(RateSlotRow.key == key).with_for_update()
            )
            if current is None or current <= now:
                return
            await session.execute(
                update(RateSlotRow)
                .where(RateSlotRow.key == key)
                .values(next_free_at=max(now, current - spacing))
            )
