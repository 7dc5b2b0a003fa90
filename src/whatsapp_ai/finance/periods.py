"""The contact's own calendar: time zones, local days and months."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from whatsapp_ai.finance.errors import InvalidEntryError

# Contacts who never told us their time zone are most likely in Brazil's most populous one.
DEFAULT_TIMEZONE = "America/Sao_Paulo"


def zone_of(timezone: str | None) -> ZoneInfo:
    """The contact's time zone, or the default when unset or unknown."""
    try:
        return ZoneInfo(timezone or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def local_day(moment: datetime, timezone: str | None) -> date:
    """The calendar day ``moment`` falls on where the contact lives."""
    return moment.astimezone(zone_of(timezone)).date()


def month_range(year: int, month: int) -> tuple[date, date]:
    """The first and last day of a month."""
    if not 1 <= month <= 12:
        raise InvalidEntryError("from 1 to 12", field="month")
    if not 1 <= year <= 9999:
        raise InvalidEntryError("from 1 to 9999", field="year")
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def previous_month(year: int, month: int) -> tuple[int, int]:
    """The year and number of the month before."""
    return (year, month - 1) if month > 1 else (year - 1, 12)
