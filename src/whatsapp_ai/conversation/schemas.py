"""Conversation API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ConversationOut(BaseModel):
    """A conversation as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    contact_id: str
    channel: str
    status: str
    opened_at: datetime
    last_message_at: datetime


class MessageOut(BaseModel):
    """A message as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    conversation_id: str
    direction: str
    author: str
    body: str
    reply_to_id: str | None
    source_event_id: str | None
    delivery_status: str | None
    created_at: datetime


class MessagePage(BaseModel):
    """A page of messages, oldest first, and the cursor for the next page."""

    items: list[MessageOut]
    next_cursor: str | None
