"""The burst decisions: how long a turn waits for more messages, and the text it reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from whatsapp_ai.ai.extract import split_intents
from whatsapp_ai.turn import burst_text, burst_wait

T0 = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
WINDOW = timedelta(milliseconds=1200)
MAX_WAIT = timedelta(seconds=5)


def _at(*seconds: float) -> list[datetime]:
    return [T0 + timedelta(seconds=s) for s in seconds]


@pytest.mark.parametrize(
    ("received", "now_s", "wait_s"),
    [
        (_at(0), 0, 1.2),  # a lone message waits the window for company
        (_at(0), 1.2, 0),
        (_at(0, 1.0), 1.5, 0.7),  # each new message restarts the window
        (_at(0, 1.0, 2.0, 3.0, 4.0), 4.5, 0.5),  # ... but never beyond 5 s from the first
        (_at(0, 1.0), 10, 0),  # messages that waited during a long turn are due at once
    ],
)
def test_a_burst_waits_for_quiet_but_not_forever(
    received: list[datetime], now_s: float, wait_s: float
) -> None:
    now = T0 + timedelta(seconds=now_s)
    wait = burst_wait(received, now=now, window=WINDOW, max_wait=MAX_WAIT)
    assert wait == timedelta(seconds=wait_s)


def test_window_zero_never_waits() -> None:
    assert burst_wait(_at(0), now=T0, window=timedelta(0), max_wait=MAX_WAIT) == timedelta(0)


def test_each_message_of_a_burst_is_a_request_of_its_own() -> None:
    text = burst_text(["oi", "gastei 50 no mercado", "  ", "e 30 de uber", "tudo bem?"])
    assert text == "oi;\ngastei 50 no mercado;\ne 30 de uber;\ntudo bem?"
    # Even with the line breaks folded into spaces, the clauses stay apart.
    flat = " ".join(text.split())
    assert [c.text for c in split_intents(flat)] == [
        "oi",
        "gastei 50 no mercado",
        "e 30 de uber",
        "tudo bem?",
    ]
