"""The tenant's own Stripe account, where payment links are created; its key is kept
encrypted only."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.crypto import SecretBox
from whatsapp_ai.sales.errors import InvalidInputError
from whatsapp_ai.sales.models import StripeAccount
from whatsapp_ai.sales.values import URL_MAX

_STRIPE_KEY = re.compile(r"^(sk|rk)_(live|test)_[A-Za-z0-9]{10,240}$")


def _success_url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    url = value.strip()
    if not url.startswith(("https://", "http://")) or len(url) > URL_MAX or " " in url:
        raise InvalidInputError(
            f"an http(s) URL of at most {URL_MAX} characters", field="success_url"
        )
    return url


async def set_stripe_account(
    session: AsyncSession,
    box: SecretBox,
    *,
    tenant_id: str,
    secret_key: str,
    now: datetime,
    success_url: str | None = None,
) -> StripeAccount:
    """Connect (or replace) the tenant's Stripe account; the key is stored encrypted only."""
    key = secret_key.strip()
    match = _STRIPE_KEY.match(key)
    if match is None:
        # Never echo the value: it may be a real key pasted in the wrong place.
        raise InvalidInputError(
            "a Stripe secret key (sk_live_…, sk_test_…) or restricted key (rk_…)",
            field="secret_key",
        )
    url = _success_url(success_url)
    account = await get_stripe_account(session, tenant_id=tenant_id)
    if account is None:
        account = StripeAccount(tenant_id=tenant_id, created_at=now)
        session.add(account)
    account.secret_key = box.encrypt(key)
    account.key_last4 = key[-4:]
    account.livemode = match[2] == "live"
    account.success_url = url
    account.updated_at = now
    await session.flush()
    return account


async def get_stripe_account(session: AsyncSession, *, tenant_id: str) -> StripeAccount | None:
    """The tenant's Stripe account (its key still encrypted)."""
    return await session.scalar(select(StripeAccount).where(StripeAccount.tenant_id == tenant_id))


async def delete_stripe_account(session: AsyncSession, *, tenant_id: str) -> bool:
    """Disconnect the tenant's Stripe account (orders then wait for an operator)."""
    account = await get_stripe_account(session, tenant_id=tenant_id)
    if account is None:
        return False
    await session.delete(account)
    await session.flush()
    return True


async def rotate_secrets(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypt every stored Stripe key under the newest key; how many were rewritten."""
    rows = list(await session.scalars(select(StripeAccount)))
    for account in rows:
        account.secret_key = box.rotate(account.secret_key)
        if account.webhook_secret:
            account.webhook_secret = box.rotate(account.webhook_secret)
    await session.flush()
    return len(rows)
