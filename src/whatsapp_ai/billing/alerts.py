"""Usage alerts: an event the console shows, and a signed POST to the tenant's own URL sent
through the job queue (retried like every job)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.billing.metering import Alert
from whatsapp_ai.billing.models import Subscription
from whatsapp_ai.billing.subscriptions import get_subscription
from whatsapp_ai.core.crypto import SecretBox
from whatsapp_ai.core.db import after_commit
from whatsapp_ai.core.errors import InvalidInputError
from whatsapp_ai.core.events import Event, EventBus
from whatsapp_ai.core.fetch import is_public
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.queue import PermanentJobError, Queue

log = get_logger(__name__)
ALERT_JOB = "billing.usage_alert"
ALERT_EVENT = "billing.usage_alert"
BLOCKED_EVENT = "billing.feature_blocked"
SIGNATURE_HEADER = "X-Billing-Signature"
TIMESTAMP_HEADER = "X-Billing-Timestamp"
_publishing: set[asyncio.Task[None]] = set()


def publish_after_commit(session: AsyncSession, bus: EventBus | None, event: Event) -> None:
    """Announce ``event`` once the transaction commits (a missed event loses nothing)."""
    if bus is None:
        return

    async def publish() -> None:
        try:
            await bus.publish(event)
        except Exception as exc:  # the console misses a live update; the record stays
            log.warning("billing.event_failed", kind=event.kind, error=repr(exc)[:200])

    def spawn() -> None:
        task = asyncio.get_running_loop().create_task(publish())
        _publishing.add(task)
        task.add_done_callback(_publishing.discard)

    after_commit(session, spawn)


async def flush() -> None:
    """Wait for the events being published (tests and shutdown)."""
    while _publishing:
        await asyncio.gather(*list(_publishing), return_exceptions=True)


def alert_data(alert: Alert) -> dict[str, Any]:
    """What an alert says (event and webhook alike)."""
    return {
        "feature": alert.feature,
        "threshold": alert.threshold,
        "used": alert.used,
        "quota": alert.quota,
        "plan": alert.plan,
        "period_start": alert.period_start.isoformat(),
        "period_end": alert.period_end.isoformat(),
    }


async def announce(
    session: AsyncSession, alerts: list[Alert], *, queue: Queue, bus: EventBus | None
) -> None:
    """Tell the tenant of new alerts: an event for the console, and a webhook job when the
    tenant set a URL (queued in the caller's transaction, once per alert)."""
    if not alerts:
        return
    subscription = await get_subscription(session, tenant_id=alerts[0].tenant_id)
    for alert in alerts:
        data = alert_data(alert)
        publish_after_commit(session, bus, Event(alert.tenant_id, ALERT_EVENT, data))
        if subscription is None or not subscription.alert_webhook_url:
            continue
        await queue.enqueue(
            session,
            ALERT_JOB,
            {"tenant_id": alert.tenant_id, "alert": data},
            idempotency_key=(
                f"usage-alert:{alert.tenant_id}:{alert.feature}:"
                f"{alert.period_start.isoformat()}:{alert.threshold}"
            ),
        )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature of a webhook body: HMAC-SHA256 of "<timestamp>.<body>", hex."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def check_url(url: str) -> str:
    """A webhook URL must be http(s) with a host (https outside local tests is up to the tenant)."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInputError("an http(s) URL with a host", field="url")
    return url


async def set_webhook(
    session: AsyncSession, box: SecretBox, *, tenant_id: str, url: str | None, now: datetime
) -> tuple[Subscription, str | None]:
    """Set (or with None, remove) the tenant's alert URL; the new signing secret, shown once."""
    subscription = await get_subscription(session, tenant_id=tenant_id)
    if subscription is None:
        raise InvalidInputError("this tenant has no plan, so no usage alerts", field="url")
    secret = None
    if url is None:
        subscription.alert_webhook_url = None
        subscription.alert_webhook_secret = None
    else:
        secret = "whsec_" + secrets.token_urlsafe(24)
        subscription.alert_webhook_url = check_url(url)
        subscription.alert_webhook_secret = box.encrypt(secret)
    subscription.updated_at = now
    await session.flush()
    return subscription, secret


async def _public_host(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise PermanentJobError(f"alert webhook host does not resolve: {host}") from exc
    for entry in found:
        if not is_public(ipaddress.ip_address(entry[4][0])):
            raise PermanentJobError(f"alert webhook host is not a public address: {host}")


async def deliver(
    session: AsyncSession,
    box: SecretBox,
    *,
    tenant_id: str,
    alert: dict[str, Any],
    now: datetime,
    timeout_s: float,
    allow_private: bool,
) -> int | None:
    """POST one alert to the tenant's URL, signed; the answer's status (None: no URL now).
    A failure raises, so the job is retried."""
    subscription = await get_subscription(session, tenant_id=tenant_id)
    if subscription is None or not subscription.alert_webhook_url:
        return None
    secret = box.decrypt(subscription.alert_webhook_secret or "")
    url = httpx.URL(subscription.alert_webhook_url)
    if not allow_private:
        await _public_host(url.host, url.port or (443 if url.scheme == "https" else 80))
    body = json.dumps({"type": "usage.alert", "tenant_id": tenant_id, **alert}).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as http:
        answer = await http.post(url, content=body, headers=headers)
    if answer.status_code >= 500 or answer.status_code == 429:
        raise RuntimeError(f"alert webhook answered {answer.status_code}")
    if answer.status_code >= 300:
        raise PermanentJobError(f"alert webhook refused the alert: {answer.status_code}")
    return answer.status_code
