"""`migrate`, `seed`, `secrets rotate` and `users create`: the operator's one-off commands."""

from __future__ import annotations

import asyncio
import os
import sys

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.ai import settings as assistant_settings
from whatsapp_ai.billing import service as billing
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.channels.twilio import accounts as twilio_accounts
from whatsapp_ai.commands.common import (
    DEMO_KEY_FILE,
    DEMO_NAME,
    DEMO_SLUG,
    container,
    ensure_migrated,
)
from whatsapp_ai.core.db import enter_system
from whatsapp_ai.core.migrate import current_revision, upgrade
from whatsapp_ai.identity import service as identity
from whatsapp_ai.sales import service as sales_service


def migrate() -> None:
    """Bring the database schema to the newest revision."""
    built = container()

    async def main() -> str | None:
        try:
            await upgrade(built.db)
            return await current_revision(built.db)
        finally:
            await built.close()

    typer.echo(f"database at revision {asyncio.run(main())}")


def seed() -> None:
    """Create the demo tenant and its API key (kept in the data directory); safe to repeat."""
    built = container()
    key_file = built.settings.app.data_dir / DEMO_KEY_FILE

    async def main() -> tuple[str, bool]:
        enter_system()  # the command acts for the operator of the platform
        try:
            await ensure_migrated(built)
            now = built.clock.now()
            async with built.db.transaction() as session:
                tenant = await identity.get_tenant_by_slug(session, slug=DEMO_SLUG)
                if tenant is None:
                    tenant = await identity.create_tenant(
                        session, name=DEMO_NAME, slug=DEMO_SLUG, now=now
                    )
                    await billing.start_subscription(
                        session, tenant_id=tenant.id, plan="free", now=now
                    )
                await _connect_twilio_from_env(built, session, tenant.id)
                if key_file.exists():
                    principal = await identity.authenticate_api_key(
                        session, token=key_file.read_text().strip(), now=now
                    )
                    if principal is not None and principal.tenant_id == tenant.id:
                        return tenant.id, False
                _key, secret = await identity.create_api_key(
                    session, tenant_id=tenant.id, name="demo", now=now
                )
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.touch(mode=0o600)
            key_file.write_text(secret + "\n")
            return tenant.id, True
        finally:
            await built.close()

    tenant_id, created = asyncio.run(main())
    state = "new API key written to" if created else "API key kept in"
    typer.echo(f"demo tenant '{DEMO_SLUG}' ({tenant_id}); {state} {key_file}")


async def _connect_twilio_from_env(
    container: Container, session: AsyncSession, tenant_id: str
) -> None:
    """Connect the demo tenant to a real Twilio (sandbox) account given by Twilio's env names."""
    sid = os.environ.get("TWILIO_ACCOUNT_SID", "").strip()
    token = os.environ.get("TWILIO_AUTH_TOKEN", "").strip()
    number = os.environ.get("TWILIO_WHATSAPP_NUMBER", "").strip()
    if not (sid and token and number):
        return
    await twilio_accounts.upsert_account(
        session,
        container.box,
        tenant_id=tenant_id,
        account_sid=sid,
        auth_token=token,
        whatsapp_number=identity.normalize_address(number.removeprefix("whatsapp:")),
        now=container.clock.now(),
    )
    typer.echo(f"demo tenant connected to Twilio account {sid} ({number})")


def rotate_secrets() -> None:
    """Re-encrypt stored secrets under the first key of WHATSAPP_AI_SECURITY__SECRET_KEYS."""
    built = container()

    async def main() -> int:
        enter_system()  # the command acts for the operator of the platform
        try:
            async with built.db.transaction() as session:
                return (
                    await twilio_accounts.rotate_secrets(session, built.box)
                    + await sales_service.rotate_secrets(session, built.box)
                    + await assistant_settings.rotate_secrets(session, built.box)
                )
        finally:
            await built.close()

    count = asyncio.run(main())
    typer.echo(f"re-encrypted {count} stored secret(s) (Twilio, Stripe, chat-model keys)")


def create_user(
    *, email: str, name: str, role: str, tenant: str | None, password_stdin: bool
) -> None:
    """Create a console user (the password is asked for, or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        typer.echo("the password needs at least 12 characters", err=True)
        raise typer.Exit(2)
    if (role == identity.PLATFORM_ADMIN) == (tenant is not None):
        typer.echo("give --tenant for tenant roles, and no --tenant for platform_admin", err=True)
        raise typer.Exit(2)
    built = container()

    async def main() -> str:
        enter_system()  # the command acts for the operator of the platform
        try:
            async with built.db.transaction() as session:
                tenant_id = None
                if tenant is not None:
                    found = await identity.get_tenant_by_slug(session, slug=tenant)
                    if found is None:
                        raise ValueError(f"no tenant with slug {tenant!r}")
                    tenant_id = found.id
                user = await identity.create_user(
                    session,
                    tenant_id=tenant_id,
                    email=email,
                    name=name,
                    role=role,
                    password=password,
                    now=built.clock.now(),
                )
                return user.id
        finally:
            await built.close()

    try:
        user_id = asyncio.run(main())
    except (ValueError, identity.DuplicateEmailError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"user {email} ({role}) created: {user_id}")
