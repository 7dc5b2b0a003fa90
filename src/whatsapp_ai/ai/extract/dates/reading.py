"""Reading a text: every reader's tokens, the longest winning, joined into days with their
times ("amanhã às 15h") and widened over the preposition before them ("na sexta")."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from whatsapp_ai.ai.extract._text import fold
from whatsapp_ai.ai.extract.dates import days, periods, times
from whatsapp_ai.ai.extract.dates._shared import Context, Prefer, Reader, Token, When

# What may stand between a day and its time: "amanhã, às 15h", "15h de amanhã", "3pm on Friday".
_GAP = re.compile(r"[\s,]*(?:(?:de|do|da|on|no|na|-)\s+)?")
_PREPOSITION = re.compile(
    r"(?<!\w)(?:(?:no|na|nos|nas|em|para|pra|pro|ate|de|do|da|desde|on|in|at|for|by|until|since"
    r"|during)\s+(?:(?:o\s+)?dia\s+)?|(?:o\s+)?dia\s+)$"
)
# Every reader, in this order: where two readings cover the same text, the first one wins.
_READERS: tuple[tuple[re.Pattern[str], Reader], ...] = (
    days.READERS + periods.READERS + times.READERS
)


def _tokens(ctx: Context) -> list[Token]:
    """Every reading, the longest winning where two overlap, left to right."""
    found = [
        token
        for pattern, read in _READERS
        for match in pattern.finditer(ctx.folded)
        if (token := read(ctx, match)) is not None
    ]
    found.sort(key=lambda t: (t.start - t.end, t.start))
    chosen: list[Token] = []
    for token in found:
        if all(token.end <= c.start or token.start >= c.end for c in chosen):
            chosen.append(token)
    return sorted(chosen, key=lambda t: t.start)


_CLOCKED = ("day", "time", "part", "bare_part")


def _joins(ctx: Context, group: list[Token], token: Token) -> bool:
    if token.kind not in _CLOCKED or any(t.kind not in _CLOCKED for t in group):
        return False
    gap = ctx.folded[group[-1].end : token.start]
    has_part = any(t.kind in ("part", "bare_part") for t in group)
    if token.kind == "bare_part":
        return group[-1].kind == "day" and gap.strip() == "" and not has_part
    if _GAP.fullmatch(gap) is None:
        return False
    if token.kind == "part":
        return not has_part
    return all(t.kind != token.kind for t in group)


def _when(ctx: Context, group: list[Token]) -> When | None:
    span = (group[0].start, group[-1].end)
    first = group[0]
    if first.kind == "period":
        assert first.day is not None
        assert first.until is not None
        return When(ctx.midnight(first.day), ctx.midnight(first.until), "period", False, span)
    if first.kind == "instant":
        assert first.moment is not None
        return When(first.moment, None, "instant", True, span)
    day = next((t for t in group if t.kind == "day"), None)
    time_token = next((t for t in group if t.kind == "time"), None)
    part = next((t.part for t in group if t.kind in ("part", "bare_part")), None)
    clock = times.clock_time(time_token, part)
    if day is None:
        if clock is None or all(t.kind == "bare_part" for t in group):
            return None
        return When(_time_alone(ctx, *clock), None, "instant", True, span)
    assert day.day is not None
    if clock is None and day.hour is not None:
        clock = (day.hour, 0)
    if clock is None:
        if time_token is not None:
            return None  # "amanhã às 25h": not a time
        start = ctx.midnight(day.day)
        return When(start, ctx.midnight(day.day + timedelta(days=1)), "day", False, span)
    moment = datetime.combine(day.day, time(*clock), tzinfo=ctx.zone)
    return When(moment, None, "instant", True, span)


def _time_alone(ctx: Context, hour: int, minute: int) -> datetime:
    """A time without a day: today, or the next or previous day when `prefer` says so."""
    moment = datetime.combine(ctx.today, time(hour, minute), tzinfo=ctx.zone)
    if ctx.prefer == "future" and moment < ctx.now:
        moment = datetime.combine(ctx.today + timedelta(days=1), time(hour, minute), ctx.zone)
    elif ctx.prefer == "past" and moment > ctx.now:
        moment = datetime.combine(ctx.today - timedelta(days=1), time(hour, minute), ctx.zone)
    return moment


def _with_preposition(ctx: Context, when: When, floor: int) -> When:
    """The span widened over a preposition just before it ("na sexta", "em outubro")."""
    match = _PREPOSITION.search(ctx.folded, floor, when.span[0])
    if match is None:
        return when
    return replace(when, span=(match.start(), when.span[1]))


def find_when(
    text: str,
    *,
    now: datetime,
    tz: str,
    prefer: Prefer = "future",
    day_first: bool = True,
) -> list[When]:
    """The moments, days and periods in the text, left to right (see the module docstring).

    `now` should be aware; a naive `now` is taken as wall-clock time in `tz`.
    """
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone) if now.tzinfo is not None else now.replace(tzinfo=zone)
    ctx = Context(text, fold(text), local_now, zone, prefer, day_first)
    groups: list[list[Token]] = []
    for token in _tokens(ctx):
        if groups and _joins(ctx, groups[-1], token):
            groups[-1].append(token)
        else:
            groups.append([token])
    found: list[When] = []
    for group in groups:
        when = _when(ctx, group)
        if when is not None:
            found.append(_with_preposition(ctx, when, found[-1].span[1] if found else 0))
    return found
