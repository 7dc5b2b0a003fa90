"""Sending through Twilio: split, rate limit, 24-hour window, templates, idempotent parts."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import select, update
from twilio.base.exceptions import TwilioRestException

from whatsapp_ai.channels import service as channels
from whatsapp_ai.channels.twilio import accounts
from whatsapp_ai.channels.twilio.client import SendError, TwilioClients, classify
from whatsapp_ai.channels.twilio.media import TwilioMedia
from whatsapp_ai.channels.twilio.models import TwilioAccount, TwilioOutbound
from whatsapp_ai.channels.twilio.reconcile import find_sent
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.config import TwilioSettings
from whatsapp_ai.core.crypto import SecretBox
from whatsapp_ai.core.db import Database, insert_ignore
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.queue import PermanentJobError, RetryLater, Snooze
from whatsapp_ai.core.ratelimit import SharedRateLimiter

CHANNEL = "twilio"
MAX_PART_CHARS = 1600
WINDOW = timedelta(hours=24)
OUTSIDE_WINDOW_ERROR = 63016
TEMPLATE_BODY_CHARS = 1000
# A part whose create call got no answer: Twilio may have it; looked up before sending again.
ATTEMPTED = "attempted"
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")

log = get_logger(__name__)


def split_message(text: str, limit: int = MAX_PART_CHARS) -> list[str]:
    """Parts of at most ``limit`` characters, cut at sentence ends, else spaces, else hard."""
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cuts = [match.end() for match in _SENTENCE_END.finditer(window) if match.end() <= limit]
        cut = cuts[-1] if cuts and cuts[-1] > limit // 3 else window.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def whatsapp_to(recipient: str, address: str | None) -> str:
    """The To of a WhatsApp message: the address the contact wrote from, else theirs."""
    if address:
        return address if address.startswith("whatsapp:") else f"whatsapp:{address}"
    return "whatsapp:" + recipient.removeprefix("bsuid:")


class TwilioChannel:
    """Sends a stored reply through the tenant's Twilio account, each part exactly once."""

    name = CHANNEL

    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        clients: TwilioClients,
        limiter: SharedRateLimiter,
        settings: TwilioSettings,
        media: TwilioMedia,
    ) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._clients = clients
        self._limiter = limiter
        self._settings = settings
        self._media = media

    async def attachments(
        self, *, tenant_id: str, event_id: str, payload: dict[str, Any]
    ) -> list[channels.AttachmentResult]:
        """Fetch the event's media through the SSRF-safe fetcher."""
        return await self._media.fetch_all(tenant_id=tenant_id, event_id=event_id, payload=payload)

    async def send(self, message: channels.Outbound) -> channels.SendResult:
        """Send every part not yet accepted by Twilio, in order."""
        async with self._db.read() as session:
            account = await accounts.get_account(session, tenant_id=message.tenant_id)
            last_in = await channels.last_inbound_at(
                session, tenant_id=message.tenant_id, channel=CHANNEL, sender=message.recipient
            )
        if account is None:
            raise PermanentJobError("the tenant has no Twilio account configured")
        in_window = self._in_window(last_in) if message.window_open is None else message.window_open
        parts = await self._plan(message, account, in_window)
        secrets = accounts.secrets_of(account, self._box)
        client = self._clients.client(secrets.account_sid, secrets.auth_tokens[0])
        first_sid = ""
        for part in parts:
            if part.twilio_sid is None:
                if not in_window and not part.via_template:
                    # Planned inside the window but retried past it: the template rule holds.
                    part = await self._to_template(account, part)
                await self._wait_for_slot(account)
                part = await self._send_part(client, account, message, part)
            first_sid = first_sid or (part.twilio_sid or "")
        return channels.SendResult(external_id=first_sid, status="queued")

    def _in_window(self, last_inbound: datetime | None) -> bool:
        return last_inbound is not None and self._clock.now() - last_inbound < WINDOW

    async def _plan(
        self, message: channels.Outbound, account: TwilioAccount, in_window: bool
    ) -> list[TwilioOutbound]:
        """The parts to send, stored once so a re-run sends the same parts."""
        if not message.body.strip():
            raise PermanentJobError("refusing to send an empty message")
        if in_window:
            bodies = split_message(message.body)
            template = False
        else:
            if not account.template_content_sid:
                raise PermanentJobError(
                    "outside the 24-hour window and no approved template is configured"
                )
            bodies, template = [message.body[:TEMPLATE_BODY_CHARS]], True
        now = self._clock.now()
        async with self._db.transaction() as session:
            for index, body in enumerate(bodies):
                await insert_ignore(
                    session,
                    TwilioOutbound,
                    {
                        "id": new_id(),
                        "tenant_id": message.tenant_id,
                        "message_id": message.message_id,
                        "part": index,
                        "body": body,
                        "via_template": template,
                        "status": "pending",
                        "created_at": now,
                        "updated_at": now,
                    },
                    conflict=["message_id", "part"],
                )
            rows = await session.scalars(
                select(TwilioOutbound)
                .where(
                    TwilioOutbound.tenant_id == message.tenant_id,
                    TwilioOutbound.message_id == message.message_id,
                )
                .order_by(TwilioOutbound.part)
            )
            return list(rows)

    async def typing(self, *, tenant_id: str, external_id: str) -> None:
        """WhatsApp's typing indicator on the contact's message, when the setting enables it."""
        if not self._settings.typing_indicator:
            return
        async with self._db.read() as session:
            account = await accounts.get_account(session, tenant_id=tenant_id)
        if account is None:
            return
        secrets = accounts.secrets_of(account, self._box)
        client = self._clients.client(secrets.account_sid, secrets.auth_tokens[0])
        try:
            await client.messaging.v2.typing_indicator.create_async(
                channel="whatsapp", message_id=external_id
            )
        except Exception as exc:  # best effort: a typing bubble never blocks a reply
            log.info("twilio.typing_failed", error=str(exc))

    async def _wait_for_slot(self, account: TwilioAccount) -> None:
        reserved, wait = await self._limiter.reserve(
            f"twilio:{account.whatsapp_number}",
            self._settings.send_rate_per_s,
            max_wait=timedelta(seconds=self._settings.max_rate_wait_s),
        )
        if not reserved:
            # Waiting for capacity is not a failure: it must not use up the job's attempts.
            raise Snooze(wait, f"sender rate limit: next slot in {wait.total_seconds():.1f} s")
        if wait > timedelta(0):
            await asyncio.sleep(wait.total_seconds())

    def _create_args(
        self, account: TwilioAccount, message: channels.Outbound, part: TwilioOutbound
    ) -> dict[str, Any]:
        args: dict[str, Any] = {"to": whatsapp_to(message.recipient, message.address)}
        if account.messaging_service_sid:
            args["messaging_service_sid"] = account.messaging_service_sid
        else:
            args["from_"] = f"whatsapp:{account.whatsapp_number}"
        if part.via_template:
            variables = {
                key: str(value).replace("{body}", part.body)
                for key, value in (account.template_variables or {"1": "{body}"}).items()
            }
            args["content_sid"] = account.template_content_sid
            args["content_variables"] = json.dumps(variables, ensure_ascii=False)
        else:
            args["body"] = part.body
        if self._settings.status_callbacks and self._settings.public_base_url:
            base = self._settings.public_base_url.rstrip("/")
            args["status_callback"] = f"{base}/channels/twilio/status"
        return args

    async def _send_part(
        self,
        client: Any,
        account: TwilioAccount,
        message: channels.Outbound,
        part: TwilioOutbound,
    ) -> TwilioOutbound:
        args = self._create_args(account, message, part)
        if part.status == ATTEMPTED:
            found = await self._reconcile(client, part, args)
            if found is not None:
                return found
        part = await self._record(part, status=ATTEMPTED)
        try:
            created = await client.messages.create_async(**args)
        except (TimeoutError, aiohttp.ClientError) as exc:
            # Twilio may have created it: the next attempt looks it up before sending again.
            raise RetryLater(f"no answer from Twilio: {type(exc).__name__} {exc}") from exc
        except TwilioRestException as exc:
            error = classify(exc)
            if (
                error.code == OUTSIDE_WINDOW_ERROR
                and not part.via_template
                and account.template_content_sid
            ):
                part = await self._switch_to_template(part)
                return await self._send_part(client, account, message, part)
            await self._record(
                part, status="failed" if not error.retryable else "retrying", error=error
            )
            if error.retryable:
                delay = (
                    None if error.retry_after_s is None else timedelta(seconds=error.retry_after_s)
                )
                raise RetryLater(
                    f"Twilio {error.status} ({error.code}): {error.message}", delay
                ) from exc
            raise PermanentJobError(
                f"Twilio refused the message: HTTP {error.status}, "
                f"error {error.code}: {error.message}"
            ) from exc
        return await self._record(part, status=str(created.status or "queued"), sid=created.sid)

    async def _reconcile(
        self, client: Any, part: TwilioOutbound, args: dict[str, Any]
    ) -> TwilioOutbound | None:
        """The part as recorded from the message an unanswered attempt created, if any."""
        async with self._db.read() as session:
            known = set(
                await session.scalars(
                    select(TwilioOutbound.twilio_sid).where(
                        TwilioOutbound.tenant_id == part.tenant_id,
                        TwilioOutbound.twilio_sid.is_not(None),
                        TwilioOutbound.message_id == part.message_id,
                    )
                )
            )
        found = await find_sent(
            client,
            to=str(args["to"]),
            from_=args.get("from_"),
            body=part.body,
            template=part.via_template,
            attempted_at=part.updated_at,
            known_sids={str(sid) for sid in known},
        )
        if found is None:
            return None
        log.info("twilio.reconciled", part_id=part.id, twilio_sid=found.sid)
        return await self._record(part, status=str(found.status or "queued"), sid=found.sid)

    async def _to_template(self, account: TwilioAccount, part: TwilioOutbound) -> TwilioOutbound:
        if not account.template_content_sid:
            raise PermanentJobError(
                "outside the 24-hour window and no approved template is configured"
            )
        return await self._switch_to_template(part)

    async def _switch_to_template(self, part: TwilioOutbound) -> TwilioOutbound:
        async with self._db.transaction() as session:
            await session.execute(
                update(TwilioOutbound)
                .where(TwilioOutbound.tenant_id == part.tenant_id, TwilioOutbound.id == part.id)
                .values(via_template=True, body=part.body[:TEMPLATE_BODY_CHARS], status="pending")
            )
            refreshed = await session.scalar(
                select(TwilioOutbound).where(
                    TwilioOutbound.tenant_id == part.tenant_id, TwilioOutbound.id == part.id
                )
            )
        assert refreshed is not None
        return refreshed

    async def _record(
        self,
        part: TwilioOutbound,
        *,
        status: str,
        sid: str | None = None,
        error: SendError | None = None,
    ) -> TwilioOutbound:
        values: dict[str, Any] = {"status": status, "updated_at": self._clock.now()}
        if sid is not None:
            values["twilio_sid"] = sid
        if error is not None:
            values.update(error_code=error.code, error_message=error.message[:500])
        async with self._db.transaction() as session:
            await session.execute(
                update(TwilioOutbound)
                .where(TwilioOutbound.tenant_id == part.tenant_id, TwilioOutbound.id == part.id)
                .values(**values)
            )
            refreshed = await session.scalar(
                select(TwilioOutbound).where(
                    TwilioOutbound.tenant_id == part.tenant_id, TwilioOutbound.id == part.id
                )
            )
        assert refreshed is not None
        return refreshed
