"""Turning Twilio's WhatsApp webhook form into a typed inbound message."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from whatsapp_ai.identity import service as identity

_SID = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")
MAX_MEDIA = 10


class InvalidWebhookError(ValueError):
    """A webhook form missing what every WhatsApp message has."""


class InvalidSenderError(InvalidWebhookError):
    """A well-formed webhook whose From is no WhatsApp sender (not a contact, not answered)."""


class Attachment(BaseModel):
    """A media item as announced by the webhook."""

    url: str
    content_type: str


class Location(BaseModel):
    """A shared location."""

    latitude: float
    longitude: float
    address: str | None = None
    label: str | None = None


class TwilioInbound(BaseModel):
    """Everything a WhatsApp message can carry, as Twilio delivers it."""

    message_sid: str
    account_sid: str
    messaging_service_sid: str | None
    from_raw: str
    sender: str
    to_number: str
    wa_id: str | None
    profile_name: str | None
    body: str
    media: list[Attachment]
    button_text: str | None
    button_payload: str | None
    location: Location | None
    referral: dict[str, str]
    replied_to_sid: str | None
    replied_to_sender: str | None


def _text(form: dict[str, str], key: str) -> str | None:
    value = form.get(key, "").replace("\x00", "").strip()
    return value or None


def _sid(form: dict[str, str], key: str, *, required: bool) -> str | None:
    value = form.get(key, "").strip()
    if not value:
        if required:
            raise InvalidWebhookError(f"{key} is missing")
        return None
    if not _SID.match(value):
        raise InvalidWebhookError(f"{key} is not a Twilio SID: {value[:40]!r}")
    return value


def our_number(raw: str) -> str:
    """E.164 of a business address in a webhook (To, or From in a status callback)."""
    return identity.normalize_address(raw.strip().removeprefix("whatsapp:"))


def _location(form: dict[str, str]) -> Location | None:
    if "Latitude" not in form or "Longitude" not in form:
        return None
    try:
        return Location(
            latitude=float(form["Latitude"]),
            longitude=float(form["Longitude"]),
            address=_text(form, "Address"),
            label=_text(form, "Label"),
        )
    except ValueError as exc:
        raise InvalidWebhookError("Latitude/Longitude are not numbers") from exc


def _media(form: dict[str, str]) -> list[Attachment]:
    try:
        count = int(form.get("NumMedia", "0") or "0")
    except ValueError as exc:
        raise InvalidWebhookError("NumMedia is not a number") from exc
    if count < 0 or count > MAX_MEDIA:
        raise InvalidWebhookError(f"NumMedia out of range: {count}")
    items = []
    for index in range(count):
        url = form.get(f"MediaUrl{index}", "").strip()
        if not url:
            raise InvalidWebhookError(f"MediaUrl{index} is missing")
        content_type = form.get(f"MediaContentType{index}", "application/octet-stream").strip()
        items.append(Attachment(url=url, content_type=content_type.lower()[:MAX_CONTENT_TYPE]))
    return items


MAX_PROFILE_NAME = 200
MAX_CONTENT_TYPE = 100


def parse_inbound(raw_form: dict[str, str]) -> TwilioInbound:
    """Validate and normalize a WhatsApp inbound webhook form."""
    # NUL cannot be stored in PostgreSQL text or JSON; Twilio signed the raw values, so the
    # signature is checked before this point.
    form = {key: value.replace("\x00", "") for key, value in raw_form.items()}
    message_sid = _sid(form, "MessageSid", required=True)
    account_sid = _sid(form, "AccountSid", required=True)
    assert message_sid is not None
    assert account_sid is not None
    from_raw = form.get("From", "").strip()
    if not from_raw:
        raise InvalidWebhookError("From is missing")
    try:
        sender = identity.whatsapp_address(from_raw)
    except identity.InvalidAddressError as exc:
        raise InvalidSenderError(str(exc)) from exc
    try:
        to_number = our_number(form.get("To", ""))
    except identity.InvalidAddressError as exc:
        raise InvalidWebhookError(str(exc)) from exc
    referral = {
        key[len("Referral") :]: value
        for key, value in form.items()
        if key.startswith("Referral") and value
    }
    return TwilioInbound(
        message_sid=message_sid,
        account_sid=account_sid,
        messaging_service_sid=_sid(form, "MessagingServiceSid", required=False),
        from_raw=from_raw,
        sender=sender,
        to_number=to_number,
        wa_id=_text(form, "WaId"),
        profile_name=(_text(form, "ProfileName") or "")[:MAX_PROFILE_NAME] or None,
        body=form.get("Body", "").replace("\x00", ""),
        media=_media(form),
        button_text=_text(form, "ButtonText"),
        button_payload=_text(form, "ButtonPayload"),
        location=_location(form),
        referral=referral,
        replied_to_sid=_text(form, "OriginalRepliedMessageSid"),
        replied_to_sender=_text(form, "OriginalRepliedMessageSender"),
    )


def text_for_assistant(message: TwilioInbound) -> str:
    """What the assistant reads: the body, or what a button, location or referral said."""
    parts = [message.body.strip()] if message.body.strip() else []
    if message.button_text and message.button_text not in parts:
        parts.append(message.button_text)
    if message.location is not None and not parts:
        where = message.location.label or message.location.address
        coordinates = f"{message.location.latitude:.5f}, {message.location.longitude:.5f}"
        parts.append(f"[localização: {where + ' - ' if where else ''}{coordinates}]")
    return "\n".join(parts)


def payload_of(message: TwilioInbound) -> dict[str, Any]:
    """What the inbound event keeps of the message (JSON)."""
    return message.model_dump(mode="json")
