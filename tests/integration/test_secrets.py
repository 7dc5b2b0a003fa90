"""Secrets at rest (encrypted, rotatable, required in prod) and the user-admin command."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import make_settings, run_coro
from whatsapp_ai.bootstrap import bootstrap, secret_box
from whatsapp_ai.channels.twilio import accounts
from whatsapp_ai.channels.twilio.models import TwilioAccount
from whatsapp_ai.cli import app as cli
from whatsapp_ai.core.config import SettingsError
from whatsapp_ai.core.crypto import SecretBox, SecretKeyError
from whatsapp_ai.identity import service as identity
from whatsapp_ai.identity.models import User

TOKEN = "0123456789abcdef0123456789abcdef"


def test_prod_needs_explicit_keys(tmp_path: Path) -> None:
    settings = make_settings("sqlite+aiosqlite:///x.db", tmp_path, app={"env": "prod"})
    with pytest.raises(SettingsError, match="WHATSAPP_AI_SECURITY__SECRET_KEYS"):
        secret_box(settings)
    bad = make_settings("sqlite+aiosqlite:///x.db", tmp_path, security={"secret_keys": "not-a-key"})
    with pytest.raises(SettingsError, match="Fernet"):
        secret_box(bad)


def test_dev_key_is_created_once_and_private(tmp_path: Path) -> None:
    settings = make_settings("sqlite+aiosqlite:///x.db", tmp_path)
    first = secret_box(settings).encrypt("segredo")
    key_file = tmp_path / "data" / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert secret_box(settings).decrypt(first) == "segredo"


def test_box_refuses_foreign_ciphertext() -> None:
    one, other = (
        SecretBox([Fernet.generate_key().decode()]),
        SecretBox([Fernet.generate_key().decode()]),
    )
    with pytest.raises(SecretKeyError):
        other.decrypt(one.encrypt("x"))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_rotation_re_encrypts_under_the_new_key(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    async def store() -> None:
        container = bootstrap(make_settings(db_url, tmp_path, security={"secret_keys": old}))
        try:
            async with container.db.transaction() as session:
                tenant = await identity.create_tenant(
                    session, name="Loja", slug="loja", now=container.clock.now()
                )
                await accounts.upsert_account(
                    session,
                    container.box,
                    tenant_id=tenant.id,
                    account_sid="AC" + "a" * 32,
                    auth_token=TOKEN,
                    secondary_auth_token=TOKEN[::-1],
                    whatsapp_number="+14155238886",
                    now=container.clock.now(),
                )
            async with container.db.read() as session:
                stored = await session.scalar(select(TwilioAccount.auth_token))
            assert stored is not None
            assert TOKEN not in stored
        finally:
            await container.close()

    run_coro(store())
    monkeypatch.setenv("WHATSAPP_AI_DATABASE__URL", db_url)
    monkeypatch.setenv("WHATSAPP_AI_APP__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WHATSAPP_AI_SECURITY__SECRET_KEYS", f"{new},{old}")
    result = CliRunner().invoke(cli, ["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 stored secret" in result.output

    async def read() -> tuple[str, str | None]:
        container = bootstrap(make_settings(db_url, tmp_path, security={"secret_keys": new}))
        try:
            async with container.db.read() as session:
                account = await session.scalar(select(TwilioAccount))
            assert account is not None
            return (
                container.box.decrypt(account.auth_token),
                container.box.decrypt(account.secondary_auth_token or ""),
            )
        finally:
            await container.close()

    assert run_coro(read()) == (TOKEN, TOKEN[::-1])  # readable with the new key alone


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_users_create_command(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_AI_DATABASE__URL", db_url)
    monkeypatch.setenv("WHATSAPP_AI_APP__DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    assert runner.invoke(cli, ["seed"]).exit_code == 0

    def create(*args: str, password: str = "a long enough password") -> int:
        result = runner.invoke(cli, ["users", "create", *args, "--password-stdin"], input=password)
        return result.exit_code

    assert (
        create(
            "--email", "Ops@Example.com", "--name", "Ops", "--role", "operator", "--tenant", "demo"
        )
        == 0
    )
    assert create("--email", "ops@example.com", "--name", "Ops", "--tenant", "demo") == 2
    assert (
        create("--email", "x@example.com", "--name", "X", "--tenant", "demo", password="short") == 2
    )
    assert (
        create(
            "--email",
            "p@example.com",
            "--name",
            "P",
            "--role",
            "platform_admin",
            "--tenant",
            "demo",
        )
        == 2
    )

    async def stored() -> tuple[str, str]:
        container = bootstrap(make_settings(db_url, tmp_path))
        try:
            async with container.db.read() as session:
                user = await session.scalar(select(User).where(User.email == "ops@example.com"))
            assert user is not None
            return user.role, user.password_hash
        finally:
            await container.close()

    role, password_hash = run_coro(stored())
    assert role == "operator"
    assert password_hash.startswith("$argon2")
