"""Stripe webhooks, shared by every endpoint that takes them: the signature checked on the raw
body by the official SDK, each event recorded once per endpoint, and the API client events are
re-read with.

An event whose id an endpoint already holds is a duplicate: acknowledged and not applied again.
Stripe signs every delivery anew, so one whose signature time is not newer than the last one
accepted for that event is a captured request sent again (a replay) and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe as stripe_sdk
from sqlalchemy import Boolean, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_ai.core.config import StripeSettings
from whatsapp_ai.core.db import Base, IdType, UTCDateTime, insert_ignore
from whatsapp_ai.core.errors import DomainError
from whatsapp_ai.core.queue import Queue

SIGNATURE_HEADER = "stripe-signature"
# What became of an event once it was handled.
QUEUED = "queued"
APPLIED = "applied"
IGNORED = "ignored"
UNKNOWN_CUSTOMER = "unknown_customer"


class BadWebhookError(DomainError):
    """A webhook request that is unsigned, badly signed, stale, replayed or not an event."""

    status = 400
    code = "bad_webhook"


class StripeEvent(Base):
    """An event an endpoint received (``endpoint``: "billing", or "sales:<tenant id>"), kept
    once per id; ``tenant_id`` is None while (or when) no tenant is found for it."""

    __tablename__ = "stripe_events"

    endpoint: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    tenant_id: Mapped[str | None] = mapped_column(IdType, nullable=True, index=True)
    livemode: Mapped[bool] = mapped_column(Boolean)
    # When Stripe made the event, and the signature time of the newest delivery accepted.
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(300), default="")
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class Received:
    """A verified event and whether the endpoint had it already."""

    event: dict[str, Any]
    duplicate: bool


def _signed_at(header: str) -> datetime:
    stamps = [part[2:] for part in header.split(",") if part.strip().startswith("t=")]
    return datetime.fromtimestamp(int(stamps[0].strip()), UTC)


def verify(
    payload: bytes, header: str | None, secrets: list[str], *, tolerance_s: int
) -> dict[str, Any]:
    """The event of a webhook request, its signature checked against any of ``secrets`` (the
    SDK: HMAC-SHA256 of "<t>.<body>", ``t`` within ``tolerance_s`` of now); else
    BadWebhookError."""
    if not header:
        raise BadWebhookError("missing Stripe-Signature header")
    if not secrets:
        raise BadWebhookError("no signing secret is configured for this endpoint")
    reason = ""
    for secret in secrets:
        try:
            event = stripe_sdk.Webhook.construct_event(
                payload.decode("utf-8"), header, secret, tolerance=tolerance_s
            )
        except stripe_sdk.SignatureVerificationError as exc:
            reason = str(exc.user_message or exc)
            continue
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadWebhookError("the body is not a Stripe event") from exc
        found: dict[str, Any] = event.to_dict()
        if not isinstance(found.get("id"), str) or not isinstance(found.get("type"), str):
            raise BadWebhookError("the body is not a Stripe event")
        return found
    raise BadWebhookError(f"bad signature: {reason}")


def object_of(event: dict[str, Any]) -> dict[str, Any]:
    """The object the event is about, as it was when the event was made."""
    data = event.get("data")
    found = data.get("object") if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}


async def record(
    session: AsyncSession,
    *,
    endpoint: str,
    event: dict[str, Any],
    header: str,
    now: datetime,
    tenant_id: str | None = None,
) -> Received:
    """Keep the event once for ``endpoint``; a second delivery is a duplicate, one signed no
    later than the delivery already accepted is a replay (BadWebhookError)."""
    signed_at = _signed_at(header)
    created = datetime.fromtimestamp(int(event.get("created") or 0), UTC)
    row = await insert_ignore(
        session,
        StripeEvent,
        {
            "endpoint": endpoint,
            "event_id": str(event["id"]),
            "type": str(event["type"]),
            "object_id": object_of(event).get("id"),
            "tenant_id": tenant_id,
            "livemode": bool(event.get("livemode")),
            "created": created,
            "signed_at": signed_at,
            "received_at": now,
            "outcome": QUEUED,
            "detail": "",
        },
        conflict=["endpoint", "event_id"],
    )
    if row is not None:
        return Received(event, duplicate=False)
    seen = await session.scalar(
        select(StripeEvent)
        .where(StripeEvent.endpoint == endpoint, StripeEvent.event_id == str(event["id"]))
        .with_for_update()
    )
    assert seen is not None
    if signed_at <= seen.signed_at:
        raise BadWebhookError("this delivery was received already (replayed)")
    seen.signed_at = signed_at
    await session.flush()
    return Received(event, duplicate=True)


async def enqueue(
    session: AsyncSession, queue: Queue, *, kind: str, endpoint: str, received: Received,
    tenant_id: str | None = None,
) -> None:  # fmt: skip
    """Queue the handling of a new event in the caller's transaction (once per event)."""
    if received.duplicate:
        return
    event = received.event
    payload: dict[str, Any] = {
        "endpoint": endpoint,
        "event_id": str(event["id"]),
        "type": str(event["type"]),
        "object_id": object_of(event).get("id"),
    }
    if tenant_id is not None:
        payload["tenant_id"] = tenant_id
    await queue.enqueue(session, kind, payload, idempotency_key=f"stripe:{endpoint}:{event['id']}")


async def mark(
    session: AsyncSession,
    *,
    endpoint: str,
    event_id: str,
    outcome: str,
    now: datetime,
    detail: str = "",
    tenant_id: str | None = None,
) -> None:
    """Note what became of an event."""
    row = await session.get(StripeEvent, (endpoint, event_id))
    if row is None:
        return
    row.outcome = outcome
    row.detail = detail[:300]
    row.handled_at = now
    if tenant_id is not None:
        row.tenant_id = tenant_id
    await session.flush()


@dataclass
class StripeApi:
    """A Stripe client on one account's key, closed after use (``async with``)."""

    secret_key: str
    settings: StripeSettings

    async def __aenter__(self) -> stripe_sdk.StripeClient:
        self._http = stripe_sdk.HTTPXClient(timeout=self.settings.request_timeout_s)
        api = self.settings.api_base
        return stripe_sdk.StripeClient(
            self.secret_key,
            base_addresses={"api": api} if api else None,
            http_client=self._http,
            max_network_retries=self.settings.max_network_retries,
        )

    async def __aexit__(self, *exc: object) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]
