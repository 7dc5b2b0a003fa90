"""Channel API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class MediaOut(BaseModel):
    """An attachment of an inbound message, as operators see it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    event_id: str
    position: int
    declared_type: str
    content_type: str | None
    size_bytes: int | None
    status: str
    reason: str | None
    transcript: str | None
    created_at: datetime
