"""Delivery status callbacks: applied monotonically, whatever order they arrive in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.channels.twilio.models import TwilioOutbound

RANK = {
    "pending": 0,
    "retrying": 0,
    "attempted": 0,
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "read": 5,
}
TERMINAL_FAILURES = frozenset({"failed", "undelivered", "canceled"})


def advances(current: str, new: str) -> bool:
    """Whether ``new`` may replace ``current``: never backwards, failures final."""
    if current in TERMINAL_FAILURES:
        return False
    if new in TERMINAL_FAILURES:
        # A failure cannot undo a delivery the phone already confirmed.
        return RANK.get(current, 0) < RANK["delivered"]
    return new in RANK and RANK[new] > RANK.get(current, 0)


UNSENT = frozenset({"pending", "retrying", "attempted"})


def overall(statuses: list[str]) -> str:
    """A message's status from its parts: any failure; 'pending' while a part is still to be
    sent (so its delivery job carries on); else the least advanced part."""
    failed = [status for status in statuses if status in TERMINAL_FAILURES]
    if failed:
        return failed[0]
    if any(status in UNSENT for status in statuses):
        return "pending"
    return min(statuses, key=lambda status: RANK.get(status, 0))


async def apply_status(
    session: AsyncSession,
    *,
    tenant_id: str,
    twilio_sid: str,
    status: str,
    now: datetime,
    error_code: int | None = None,
    error_message: str | None = None,
) -> tuple[str, str] | None:
    """Update the part Twilio reports on; (message_id, message status) when it changed."""
    part = await session.scalar(
        select(TwilioOutbound).where(
            TwilioOutbound.tenant_id == tenant_id, TwilioOutbound.twilio_sid == twilio_sid
        )
    )
    if part is None or not advances(part.status, status):
        return None
    await session.execute(
        update(TwilioOutbound)
        .where(TwilioOutbound.tenant_id == tenant_id, TwilioOutbound.id == part.id)
        .values(
            status=status,
            error_code=error_code if error_code is not None else part.error_code,
            error_message=error_message or part.error_message,
            updated_at=now,
        )
    )
    statuses = list(
        await session.scalars(
            select(TwilioOutbound.status).where(
                TwilioOutbound.tenant_id == tenant_id,
                TwilioOutbound.message_id == part.message_id,
            )
        )
    )
    return part.message_id, overall(statuses)
