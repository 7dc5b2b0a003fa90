"""Identity API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, EmailStr, Field, SecretStr, field_validator

from whatsapp_ai.core.inputs import Input

Role = Literal["admin", "operator", "member"]


class LoginIn(Input):
    """E-mail and password."""

    email: EmailStr
    password: SecretStr = Field(min_length=1, max_length=200)


class UserOut(BaseModel):
    """A console user (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str | None
    email: str
    name: str
    role: str
    created_at: datetime
    last_login_at: datetime | None
    disabled_at: datetime | None


class LoginOut(BaseModel):
    """The signed-in user and the token to send as X-CSRF-Token on changes."""

    user: UserOut
    csrf_token: str
    expires_at: datetime


class UserIn(Input):
    """A new user of the caller's tenant."""

    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    role: Role
    password: SecretStr = Field(min_length=12, max_length=200)


class UserPatch(Input):
    """Changes to a user."""

    role: Role | None = None
    disabled: bool | None = None


class ApiKeyIn(Input):
    """A new API key."""

    name: str = Field(min_length=1, max_length=100)
    # Required: a key gets exactly the rights it is given, never everything by omission.
    scopes: list[str] = Field(min_length=1, max_length=50)


class ApiKeyOut(BaseModel):
    """An API key as listed: its prefix identifies it; the secret is never shown again."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    """A new API key, with its secret: shown this once."""

    key: str


class ContactOut(BaseModel):
    """A WhatsApp contact of the tenant."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    address: str
    profile_name: str | None
    display_name: str | None
    language: str | None
    timezone: str | None
    preferences: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class ContactPatch(Input):
    """Changes to a contact's profile."""

    display_name: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    timezone: str | None = Field(default=None, max_length=64)
    preferences: dict[str, Any] | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone: {value!r} (e.g. America/Sao_Paulo)") from exc
        return value


class TenantOut(BaseModel):
    """A tenant as platform admins see it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    slug: str
    name: str
    created_at: datetime


class ErasureOut(BaseModel):
    """What an erasure removed (the audit record keeps the same, without personal data)."""

    record_id: str
    removed: dict[str, int]
    files_deleted: int
    files_pending: int = Field(description="Files a background job will delete (retried).")


class RegisterIn(Input):
    """A new business and its first admin."""

    business_name: str = Field(min_length=2, max_length=200)
    slug: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    password: SecretStr = Field(min_length=12, max_length=200)


class RegisterOut(BaseModel):
    """The new tenant, its admin and plan; sign in with the admin's e-mail and password."""

    tenant: TenantOut
    user: UserOut
    plan: str
