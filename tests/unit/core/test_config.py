"""Settings: .env.example in step with the code, clear errors for invalid values."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from whatsapp_ai.core.config import (
    SettingsError,
    env_example,
    load_settings,
    settings_env_names,
)

ROOT = Path(__file__).resolve().parents[3]


def _example_names() -> list[str]:
    text = (ROOT / ".env.example").read_text()
    return re.findall(r"^(WHATSAPP_AI_[A-Z0-9_]+)=", text, flags=re.MULTILINE)


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    assert sorted(_example_names()) == sorted(settings_env_names())


def test_env_example_is_up_to_date() -> None:
    assert (ROOT / ".env.example").read_text() == env_example(), "run `make env-example`"


def test_env_example_values_are_valid_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / ".env.example").read_text()
    for name, value in re.findall(r"^(WHATSAPP_AI_[A-Z0-9_]+)=(.*)$", text, flags=re.MULTILINE):
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.app.port == 8000
    assert settings.database.url.startswith("sqlite+aiosqlite://")


def test_nested_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_AI_QUEUE__CONCURRENCY", "9")
    monkeypatch.setenv("WHATSAPP_AI_DATABASE__URL", "postgresql+asyncpg://u:p@db:5432/app")
    settings = load_settings()
    assert settings.queue.concurrency == 9
    assert settings.database.url.endswith("/app")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("WHATSAPP_AI_APP__PORT", "eighty", "WHATSAPP_AI_APP__PORT"),
        ("WHATSAPP_AI_APP__PORT", "70000", "less than or equal to 65535"),
        ("WHATSAPP_AI_DATABASE__URL", "mysql://x", "postgresql+asyncpg://"),
        ("WHATSAPP_AI_LOG__LEVEL", "LOUD", "'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
        ("WHATSAPP_AI_QUEUE__CONCURRENCY", "0", "WHATSAPP_AI_QUEUE__CONCURRENCY"),
    ],
)
def test_invalid_setting_names_variable_and_expected_form(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert name in message
    assert expected in message


def test_cli_stops_at_start_up_on_invalid_setting(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "whatsapp_ai", "migrate"],
        env={"WHATSAPP_AI_APP__PORT": "not-a-port", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "WHATSAPP_AI_APP__PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_twilio_api_base_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_API_BASE", "http://127.0.0.1:9999")
    monkeypatch.setenv("WHATSAPP_AI_TWILIO__SEND_RATE_PER_S", "3")
    settings = load_settings()
    assert settings.twilio.api_base == "http://127.0.0.1:9999"
    assert settings.twilio.send_rate_per_s == 3
    monkeypatch.setenv("WHATSAPP_AI_TWILIO__API_BASE", "http://prefixed")
    assert load_settings().twilio.api_base == "http://prefixed"


def test_trusted_proxies_must_be_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_AI_TWILIO__TRUSTED_PROXIES", "10.0.0.0/8, nonsense")
    with pytest.raises(SettingsError, match="WHATSAPP_AI_TWILIO__TRUSTED_PROXIES"):
        load_settings()


def test_errors_never_show_secret_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_AI_DATABASE__URL", "mysql://admin:S3cretPass@db.example.com/app")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "WHATSAPP_AI_DATABASE__URL" in str(caught.value)
    assert "S3cretPass" not in str(caught.value)
