"""Inbound media: fetched only from Twilio, with the tenant's credentials, within caps."""

from __future__ import annotations

import asyncio
import fnmatch
import re
from typing import Any

import httpx

from whatsapp_ai.channels import service as channels
from whatsapp_ai.channels.twilio import accounts
from whatsapp_ai.core.blobs import BlobStore
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.config import TwilioSettings
from whatsapp_ai.core.crypto import SecretBox
from whatsapp_ai.core.db import Database
from whatsapp_ai.core.fetch import FetchNotFoundError, FetchRefusedError, fetch
from whatsapp_ai.core.logging import get_logger

TWILIO_API = "https://api.twilio.com"
ALLOWED_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "video/mp4",
        "video/3gpp",
        *channels.DOCUMENT_TYPES,
    }
)
log = get_logger(__name__)


class TwilioMedia:
    """Downloads a message's attachments into the blob store, recording each outcome."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        blobs: BlobStore,
        settings: TwilioSettings,
    ) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._blobs = blobs
        self._settings = settings
        self._http: httpx.AsyncClient | None = None
        base = (settings.api_base or TWILIO_API).rstrip("/")
        self._api = httpx.URL(base)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._settings.request_timeout_s)
        return self._http

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _checker(self, account_sid: str) -> Any:
        path = re.compile(
            rf"^/2010-04-01/Accounts/{re.escape(account_sid)}/Messages/[A-Z]{{2}}[0-9a-f]{{32}}"
            r"/Media/[A-Z]{2}[0-9a-f]{32}$"
        )
        cdn_hosts = self._settings.cdn_hosts()

        def check(url: httpx.URL, hop: int) -> str | None:
            if hop == 0:
                same_origin = (url.scheme, url.host, url.port) == (
                    self._api.scheme,
                    self._api.host,
                    self._api.port,
                )
                if not same_origin or not path.match(url.path):
                    return "not a media URL of this tenant's Twilio account"
                return None
            host = url.host.lower()
            if not any(fnmatch.fnmatch(host, pattern) for pattern in cdn_hosts):
                return f"redirect to a host outside Twilio's media CDN: {host}"
            return None

        return check

    async def fetch_all(
        self, *, tenant_id: str, event_id: str, payload: dict[str, Any]
    ) -> list[channels.AttachmentResult]:
        """Fetch every attachment once; a re-run keeps what was already stored."""
        media = payload.get("media") or []
        if not media:
            return []
        async with self._db.read() as session:
            account = await accounts.get_account(session, tenant_id=tenant_id)
        if account is None:
            return []
        secrets = accounts.secrets_of(account, self._box)
        results = []
        for position, item in enumerate(media):
            results.append(
                await self._one(tenant_id, event_id, position, item, secrets, account.account_sid)
            )
        return results

    async def _one(
        self,
        tenant_id: str,
        event_id: str,
        position: int,
        item: dict[str, str],
        secrets: accounts.AccountSecrets,
        account_sid: str,
    ) -> channels.AttachmentResult:
        declared = item.get("content_type", "application/octet-stream").split(";")[0].strip()
        async with self._db.transaction() as session:
            row = await channels.record_media(
                session,
                tenant_id=tenant_id,
                event_id=event_id,
                position=position,
                source_url=item["url"],
                declared_type=declared,
                now=self._clock.now(),
            )
        if row.status in ("stored", "refused"):
            return _result(row.id, declared, row.status, row.reason, row.blob_key)
        status, reason, blob_key, content_type, size = await self._download(
            tenant_id, row.id, item["url"], declared, secrets, account_sid
        )
        async with self._db.transaction() as session:
            await channels.finish_media(
                session,
                tenant_id=tenant_id,
                media_id=row.id,
                status=status,
                reason=reason,
                content_type=content_type,
                size_bytes=size,
                blob_key=blob_key,
                now=self._clock.now(),
            )
        if reason:
            log.info("twilio.media_not_stored", media_id=row.id, status=status, reason=reason)
        return _result(row.id, content_type or declared, status, reason, blob_key)

    async def _download(
        self,
        tenant_id: str,
        media_id: str,
        url: str,
        declared: str,
        secrets: accounts.AccountSecrets,
        account_sid: str,
    ) -> tuple[str, str | None, str | None, str | None, int | None]:
        if declared not in ALLOWED_TYPES:
            return "refused", f"file type not accepted: {declared}", None, None, None
        cap = (
            self._settings.media_image_max_bytes
            if declared.startswith("image/")
            else self._settings.media_max_bytes
        )
        retries = self._settings.media_not_found_retries
        for attempt in range(retries + 1):
            try:
                fetched = await fetch(
                    self._client(),
                    url,
                    check=self._checker(account_sid),
                    max_bytes=cap,
                    auth=(secrets.account_sid, secrets.auth_tokens[0]),
                    allow_private=self._settings.media_allow_private,
                )
                break
            except FetchNotFoundError:
                if attempt == retries:
                    return "failed", "media not found at Twilio", None, None, None
                # Twilio may announce media a moment before it can be downloaded.
                await asyncio.sleep(self._settings.media_retry_delay_s * 2**attempt)
            except FetchRefusedError as exc:
                return "refused", exc.reason, None, None, None
            except httpx.HTTPError as exc:
                return "failed", f"download failed: {type(exc).__name__}", None, None, None
        if fetched.content_type not in ALLOWED_TYPES:
            return "refused", f"file type not accepted: {fetched.content_type}", None, None, None
        key = f"{tenant_id}/media/{media_id}"
        await self._blobs.put(key, fetched.content)
        return "stored", None, key, fetched.content_type, len(fetched.content)


def _result(
    media_id: str, content_type: str, status: str, reason: str | None, blob_key: str | None
) -> channels.AttachmentResult:
    return channels.AttachmentResult(
        media_id=media_id,
        kind=channels.media_kind(content_type),
        content_type=content_type,
        status=status,
        reason=reason,
        blob_key=blob_key,
    )
