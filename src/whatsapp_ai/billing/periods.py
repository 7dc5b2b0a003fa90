"""Billing periods: they start at the subscription's anchor and repeat every month or year
(an anchor on the 31st falls on the last day of shorter months)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime


def _shift(anchor: datetime, months: int) -> datetime:
    """``anchor`` moved by whole months, its day clamped to the month's length."""
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(index, 12)
    day = min(anchor.day, calendar.monthrange(year, month + 1)[1])
    return anchor.replace(year=year, month=month + 1, day=day)


def period_of(anchor: datetime, period: str, now: datetime) -> tuple[datetime, datetime]:
    """The billing period [start, end) that holds ``now``."""
    step = 12 if period == "year" else 1
    anchor = anchor.astimezone(UTC)
    months = (now.year - anchor.year) * 12 + (now.month - anchor.month)
    count = months // step
    start = _shift(anchor, count * step)
    while start > now:
        count -= 1
        start = _shift(anchor, count * step)
    end = _shift(anchor, (count + 1) * step)
    while end <= now:
        count += 1
        start, end = end, _shift(anchor, (count + 1) * step)
    return start, end


def calendar_month(now: datetime) -> tuple[datetime, datetime]:
    """The calendar month (UTC) that holds ``now``: the period of a tenant with no plan."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start, _shift(start, 1)
