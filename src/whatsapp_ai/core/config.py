"""Settings: one prefix (WHATSAPP_AI_), nested groups joined by a double underscore."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "WHATSAPP_AI_"
ENV_NESTED_DELIMITER = "__"


class AppSettings(BaseModel):
    """Process-wide settings."""

    env: Literal["dev", "test", "prod"] = "dev"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("var")
    max_body_bytes: int = Field(default=1_048_576, ge=1024)


class LogSettings(BaseModel):
    """Structured logging."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "console", "json"] = "auto"


class DatabaseSettings(BaseModel):
    """SQLite file by default; any PostgreSQL URL for scale-out."""

    url: str = "sqlite+aiosqlite:///var/whatsapp_ai.db"
    echo: bool = False
    pool_size: int = Field(default=10, ge=1)
    busy_timeout_ms: int = Field(default=5000, ge=0)
    prepared_statements: bool = True

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "expected sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASS@HOST/DB"
            )
        return value


class QueueSettings(BaseModel):
    """Job queue and worker."""

    backend: Literal["sql"] = "sql"
    concurrency: int = Field(default=4, ge=1, le=256)
    poll_interval_s: float = Field(default=0.2, gt=0)
    visibility_timeout_s: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    backoff_base_s: float = Field(default=1.0, gt=0)
    backoff_max_s: float = Field(default=300.0, gt=0)
    shutdown_timeout_s: float = Field(default=30.0, ge=0)
    done_retention_h: float = Field(default=72.0, gt=0)


class SchedulerSettings(BaseModel):
    """Periodic maintenance run by the one process holding the leader lease."""

    tick_s: float = Field(default=5.0, gt=0)
    leader_lease_s: float = Field(default=30.0, gt=0)


class ConversationSettings(BaseModel):
    """Turn handling."""

    turn_lease_s: float = Field(default=30.0, gt=0)
    history_turns: int = Field(default=20, ge=0)
    typing_after_s: float = Field(
        default=1.0, ge=0, description="Show a typing indicator when a reply takes longer."
    )


class LifecycleSettings(BaseModel):
    """Defaults of each tenant's conversation policy (a tenant may override every one)."""

    idle_after_min: float = Field(
        default=30.0, gt=0, description="Minutes of user silence before a conversation is idle."
    )
    close_after_min: float = Field(
        default=60.0, gt=0, description="Further minutes before an idle conversation expires."
    )
    human_wait_min: float = Field(
        default=10.0,
        gt=0,
        description="Minutes a handoff waits for an operator before the user is told.",
    )
    resume_on_wait_timeout: bool = Field(
        default=True, description="The assistant takes the conversation back when nobody did."
    )
    operator_idle_min: float = Field(
        default=30.0,
        gt=0,
        description="Minutes without operator activity before the assistant is back.",
    )
    operator_max_open: int = Field(
        default=5, ge=1, description="Conversations one operator holds at a time."
    )
    auto_assign: bool = Field(
        default=True, description="Give a waiting conversation to the next free operator."
    )
    handoff_after_failures: int = Field(
        default=2,
        ge=1,
        description="Replies in a row the assistant could not give before a person is called.",
    )
    sweep_batch: int = Field(default=200, ge=1, le=5000)


class EventsSettings(BaseModel):
    """Live events for the operator console (conversation and message changes)."""

    backend: Literal["memory", "postgres", "redis"] = Field(
        default="memory",
        description="memory (one process), postgres (LISTEN/NOTIFY on the database) "
        "or redis (pub/sub at redis_url).",
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Redis server of the redis backend."
    )
    channel: str = Field(
        default="wai_events",
        min_length=1,
        max_length=63,
        description="PostgreSQL channel name, or prefix of the per-tenant Redis channels.",
    )
    subscriber_buffer: int = Field(
        default=1000,
        ge=1,
        description="Events held for a slow subscriber before the oldest are dropped.",
    )


class SandboxSettings(BaseModel):
    """Sandbox WhatsApp channel and its simulator."""

    enabled: bool = True
    long_poll_max_s: float = Field(default=25.0, gt=0, le=60)


class SecuritySettings(BaseModel):
    """Encryption of secrets at rest."""

    secret_keys: str = Field(
        default="",
        description="Comma-separated Fernet keys; the first encrypts, all decrypt (rotation). "
        "Empty outside prod: a key is kept in the data directory.",
    )


