"""Times of day: clock times ("15:30", "3h", "3pm", "às duas"), noon and midnight, and parts
of the day ("de manhã", "à noite") with the hours they stand for."""

from __future__ import annotations

import re
from typing import Literal

from whatsapp_ai.ai.extract._text import next_word
from whatsapp_ai.ai.extract.dates._shared import Context, Reader, Token, any_of

_PARTS: dict[str, int] = {
    "madrugada": 3, "cedo": 8, "manha": 9, "morning": 9, "tarde": 15, "afternoon": 15,
    "noite": 20, "evening": 20, "night": 20,
}  # fmt: skip
_AFTERNOON = frozenset({"tarde", "afternoon", "noite", "evening", "night"})
# Hours in PT words, after "às" ("às duas da tarde").
_HOUR_WORDS: dict[str, int] = {
    "uma": 1, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5, "seis": 6, "sete": 7, "oito": 8,
    "nove": 9, "dez": 10, "onze": 11, "doze": 12,
}  # fmt: skip


_PRE = r"(?:(?<!\w)(?P<pre>por volta das|ate as|as|a|at|@|pelas|das|by|around)\s*)?"
_PART_AFTER = (
    r"(?:\s+(?:da|de|in the|at)\s+(?P<part>manha|tarde|noite|madrugada|morning|afternoon"
    r"|evening|night)\b)?"
)
_AMPM = r"\s*(?P<ampm>a\.?m\.?|p\.?m\.?)(?![\w])"
_CLOCK = re.compile(
    rf"{_PRE}(?<![\d:/.,])(?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?!\d)(?:\s*(?:hs|hrs|h|horas)\b)?"
    rf"(?:{_AMPM})?{_PART_AFTER}"
)
_HOURS = re.compile(
    rf"{_PRE}(?<![\d:/.,])(?P<h>\d{{1,2}})(?P<u>\s?(?:hs|hrs|h)|\s+horas?)"
    r"(?:\s?(?P<m>\d{2})(?:\s?min)?)?(?![\w])(?:\s+e\s+(?P<half>meia))?"
    rf"{_PART_AFTER}"
)
_MERIDIEM = re.compile(
    rf"{_PRE}(?<![\d:/.,])(?P<h>\d{{1,2}})(?::(?P<m>\d{{2}}))?{_AMPM}{_PART_AFTER}"
)
# Minutes said after "e" ("às 7 e 15", "às 9 e vinte"); in words only without "às".
_MINUTE_WORDS: dict[str, int] = {
    "cinco": 5, "dez": 10, "quinze": 15, "vinte": 20, "vinte e cinco": 25, "meia": 30,
    "trinta": 30, "trinta e cinco": 35, "quarenta": 40, "quarenta e cinco": 45,
    "cinquenta": 50, "cinquenta e cinco": 55,
}  # fmt: skip
_MINUTES = r"(?:[0-5]\d|[1-9]|" + "|".join(sorted(_MINUTE_WORDS, key=len, reverse=True)) + ")"
_BARE_HOUR = re.compile(
    r"(?<!\w)(?P<pre>por volta das|ate as|as|at|@|pelas|das|around)\s+"
    rf"(?P<h>\d{{1,2}}|{any_of(_HOUR_WORDS)})(?:\s+e\s+(?P<half>{_MINUTES})(?!\s*(?:reais|conto|pila)))?"
    r"(?:\s+(?:horas?|o'?clock))?(?![\w%])(?!\s*[/:.,h]?\d)"
    rf"{_PART_AFTER}"
)
# "amnh 7 e meia", "9 e quinze": an hour and its half or quarter, without "às".
_HALF_PAST = re.compile(
    rf"(?<![\w:/.,])(?P<h>\d{{1,2}})\s+e\s+(?P<half>meia|quinze)\b(?!\s*(?:hora|min)){_PART_AFTER}"
)
_NOON = re.compile(
    r"(?:(?<!\w)(?:ao|a|at|as)\s+)?(?P<w>meio[- ]dia|noon|midday|meia[- ]noite|midnight)"
    r"(?:\s+e\s+(?P<half>meia))?\b"
)
_PART = re.compile(
    r"\b(?:de|pela|a|na|in the|during the|at)\s+(?P<part>manha|tarde|noite|madrugada|morning"
    r"|afternoon|evening|night)\b"
)
_BARE_PART = re.compile(rf"\b(?P<part>{any_of(_PARTS)})\b")


