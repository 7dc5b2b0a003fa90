"""Conversation API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from whatsapp_ai.core.inputs import FREE_TEXT, Input


class ConversationOut(BaseModel):
    """A conversation as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    contact_id: str
    channel: str
    status: str
    version: int
    opened_at: datetime
    last_message_at: datetime
    state_changed_at: datetime | None
    assignee_id: str | None
    previous_id: str | None
    handoff_reason: str | None
    handoff_at: datetime | None
    closed_by: str | None
    close_reason: str | None
    closed_at: datetime | None
    due_at: datetime | None
    due_action: str | None


class MessageOut(BaseModel):
    """A message as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    conversation_id: str
    direction: str
    author: str
    author_id: str | None = None
    body: str
    reply_to_id: str | None
    source_event_id: str | None
    delivery_status: str | None
    created_at: datetime


class TransitionOut(BaseModel):
    """One change of state in a conversation's history."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    from_status: str
    to_status: str
    actor: str
    actor_id: str | None
    reason: str
    version: int
    at: datetime


Reason = Annotated[
    str, FREE_TEXT, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)
]


class Action(Input):
    """An operator's change to a conversation; ``version`` makes it conditional."""

    version: int | None = Field(
        default=None, ge=1, description="Apply only if the conversation is still at this version."
    )
    reason: Reason | None = None


class AssignIn(Action):
    """Give the conversation to an operator, or to the next free one."""

    operator_id: str | None = Field(
        default=None, description="The operator (a user id); empty: the next free operator."
    )


class ReplyIn(Input):
    """An operator's message to the contact."""

    body: Annotated[
        str, FREE_TEXT, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)
    ]
    client_key: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        default=None, description="Sending again with the same key sends nothing new."
    )


class PolicyIn(Input):
    """Changes to the tenant's policy; null resets a value to the platform default."""

    idle_after_min: float | None = Field(default=None, gt=0, le=60 * 24 * 30)
    close_after_min: float | None = Field(default=None, gt=0, le=60 * 24 * 30)
    human_wait_min: float | None = Field(default=None, gt=0, le=60 * 24 * 7)
    resume_on_wait_timeout: bool | None = None
    operator_idle_min: float | None = Field(default=None, gt=0, le=60 * 24 * 7)
    operator_max_open: int | None = Field(default=None, ge=1, le=1000)
    auto_assign: bool | None = None
    handoff_after_failures: int | None = Field(default=None, ge=1, le=50)
    human_only_topics: (
        list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80)]]
        | None
    ) = Field(default=None, max_length=100)


class PolicyOut(BaseModel):
    """The policy in force, and which values the tenant set itself."""

    idle_after_min: float
    close_after_min: float
    human_wait_min: float
    resume_on_wait_timeout: bool
    operator_idle_min: float
    operator_max_open: int
    auto_assign: bool
    handoff_after_failures: int
    human_only_topics: list[str]
    overridden: dict[str, Any]


class OperatorOut(BaseModel):
    """An operator and their load."""

    model_config = ConfigDict(from_attributes=True)

    user_id: str
    name: str
    role: str
    available: bool
    open_conversations: int
    last_assigned_at: datetime | None


class AvailabilityIn(Input):
    """Whether an operator takes new conversations automatically."""

    available: bool