class TwilioSettings(BaseModel):
    """Twilio WhatsApp channel."""

    validate_signature: bool = True
    public_base_url: str = ""
    trusted_proxies: str = ""
    api_base: str = ""
    send_rate_per_s: float = Field(default=10.0, gt=0)
    max_rate_wait_s: float = Field(default=5.0, ge=0)
    request_timeout_s: float = Field(default=15.0, gt=0)
    typing_indicator: bool = False
    status_callbacks: bool = True
    media_max_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    media_image_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    media_cdn_hosts: str = "media.twiliocdn.com,*.twiliocdn.com"
    media_allow_private: bool = False
    media_not_found_retries: int = Field(default=3, ge=0)
    media_retry_delay_s: float = Field(default=1.0, ge=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"expected comma-separated IPs or CIDRs, got {item!r}") from exc
        return value

    def proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The trusted proxies as networks."""
        parts = (part.strip() for part in self.trusted_proxies.split(","))
        return [ipaddress.ip_network(part, strict=False) for part in parts if part]

    def cdn_hosts(self) -> list[str]:
        """Host patterns media redirects may lead to."""
        return [part.strip().lower() for part in self.media_cdn_hosts.split(",") if part.strip()]


class AiSettings(BaseModel):
    """Reply step."""

    provider: Literal["offline"] = "offline"


class Settings(BaseSettings):
    """All settings of the platform."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    app: AppSettings = AppSettings()
    log: LogSettings = LogSettings()
    database: DatabaseSettings = DatabaseSettings()
    queue: QueueSettings = QueueSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    conversation: ConversationSettings = ConversationSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()
    events: EventsSettings = EventsSettings()
    sandbox: SandboxSettings = SandboxSettings()
    twilio: TwilioSettings = TwilioSettings()
    security: SecuritySettings = SecuritySettings()
    ai: AiSettings = AiSettings()


class SettingsError(Exception):
    """Settings that cannot start the platform, with a message naming each variable."""


def env_name(loc: tuple[int | str, ...]) -> str:
    """Environment variable name for a validation error location."""
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(str(part).upper() for part in loc)


# Values of these settings may hold credentials: errors name the variable, never the value.
SECRET_WORDS = ("url", "secret", "token", "key", "password")

# Twilio's own variable names, honoured when the prefixed ones are not set.
TWILIO_ALIASES = {"TWILIO_API_BASE": ("twilio", "api_base")}


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (and .env); raise SettingsError naming bad variables."""
    for alias, (group, name) in TWILIO_ALIASES.items():
        if os.environ.get(alias) and not os.environ.get(env_name((group, name))):
            existing = overrides.get(group)
            merged = dict(existing) if isinstance(existing, dict) else {}
            overrides[group] = {name: os.environ[alias], **merged}
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            got = error.get("input")
            secret = any(word in str(part) for part in error["loc"] for word in SECRET_WORDS)
            shown = "" if isinstance(got, dict) or secret else f" (got {got!r})"
            lines.append(f"{env_name(error['loc'])}: {error['msg']}{shown}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from exc


def settings_env_names() -> list[str]:
    """Every environment variable the settings read, in declaration order."""
    names = []
    for group_name, group_field in Settings.model_fields.items():
        group_type = group_field.annotation
        assert isinstance(group_type, type)
        assert issubclass(group_type, BaseModel)
        for field_name in group_type.model_fields:
            names.append(env_name((group_name, field_name)))
    return names


def env_example() -> str:
    """The text of .env.example: every setting with its default, grouped."""
    lines = [
        "# Every setting of the platform, with its default. Copy to .env and change what you need.",
        "# Names: WHATSAPP_AI_<GROUP>__<NAME>. An invalid value stops start-up, naming it.",
        "# Generated by `make env-example` from core/config.py; a test keeps the two in step.",
        "",
    ]
    defaults = Settings.model_construct()
    for group_name, group_field in Settings.model_fields.items():
        group_type = group_field.annotation
        assert isinstance(group_type, type)
        assert issubclass(group_type, BaseModel)
        lines.append(f"# {(group_type.__doc__ or group_name).strip()}")
        group = getattr(defaults, group_name)
        for field_name, field in group_type.model_fields.items():
            if field.description:
                lines.append(f"# {field.description}")
            value = getattr(group, field_name)
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            lines.append(f"{env_name((group_name, field_name))}={shown}")
        lines.append("")
    lines += [
        "# Twilio's own names are read too: TWILIO_API_BASE (for WHATSAPP_AI_TWILIO__API_BASE);",
        "# `whatsapp-ai seed` connects the demo tenant to TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN",
        "# and TWILIO_WHATSAPP_NUMBER when they are set.",
        "",
    ]
    return "\n".join(lines)
