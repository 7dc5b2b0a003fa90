"""Contact addresses: phone numbers in E.164 form, and WhatsApp user ids."""

from __future__ import annotations

import re

import phonenumbers

from whatsapp_ai.identity.errors import InvalidAddressError

_ADDRESS = re.compile(r"^\+[1-9]\d{7,14}$")
# A WhatsApp business-scoped user id: the country, a dot, letters and digits ("BR.1a2b3c").
# Stored as "bsuid:<id>" in 64-character address columns.
_BSUID = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9]{1,55}$")


def normalize_address(raw: str) -> str:
    """E.164 form of a phone number given with or without '+', spaces, dashes or parentheses."""
    cleaned = re.sub(r"[\s().-]", "", raw.removeprefix("whatsapp:"))
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not cleaned.startswith("+"):
        cleaned = "+" + cleaned
    if not _ADDRESS.match(cleaned) or not _possible(cleaned):
        raise InvalidAddressError(f"not a phone number in E.164 form (+CCNNNN...): {raw!r}")
    return _with_brazilian_ninth_digit(cleaned)


def _with_brazilian_ninth_digit(e164: str) -> str:
    # Brazilian mobiles gained a leading 9 (2012-2016); WhatsApp still reports many without it.
    # Both forms must reach the same contact, so the canonical form always has it.
    if e164.startswith("+55") and len(e164) == 13 and e164[5] in "6789":
        return f"{e164[:5]}9{e164[5:]}"
    return e164


def whatsapp_address(raw: str) -> str:
    """Canonical contact address for a WhatsApp sender: E.164, or 'bsuid:' + a user id.

    WhatsApp reports senders as "+" and the international number, or as a user id; anything
    else (a tax id, a number with punctuation or of an impossible length) is no sender.
    """
    value = raw.strip().removeprefix("whatsapp:")
    if value.startswith("+"):
        if not _ADDRESS.match(value) or not _possible(value):
            raise InvalidAddressError(f"not a WhatsApp phone number in E.164 form: {raw!r}")
        return _with_brazilian_ninth_digit(value)
    if not _BSUID.match(value):
        raise InvalidAddressError(f"not a WhatsApp phone number or user id: {raw!r}")
    return f"bsuid:{value}"


def _possible(e164: str) -> bool:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_possible_number(number))
