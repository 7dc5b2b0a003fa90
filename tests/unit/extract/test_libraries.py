"""The extractors on the labelled sentences, and the same sentences read by well-kept libraries.

The libraries (`text2num` for numbers in words, `dateparser` for relative dates) are measured,
not used: the comparison runs when they are installed and checks the extractors still read at
least as many sentences right (the figures are in the README's extraction paragraph).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.unit.extract.labelled import DAYS, NUMBER_WORDS
from whatsapp_ai.ai.extract import find_amounts, find_when

SAO_PAULO = "America/Sao_Paulo"
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo(SAO_PAULO))

Expected = tuple[str, date] | tuple[str, date, date]


def own_numbers(text: str) -> list[int]:
    """The values the amount reader finds in the sentence (bare numbers taken as money)."""
    return [int(a.value) for a in find_amounts(text, money_hint=True)]


def own_day(text: str) -> Expected | None:
    """The first day or period `find_when` reads, as the labels write it."""
    found = find_when(text, now=NOW, tz=SAO_PAULO, prefer="past")
    if not found:
        return None
    when = found[0]
    if when.kind == "period":
        assert when.end is not None
        return ("period", when.start.date(), when.end.date())
    return ("day", when.start.date())


def day_is_right(expected: Expected, read: date | None) -> bool:
    """Whether a single date read by a library lands on the labelled day or inside the period."""
    if read is None:
        return False
    if expected[0] == "day":
        return read == expected[1]
    assert len(expected) == 3
    return expected[1] <= read < expected[2]


@pytest.mark.parametrize(("lang", "text", "values"), NUMBER_WORDS)
def test_reads_numbers_in_words(lang: str, text: str, values: list[int]) -> None:
    assert own_numbers(text) == values


@pytest.mark.parametrize(("lang", "text", "expected"), DAYS)
def test_reads_relative_days(lang: str, text: str, expected: Expected) -> None:
    assert own_day(text) == expected


def text2num_scores() -> tuple[int, int, int]:
    """Right sentences: own reader, text2num alone, text2num's digits read by the own reader."""
    alpha2digit = pytest.importorskip("text_to_num").alpha2digit
    own = library = combined = 0
    for lang, text, values in NUMBER_WORDS:
        digits = alpha2digit(text, lang)
        own += own_numbers(text) == values
        library += [int(n) for n in re.findall(r"\d+", digits)] == values
        combined += own_numbers(digits) == values
    return own, library, combined


def dateparser_score() -> int:
    """Right sentences when `dateparser.search.search_dates` reads them (its better preference)."""
    search = pytest.importorskip("dateparser.search")
    base = NOW.replace(tzinfo=None)
    scores = []
    for prefer in ("past", "future"):
        right = 0
        for lang, text, expected in DAYS:
            settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": prefer}
            found = search.search_dates(text, languages=[lang], settings=settings)
            right += day_is_right(expected, found[0][1].date() if found else None)
        scores.append(right)
    return max(scores)


def test_own_number_words_read_at_least_as_well_as_text2num() -> None:
    own, library, combined = text2num_scores()
    assert own >= max(library, combined)


def test_own_relative_days_read_at_least_as_well_as_dateparser() -> None:
    own = sum(own_day(text) == expected for _, text, expected in DAYS)
    assert own >= dateparser_score()
