"""Twilio account API shapes (tokens go in, never out)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, SecretStr, field_validator

from whatsapp_ai.core.inputs import FREE_TEXT, Input
from whatsapp_ai.identity import service as identity

SID = r"^{prefix}[0-9a-f]{{32}}$"


class TwilioAccountIn(Input):
    """Credentials and sender of the tenant's Twilio account."""

    account_sid: str = Field(pattern=SID.format(prefix="AC"))
    auth_token: SecretStr = Field(min_length=16, max_length=128)
    secondary_auth_token: SecretStr | None = Field(
        default=None, description="The other token while rotating: both are accepted."
    )
    whatsapp_number: str = Field(description="The WhatsApp sender in E.164, e.g. +14155238886")
    messaging_service_sid: str | None = Field(default=None, pattern=SID.format(prefix="MG"))
    template_content_sid: str | None = Field(
        default=None,
        pattern=SID.format(prefix="HX"),
        description="Approved template used outside the 24-hour customer-service window.",
    )
    template_variables: dict[str, Annotated[Any, FREE_TEXT]] | None = Field(
        default=None,
        description='ContentVariables; "{body}" is replaced by the message text.',
        examples=[{"1": "{body}"}],
    )

    @field_validator("whatsapp_number")
    @classmethod
    def _e164(cls, value: str) -> str:
        return identity.normalize_address(value.removeprefix("whatsapp:"))


class TwilioAccountOut(BaseModel):
    """The tenant's Twilio configuration, without secrets."""

    account_sid: str
    whatsapp_number: str
    messaging_service_sid: str | None
    template_content_sid: str | None
    template_variables: dict[str, Any]
    has_secondary_auth_token: bool
    updated_at: datetime
