"""Tenants' Twilio accounts: stored with encrypted tokens, resolved from webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.channels.twilio.models import TwilioAccount
from whatsapp_ai.core.crypto import SecretBox
from whatsapp_ai.core.ids import new_id

MEMO_PREFIX = "twilio-account:"
MEMO_TTL_S = 10.0


@dataclass(frozen=True)
class ResolvedAccount:
    """What a webhook needs of an account: whose it is and its (still encrypted) tokens."""

    tenant_id: str
    account_sid: str
    encrypted_tokens: tuple[str, ...]

    def auth_tokens(self, box: SecretBox) -> list[str]:
        """The tokens that may sign its webhooks, decrypted for this use only."""
        return [box.decrypt(token) for token in self.encrypted_tokens]


@dataclass(frozen=True)
class AccountSecrets:
    """Decrypted credentials, built only where a call needs them."""

    account_sid: str
    auth_tokens: list[str]


async def upsert_account(
    session: AsyncSession,
    box: SecretBox,
    *,
    tenant_id: str,
    account_sid: str,
    auth_token: str,
    whatsapp_number: str,
    now: datetime,
    secondary_auth_token: str | None = None,
    messaging_service_sid: str | None = None,
    template_content_sid: str | None = None,
    template_variables: dict[str, Any] | None = None,
) -> TwilioAccount:
    """Create or replace the tenant's Twilio account."""
    account = await get_account(session, tenant_id=tenant_id)
    if account is None:
        account = TwilioAccount(id=new_id(), tenant_id=tenant_id, created_at=now)
        session.add(account)
    account.account_sid = account_sid
    account.auth_token = box.encrypt(auth_token)
    account.secondary_auth_token = (
        box.encrypt(secondary_auth_token) if secondary_auth_token else None
    )
    account.whatsapp_number = whatsapp_number
    account.messaging_service_sid = messaging_service_sid
    account.template_content_sid = template_content_sid
    account.template_variables = template_variables or {"1": "{body}"}
    account.updated_at = now
    await session.flush()
    return account


async def get_account(session: AsyncSession, *, tenant_id: str) -> TwilioAccount | None:
    """The tenant's Twilio account."""
    return await session.scalar(select(TwilioAccount).where(TwilioAccount.tenant_id == tenant_id))


async def resolve_account(
    session: AsyncSession,
    *,
    account_sid: str,
    number: str | None,
    messaging_service_sid: str | None,
) -> TwilioAccount | None:
    """The account a webhook belongs to: by Messaging Service, else by account and number."""
    if messaging_service_sid:
        found = await session.scalar(
            select(TwilioAccount).where(
                TwilioAccount.messaging_service_sid == messaging_service_sid
            )
        )
        if found is not None and found.account_sid == account_sid:
            return found
    if number is None:
        return None
    return await session.scalar(
        select(TwilioAccount).where(
            TwilioAccount.account_sid == account_sid, TwilioAccount.whatsapp_number == number
        )
    )


def _encrypted_tokens(account: TwilioAccount) -> tuple[str, ...]:
    """Primary token first, then the one being rotated in or out."""
    if account.secondary_auth_token:
        return (account.auth_token, account.secondary_auth_token)
    return (account.auth_token,)


def secrets_of(account: TwilioAccount, box: SecretBox) -> AccountSecrets:
    """Decrypt the account's tokens for one use."""
    tokens = [box.decrypt(token) for token in _encrypted_tokens(account)]
    return AccountSecrets(account_sid=account.account_sid, auth_tokens=tokens)


def resolved(account: TwilioAccount) -> ResolvedAccount:
    """The webhook view of an account."""
    return ResolvedAccount(
        tenant_id=account.tenant_id,
        account_sid=account.account_sid,
        encrypted_tokens=_encrypted_tokens(account),
    )


async def rotate_secrets(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypt every stored token under the newest key; how many accounts were rewritten."""
    rows = list(await session.scalars(select(TwilioAccount)))
    for account in rows:
        account.auth_token = box.rotate(account.auth_token)
        if account.secondary_auth_token:
            account.secondary_auth_token = box.rotate(account.secondary_auth_token)
    await session.flush()
    return len(rows)
