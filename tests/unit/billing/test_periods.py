"""Billing periods follow the subscription's anchor; voice notes are measured from the file."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest

from whatsapp_ai.billing.periods import calendar_month, period_of
from whatsapp_ai.core.audio import audio_seconds

ANCHOR = datetime(2026, 1, 31, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        (
            datetime(2026, 1, 31, 15, 30, tzinfo=UTC),
            ANCHOR,
            datetime(2026, 2, 28, 15, 30, tzinfo=UTC),
        ),
        (datetime(2026, 2, 15, tzinfo=UTC), ANCHOR, datetime(2026, 2, 28, 15, 30, tzinfo=UTC)),
        (
            datetime(2026, 2, 28, 15, 30, tzinfo=UTC),
            datetime(2026, 2, 28, 15, 30, tzinfo=UTC),
            datetime(2026, 3, 31, 15, 30, tzinfo=UTC),
        ),
        (
            datetime(2026, 3, 31, 15, 29, tzinfo=UTC),
            datetime(2026, 2, 28, 15, 30, tzinfo=UTC),
            datetime(2026, 3, 31, 15, 30, tzinfo=UTC),
        ),
        (
            datetime(2027, 1, 2, tzinfo=UTC),
            datetime(2026, 12, 31, 15, 30, tzinfo=UTC),
            datetime(2027, 1, 31, 15, 30, tzinfo=UTC),
        ),
    ],
)
def test_monthly_periods_start_at_the_anchor_clamped_to_short_months(
    now: datetime, start: datetime, end: datetime
) -> None:
    assert period_of(ANCHOR, "month", now) == (start, end)


def test_yearly_periods_and_calendar_months() -> None:
    now = datetime(2027, 6, 1, tzinfo=UTC)
    assert period_of(ANCHOR, "year", now) == (ANCHOR.replace(year=2027), ANCHOR.replace(year=2028))
    assert calendar_month(now) == (now, datetime(2027, 7, 1, tzinfo=UTC))


def _ogg_opus(seconds: float) -> bytes:
    def page(granule: int, body: bytes) -> bytes:
        return b"OggS\x00\x00" + struct.pack("<q", granule) + b"\x00" * 12 + body

    head = b"OpusHead\x01\x01" + struct.pack("<H", 312) + b"\x80\xbb\x00\x00\x00\x00\x00"
    return page(0, head) + page(0, b"OpusTags") + page(int(seconds * 48_000) + 312, b"\x00" * 50)


def test_a_voice_notes_length_comes_from_its_last_ogg_page() -> None:
    assert audio_seconds(_ogg_opus(42.5), "audio/ogg") == pytest.approx(42.5)
    assert audio_seconds(b"\x00" * 20_000, "audio/mpeg") == 10.0  # estimated at 16 kbit/s
