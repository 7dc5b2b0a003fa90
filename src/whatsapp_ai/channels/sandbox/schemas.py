"""Sandbox channel API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from whatsapp_ai.core.inputs import FREE_TEXT, Input


class SandboxMessageIn(Input):
    """A message typed by a simulated WhatsApp user."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    sender: str = Field(alias="from", min_length=3, max_length=32, examples=["+5511999990001"])
    text: Annotated[str, FREE_TEXT] = Field(min_length=1, max_length=4096)
    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Client message id; a repeat with the same id is accepted once.",
    )
    profile_name: str | None = Field(default=None, max_length=200)


class SandboxAccepted(BaseModel):
    """The message is stored and queued."""

    message_id: str
    event_id: str | None
    duplicate: bool


class OutboxItem(BaseModel):
    """A message the platform sent to a simulated user."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    recipient: str
    body: str
    message_id: str
    reply_to_external_id: str | None
    created_at: datetime


class OutboxPage(BaseModel):
    """Outbox items after a cursor."""

    items: list[OutboxItem]
    cursor: str | None
