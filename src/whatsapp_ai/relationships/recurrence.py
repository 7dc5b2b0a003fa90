"""Recurring reminders: RFC 5545 rules (python-dateutil) read in the contact's time zone, so a
daily 22:00 stays 22:00 local across days and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

from whatsapp_ai.relationships.errors import InvalidInputError

RULE_MAX = 200


def _zone(timezone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def checked_rule(rule: str | None) -> str | None:
    """The rule without spaces, or None; an unreadable rule is refused."""
    if rule is None or not rule.strip():
        return None
    cleaned = rule.strip().upper().removeprefix("RRULE:")
    if len(cleaned) > RULE_MAX or "DTSTART" in cleaned or not cleaned.startswith("FREQ="):
        raise InvalidInputError("the repetition rule is not valid", field="rrule")
    try:
        rrulestr(cleaned, dtstart=datetime(2026, 1, 1))
    except (ValueError, TypeError) as exc:
        raise InvalidInputError("the repetition rule is not valid", field="rrule") from exc
    if _too_often(cleaned):
        raise InvalidInputError(
            f"a reminder repeats at most every {MIN_MINUTES} minutes", field="rrule"
        )
    return cleaned


# A WhatsApp reminder more often than this would be spam.
MIN_MINUTES = 15


def _too_often(rule: str) -> bool:
    parts = dict(part.split("=", 1) for part in rule.split(";") if "=" in part)
    interval = int(parts.get("INTERVAL", "1")) if parts.get("INTERVAL", "1").isdigit() else 1
    if parts.get("FREQ") == "SECONDLY":
        return True
    return parts.get("FREQ") == "MINUTELY" and interval < MIN_MINUTES


def next_occurrence(
    rule: str, *, anchor: datetime, after: datetime, timezone: str | None
) -> datetime | None:
    """The first occurrence of ``rule`` (starting at ``anchor``'s local wall time) strictly
    after ``after``, in UTC; None when the rule has ended."""
    zone = _zone(timezone)
    local_anchor = anchor.astimezone(zone).replace(tzinfo=None)
    local_after = after.astimezone(zone).replace(tzinfo=None)
    found: datetime | None = rrulestr(rule, dtstart=local_anchor).after(local_after)
    if found is None:
        return None
    return found.replace(tzinfo=zone).astimezone(UTC)