def _time_token(
    match: re.Match[str],
    hour: int,
    minute: int,
    *,
    meridiem: Literal["am", "pm", "fixed"] | None = None,
    bare: bool = False,
) -> Token | None:
    if minute > 59 or hour > 23:
        return None
    part = match.groupdict().get("part")
    return Token(
        match.start(), match.end(), "time", hour=hour, minute=minute, meridiem=meridiem,
        bare=bare, part=part,
    )  # fmt: skip


def _half(match: re.Match[str]) -> int:
    said = match.groupdict().get("half") or ""
    return int(said) if said.isdigit() else _MINUTE_WORDS.get(said, 0)


# "quinze pras oito", "dez pra meia-noite" is rare; "5 pras 9", "vinte para as 10": before the hour.
_TO_HOUR = re.compile(
    rf"(?<![\w:/.,])(?P<before>[1-9]|[1-5]\d|{any_of(_MINUTE_WORDS)})\s+(?:pras?|para\s+as"
    rf"|pra\s+as)\s+(?:as\s+)?(?P<h>\d{{1,2}}|{any_of(_HOUR_WORDS)})\b(?!\s*[/:.,h]?\d)"
    rf"{_PART_AFTER}"
)


def _read_to_hour(ctx: Context, match: re.Match[str]) -> Token | None:
    written, before = match.group("h"), match.group("before")
    hour = int(written) if written.isdigit() else _HOUR_WORDS[written]
    minutes = int(before) if before.isdigit() else _MINUTE_WORDS[before]
    if not 1 <= minutes <= 30 or not 1 <= hour <= 24:
        return None
    return _time_token(match, (hour - 1) % 24, 60 - minutes, bare=True)


def _read_clock(ctx: Context, match: re.Match[str]) -> Token | None:
    ampm = match.group("ampm")
    meridiem: Literal["am", "pm"] | None = None
    if ampm:
        meridiem = "pm" if ampm.startswith("p") else "am"
    return _time_token(match, int(match.group("h")), int(match.group("m")), meridiem=meridiem)


def _read_hours(ctx: Context, match: re.Match[str]) -> Token | None:
    spelled = match.group("u").strip().startswith("hora")
    if spelled and not (match.group("pre") or match.group("part")):
        return None  # "2 horas de reunião" is a duration
    minute = int(match.group("m")) if match.group("m") else _half(match)
    return _time_token(match, int(match.group("h")), minute)


def _read_meridiem(ctx: Context, match: re.Match[str]) -> Token | None:
    meridiem: Literal["am", "pm"] = "pm" if match.group("ampm").startswith("p") else "am"
    minute = int(match.group("m")) if match.group("m") else 0
    return _time_token(match, int(match.group("h")), minute, meridiem=meridiem)


def _read_bare_hour(ctx: Context, match: re.Match[str]) -> Token | None:
    written = match.group("h")
    follower = next_word(ctx.folded, match.end())
    if follower and len(follower) > 3 and follower.endswith("s") and follower != "horas":
        return None  # "as 3 pizzas": the article, not the hour
    hour = int(written) if written.isdigit() else _HOUR_WORDS[written]
    return _time_token(match, hour, _half(match), bare=True)


def _read_noon(ctx: Context, match: re.Match[str]) -> Token | None:
    word = match.group("w")
    hour = 12 if word.startswith(("meio", "noon", "midday")) else 0
    return _time_token(match, hour, _half(match), meridiem="fixed")


def _read_part(ctx: Context, match: re.Match[str]) -> Token | None:
    return Token(match.start(), match.end(), "part", part=match.group("part"))


def _read_bare_part(ctx: Context, match: re.Match[str]) -> Token | None:
    return Token(match.start(), match.end(), "bare_part", part=match.group("part"))


# The time of day readers, in the order they are tried.
READERS: tuple[tuple[re.Pattern[str], Reader], ...] = (
    (_CLOCK, _read_clock),
    (_HOURS, _read_hours),
    (_MERIDIEM, _read_meridiem),
    (_BARE_HOUR, _read_bare_hour),
    (_HALF_PAST, _read_bare_hour),
    (_TO_HOUR, _read_to_hour),
    (_NOON, _read_noon),
    (_PART, _read_part),
    (_BARE_PART, _read_bare_part),
)


def clock_time(token: Token | None, part: str | None) -> tuple[int, int] | None:
    """The hour and minute a time token (with the part of the day around it) stands for."""
    if token is None or token.hour is None:
        return (_PARTS[part], 0) if part else None
    hour, part = token.hour, token.part or part
    if token.meridiem in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if token.meridiem == "pm" else 0)
    elif token.meridiem is None:
        afternoon = part in _AFTERNOON and hour < 12
        if afternoon or (part is None and token.bare and 1 <= hour <= 6):
            hour += 12
    return hour, token.minute
